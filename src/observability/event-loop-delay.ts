/**
 * The event-loop delay gauges of prom-client's default metrics (`<prefix>nodejs_eventloop_lag_{min,max,mean,
 * stddev,p50,p90,p99}_seconds`, each over the time since the last scrape), sampled on a coarser timer and
 * with that timer's own period taken out.
 *
 * Node's sampler (perf_hooks.monitorEventLoopDelay) records the time between two runs of its timer, the
 * period included: prom-client reports an idle process's delay as its 10 ms period, and at a 100 ms
 * period it would read 100 ms, an alert for nothing. Here every figure is what the loop added to the
 * period (0 when idle); the spread (stddev) needs no correction.
 */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { Gauge, type Registry } from 'prom-client';

type Aggregator = 'min' | 'max' | 'average';

/** What the gauges read of Node's sampler. */
export type DelaySampler = Pick<IntervalHistogram, 'count' | 'min' | 'max' | 'mean' | 'stddev' | 'percentile'>;

/** The gauges, by name suffix, with how WEB_PROCESSES > 1 combines the processes' values (as prom-client does). */
const FIGURES: readonly { suffix: string; help: string; aggregator: Aggregator; read: (sampler: DelaySampler) => number; shifted: boolean }[] = [
  { suffix: 'min', help: 'The minimum recorded event loop delay.', aggregator: 'min', read: (h) => h.min, shifted: true },
  { suffix: 'max', help: 'The maximum recorded event loop delay.', aggregator: 'max', read: (h) => h.max, shifted: true },
  { suffix: 'mean', help: 'The mean of the recorded event loop delays.', aggregator: 'average', read: (h) => h.mean, shifted: true },
  { suffix: 'stddev', help: 'The standard deviation of the recorded event loop delays.', aggregator: 'average', read: (h) => h.stddev, shifted: false },
  { suffix: 'p50', help: 'The 50th percentile of the recorded event loop delays.', aggregator: 'average', read: (h) => h.percentile(50), shifted: true },
  { suffix: 'p90', help: 'The 90th percentile of the recorded event loop delays.', aggregator: 'average', read: (h) => h.percentile(90), shifted: true },
  { suffix: 'p99', help: 'The 99th percentile of the recorded event loop delays.', aggregator: 'average', read: (h) => h.percentile(99), shifted: true },
];

/** The names prom-client's default metrics give these gauges (they are replaced by ours). */
export function eventLoopDelayMetricNames(prefix: string): string[] {
  return FIGURES.map(({ suffix }) => `${prefix}nodejs_eventloop_lag_${suffix}_seconds`);
}

/** One figure in seconds from a sampler with period `periodMs`: what the loop added to the period, never below 0; 0 with no sample yet. */
export function delaySeconds(sampler: DelaySampler, read: (sampler: DelaySampler) => number, periodMs: number, shifted: boolean): number {
  if (sampler.count === 0) return 0;
  const seconds = (shifted ? read(sampler) - periodMs * 1e6 : read(sampler)) / 1e9;
  return Number.isFinite(seconds) ? Math.max(0, seconds) : 0;
}

/** Starts the sampler and registers its gauges in `registry`; the figures cover the time since the last scrape. */
export function registerEventLoopDelay(registry: Registry, options: { prefix: string; periodMs: number }): void {
  const sampler = monitorEventLoopDelay({ resolution: options.periodMs });
  sampler.enable();
  const gauges: { figure: (typeof FIGURES)[number]; gauge: Gauge }[] = [];
  // The first gauge's collect sets them all and starts a new interval (a scrape collects every metric, in order).
  const collect = () => {
    for (const { figure, gauge } of gauges) gauge.set(delaySeconds(sampler, figure.read, options.periodMs, figure.shifted));
    sampler.reset();
  };
  for (const figure of FIGURES) {
    const name = `${options.prefix}nodejs_eventloop_lag_${figure.suffix}_seconds`;
    gauges.push({ figure, gauge: new Gauge({ name, help: figure.help, aggregator: figure.aggregator, registers: [registry], ...(gauges.length === 0 ? { collect } : {}) }) });
  }
}
