/**
 * What one round of bench/ingest.ts measures (the floor and the bridge, side by side), the table of
 * the rounds (the figures are their medians, bench/lib/report.ts) and how it was all measured.
 */
import type { CorePlan } from './cores.js';
import type { LoadResult, OpenLoopResult } from './load.js';

export interface Measured {
  result: LoadResult;
  /** Over the measured part, after the warm-up. */
  cpuUsPerRequest: number;
  /** Redis's CPU per request (its side of the appends), when measured. */
  redisCpuUsPerRequest?: number;
  /** Over the warm-up: a fresh process compiling its path. */
  warmupCpuUsPerRequest: number;
  /** performance.now() when the measured part started. */
  measuringAt: number;
  peakRssMb: number;
}

/** The floor's run in one round: closed loop, then (Ed25519) the fixed offered load. */
export interface FloorRun {
  closed: Measured;
  open?: OpenLoopResult;
  /** The server's CPU per request sent during the open loop. */
  openCpuUsPerRequest?: number;
  /** Answered 200 but not in the floor's list. */
  lost: number;
}

/** The bridge's run: closed loop, then (one Ed25519 process) the fixed offered load. */
export interface BridgeRun {
  closed: Measured;
  open?: OpenLoopResult;
  openCpuUsPerRequest?: number;
  accepted: number;
  lost: number;
  refused: number;
}

/** One round: the floor and the single-process bridge, side by side on a fresh Redis (bench/ingest.ts, pairedRound). */
export interface Round {
  floor: FloorRun;
  bridge: BridgeRun;
}

/** The rounds side by side, for BENCHMARKS.md. */
export function roundsMarkdown(name: string, rounds: Round[], openRate: number): string {
  const fixed = (value: number | undefined, digits = 0) => (value === undefined ? '' : value.toFixed(digits));
  const rows = rounds.map(({ floor, bridge }, index) => {
    const [f, b] = [floor.closed, bridge.closed];
    return `| ${index + 1} | ${fixed(f.result.throughput)} | ${fixed(b.result.throughput)} | ${fixed(b.result.throughput / f.result.throughput, 2)}× | ${fixed(f.cpuUsPerRequest)} | ${fixed(b.cpuUsPerRequest)} | ${fixed(b.cpuUsPerRequest / f.cpuUsPerRequest, 2)}× | ${fixed(floor.open?.p99, 1)} | ${fixed(bridge.open?.p99, 1)} | ${floor.open && bridge.open ? `${fixed(floor.open.startLagP99, 1)} / ${fixed(bridge.open.startLagP99, 1)}` : ''} | ${fixed(floor.openCpuUsPerRequest)} | ${fixed(bridge.openCpuUsPerRequest)} | ${fixed(f.redisCpuUsPerRequest)} | ${fixed(b.redisCpuUsPerRequest)} |`;
  });
  return [
    `${name}: each round, a fresh floor and bridge (one \`web\` process) side by side, in alternating slices; the figures above are the medians of these rounds' ratios. Redis µs/req: what the appends cost Redis per request (information; Redis runs beside the generators, not on the server's core).`,
    '',
    `| round | floor req/s | bridge req/s | ratio | floor µs/req | bridge µs/req | ratio | floor p99 at ${openRate}/s (ms) | bridge p99 at ${openRate}/s (ms) | generator's start lag p99, floor / bridge run (ms) | floor µs/req at ${openRate}/s | bridge µs/req at ${openRate}/s | floor Redis µs/req | bridge Redis µs/req |`,
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows,
  ].join('\n');
}

export interface Method {
  connections: number;
  warmupRequests: number;
  durationMs: number;
  slices: number;
  rsaSlices: number;
  rounds: number;
  ed25519Requests: number;
  rsaRequests: number;
  openRate: number;
  openWarmupMs: number;
  webProcesses: number;
  cores: CorePlan | undefined;
}

