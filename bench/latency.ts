/**
 * Benchmark 4, end-to-end latency: a contact created in the GHL simulator → its ContactCreate
 * webhook → verified, queued, routed, synced → custom fields written back to the simulator (the
 * PUT reaching it), at 100 events/s open loop, simulators adding no latency. Baseline: the same
 * path with the bridge doing nothing but one GET and one PUT would still cost two loopback round
 * trips; there is no cheaper honest baseline in-run, so the figure is judged against its target.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { startFlowWorld, openLoop } from './lib/flow-world.js';
import { detail, emit, log, marginOf, percentile } from './lib/report.js';

const BENCH = 'latency';
const RATE = Number(process.env.BENCH_LATENCY_RATE ?? 100);
const SECONDS = Number(process.env.BENCH_LATENCY_SECONDS ?? 20);
const WARMUP_EVENTS = RATE * 2;

const world = await startFlowWorld();
try {
  const latencies = new Map<string, number>();
  const warmupIds = new Set<string>();
  const collect = () => {
    for (const [id, ms] of world.collectWrites()) if (!warmupIds.has(id)) latencies.set(id, ms);
  };
  const poller = setInterval(collect, 20);
  const sent = await openLoop(RATE, SECONDS, (index) => {
    const { id } = world.createContact(index);
    if (index < WARMUP_EVENTS) warmupIds.add(id);
  });
  const deadline = Date.now() + 30_000;
  while (latencies.size < sent - WARMUP_EVENTS && Date.now() < deadline) await sleep(100);
  clearInterval(poller);
  collect();
  const values = [...latencies.values()].sort((a, b) => a - b);
  const measured = sent - WARMUP_EVENTS;
  log(BENCH, `${values.length}/${measured} measured events written; p50 ${percentile(values, 50)} ms, p99 ${percentile(values, 99)} ms, max ${values.at(-1)} ms`);
  const p99 = percentile(values, 99);
  emit({ bench: BENCH, figure: `p50 webhook → fields written at ${RATE} events/s`, value: percentile(values, 50), unit: 'ms' });
  emit({ bench: BENCH, figure: `p99 webhook → fields written at ${RATE} events/s`, value: p99, unit: 'ms', target: '≤ 250 ms', ...marginOf(p99, 250, 'lower') });
  emit({ bench: BENCH, figure: 'events whose fields were never written (within 30 s after the run)', value: measured - values.length, unit: 'events', target: '= 0', met: measured === values.length });
  const calls = world.ghl.calls.length;
  detail(
    BENCH,
    `${sent} contacts created in the GHL simulator at ${RATE}/s for ${SECONDS} s (first ${WARMUP_EVENTS} not timed); each one's ContactCreate webhook is signed (Ed25519) and delivered by the simulator to the bridge (\`all\`, own process). ` +
      `Latency = creation → the PUT /contacts/:id that writes the Trustpilot company fields reaching the simulator. COALESCE_WINDOW_MS=0 (the default 2000 adds 2 s by design), GHL and Trustpilot limits raised so no rate-limit wait is measured. ` +
      `The bridge's own writes echo back as webhooks, as in production. GHL calls in the run: ${calls}; Trustpilot calls: ${world.tp.calls.length}. Simulators and the event source share the bench process.`,
  );
} finally {
  await world.close();
}
