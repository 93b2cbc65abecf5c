/**
 * Benchmark 5, second half: RSS of `all` over a soak at 200 events/s through the full flow
 * (BENCH_SOAK_SECONDS: scripts/bench.mjs sets 600 when the soak runs alone, `npm run bench -- soak`,
 * and 120 in the full run; run directly, 120). The memory claim needs the 600 s soak. Flat = the median RSS of the
 * last third is within 5 % of the median of the middle third, and the least-squares slope over
 * the last two thirds is reported beside it.
 */
import { startFlowWorld, openLoop } from './lib/flow-world.js';
import { detail, emit, log, marginOf, median } from './lib/report.js';

const BENCH = 'memory';
const RATE = Number(process.env.BENCH_SOAK_RATE ?? 200);
const SECONDS = Number(process.env.BENCH_SOAK_SECONDS ?? 120);
const FULL_SOAK_SECONDS = 600;

/** Least-squares slope of (seconds, MB), in MB per minute. */
function slopePerMinute(samples: { t: number; mb: number }[]): number {
  const n = samples.length;
  if (n < 2) return 0;
  const meanT = samples.reduce((sum, s) => sum + s.t, 0) / n;
  const meanMb = samples.reduce((sum, s) => sum + s.mb, 0) / n;
  const num = samples.reduce((sum, s) => sum + (s.t - meanT) * (s.mb - meanMb), 0);
  const den = samples.reduce((sum, s) => sum + (s.t - meanT) ** 2, 0);
  return den === 0 ? 0 : (num / den) * 60;
}

const world = await startFlowWorld();
try {
  const samples: { t: number; mb: number }[] = [];
  const started = performance.now();
  const sampler = setInterval(() => samples.push({ t: (performance.now() - started) / 1000, mb: world.bridge.rssMb() }), 1_000);
  let written = 0;
  const writes = setInterval(() => (written += world.collectWrites().size), 250);
  const sent = await openLoop(RATE, SECONDS, (index) => void world.createContact(index));
  clearInterval(sampler);
  clearInterval(writes);
  written += world.collectWrites().size;
  const third = Math.floor(samples.length / 3);
  const middle = samples.slice(third, 2 * third).map((s) => s.mb);
  const last = samples.slice(2 * third).map((s) => s.mb);
  const peak = Math.max(...samples.map((s) => s.mb));
  const growth = (median(last) - median(middle)) / median(middle);
  const slope = slopePerMinute(samples.slice(third));
  log(BENCH, `soak: ${sent} events, ${written} written during the run, RSS ${samples.map((s) => Math.round(s.mb)).join(' ')}`);
  emit({ bench: BENCH, figure: `peak RSS of \`all\` over a ${SECONDS} s soak at ${RATE} events/s`, value: peak, unit: 'MB', target: '≤ 200 MB', ...marginOf(peak, 200, 'lower') });
  emit({ bench: BENCH, figure: 'RSS growth, last third vs middle third (medians)', value: growth * 100, unit: '%', target: '≤ 5 % (flat)', ...marginOf(growth * 100, 5, 'lower') });
  emit({ bench: BENCH, figure: 'RSS trend over the last two thirds', value: slope, unit: 'MB/min' });
  emit({ bench: BENCH, figure: 'soak events whose fields were written before the run ended', value: written, unit: 'events', baseline: sent, ratio: written / sent });
  const everyTen = samples.filter((_, index) => index % 10 === 0).map((s) => `${Math.round(s.t)} s: ${Math.round(s.mb)} MB`);
  detail(
    BENCH,
    `Soak: ${sent} contacts created at ${RATE}/s for ${SECONDS} s through the full flow (same setup as the latency benchmark); RSS of the \`all\` process sampled every second from /proc. ` +
      (SECONDS >= FULL_SOAK_SECONDS
        ? `This is the 10-minute soak the memory claim needs. `
        : `**A ${SECONDS} s soak, shorter than the 10-minute soak the memory claim needs** (\`npm run bench -- soak\` runs that). `) +
      `RSS every 10 s: ${everyTen.join(', ')}.`,
  );
} finally {
  await world.close();
}
