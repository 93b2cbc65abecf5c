/**
 * V8 memory flags for the service process, shared by `npm start`, the benchmarks and (copied, kept
 * equal by a test) the Dockerfile's NODE_OPTIONS. V8's defaults size the heap for throughput: under a
 * steady webhook load the young generation commits 3 × 16 MB and the old generation grows well past
 * what is live before a full collection. The live heap of `all` under load is far smaller (see
 * BENCHMARKS.md), so a smaller young generation and an old-generation ceiling keep the RSS flat and
 * bounded. Measured A/B (bench/latency.ts, bench/soak.ts): semi-space 8 MB costs no latency against
 * V8's 16 MB, while 4 MB raised the p99 by about half. Whoever sets these flags in NODE_OPTIONS keeps
 * their own values.
 */
export const SERVICE_NODE_FLAGS = ['--max-semi-space-size=8', '--max-old-space-size=160'];

/** The flags to pass on the command line: ours, except those NODE_OPTIONS already sets. */
export function serviceNodeFlags(nodeOptions = process.env.NODE_OPTIONS ?? '') {
  return SERVICE_NODE_FLAGS.filter((flag) => !nodeOptions.includes(flag.split('=')[0]));
}