/** How the ingest figures were measured, for BENCHMARKS.md under them. */
export function methodMarkdown(method: Method): string {
  const { connections, warmupRequests, durationMs, slices, rounds, openRate, cores } = method;
  const seconds = (ms: number) => `${ms / 1000} s`;
  return [
    `Throughput and CPU: closed loop, ${connections} connections, ${rounds} rounds. In each round a fresh floor and a fresh single-process bridge run side by side on an emptied Redis (its append-only file compacted; Redis never rewrites that file by itself during the benchmark, since a rewrite forks and writes the whole data set). `,
    `Each is first warmed up with ${warmupRequests} requests (a fresh bridge process gets cheaper per request over its first ~50,000 requests, the floor over ~10,000; the warm-up's own CPU per request is reported beside the targets), then both are measured in ${slices} alternating slices of ${seconds(durationMs / slices)} each, in the order floor, bridge, bridge, floor, …, each slice's first ${2 * connections} requests untimed: this box's speed drifts by ±20 % over tens of seconds, which alternating slices put on both servers alike (bench/lib/paired-slices.ts). `,
    "A round's figures pool its slices; the targets are judged on the median of the rounds' own ratios. ",
    cores
      ? `The servers under test run on core ${cores.server}, alone; the load generators and Redis on core ${cores.others} (bench/lib/cores.ts), so a server's throughput is what it does on one core of its own, not where the scheduler put its neighbours. `
      : 'Nothing is pinned to cores (one core, or no `taskset`): the load generator, Redis and the server share the machine. ',
    `The floor and the bare route reuse their bodies; the bridge sends each pre-signed body once (the same bodies in every round: Redis is emptied between rounds, so none is a redelivery; ${method.ed25519Requests} Ed25519 bodies, shared out evenly between its slices). `,
    `RSA-4096 (information): ${method.rsaRequests} bodies (signing costs ~5 ms each); each bridge is warmed up on Ed25519 bodies first (the same path but the verifier), then on the first fifth of the RSA bodies, untimed, and its ${method.rsaSlices} slices (RSA runs ${method.rsaSlices} of each) share out the rest, so they are shorter than the floor's. `,
    `p99 at ${openRate}/s: open loop, each request due at a fixed time and sent whatever the answers (when the generator's timer next wakes, within about 1 ms: it sleeps rather than spin), latency counted from when it was due (no coordinated omission; the timer's delay counts too), from a generator in a process of its own holding only the bodies it sends; ${seconds(method.openWarmupMs)} warm-up then ${seconds(durationMs)} measured, in each round against the same floor and bridge after their slices (the bridge with bodies of its own), the floor first in odd rounds and the bridge first in even ones. The table gives, beside each p99, the p99 of the generator's start lag (from when a request was due to when it went to the HTTP client): it is part of the latency and counts against the server, and shows how much of a p99 was the generator's own lateness on a core it shares with Redis. `,
    "The floor is `bench/floor-server.ts`: the same Fastify, raw body, the bridge's own signature verifier, a micro-batched RPUSH to Redis (batched as the bridge batches: one event-loop turn, or what arrived while the previous batch was stored, up to 100 requests, one pipeline); no parse, schema, dedupe, logging or metrics. ",
    "Every server runs in its own process with the service's node flags (the bridge as `npm start` runs it, `dist/main.js`; the baselines through tsx), the bridge with its production defaults (LOG_LEVEL info, stdout discarded). ",
    "\"CPU per request\" is the server process's user + system time, all its threads (from /proc), over the measured parts, divided by the requests sent in them. \"Redis µs/req\" is Redis's own user + system time over the same parts (one server sends at a time). ",
    `The bridge is also measured once as WEB_PROCESSES=${method.webProcesses} (node:cluster, one port, on every core), against the rounds' median single-process floor. `,
    '"Lost" = answered `200 accepted` (warm-up included) but that id neither in the queue inbox (`web` runs no pump) nor a job in Redis afterwards. ',
    'The verifier comparison runs in the benchmark process: 5 interleaved 1 s rounds of each, median round.',
  ].join('');
}
