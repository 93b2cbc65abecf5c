/**
 * The process's Prometheus metrics. Labels stay low-cardinality: no contact or location ids.
 * Two registries: `registry` counts what this process did (summed across processes when
 * WEB_PROCESSES > 1, see host-metrics.ts); `scrapeRegistry` holds gauges read from Redis at scrape time,
 * the same for every process, so they must not be summed.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { eventLoopDelayMetricNames, registerEventLoopDelay } from './event-loop-delay.js';
import { createLabelTally } from './label-tally.js';

export interface Metrics {
  registry: Registry;
  scrapeRegistry: Registry;
  /** Read it, don't add to it: counts go through countWebhook. */
  webhooks: Counter<'source' | 'type' | 'outcome'>;
  /** One inbound webhook by source, event type and outcome; allocates nothing per call (label-tally.ts). */
  countWebhook(source: string, type: string, outcome: string): void;
  jobs: Gauge<'queue' | 'state'>;
  jobDuration: Histogram<'queue' | 'outcome'>;
  upstreamCalls: Counter<'system' | 'status'>;
  upstreamDuration: Histogram<'system'>;
  rateLimitWaits: Counter<'system' | 'scope'>;
  deadLetters: Gauge;
  skipped: Counter<'queue' | 'reason'>;
  circuitState: Gauge<'system'>;
}

/** How often the event-loop lag is sampled (see createMetrics). */
export const EVENT_LOOP_SAMPLE_MS = 100;

const METRIC_PREFIX = 'ghl_bridge_';
/** About 24.8 days: a sampling period no process waits out. */
const NEVER_MS = 2 ** 31 - 1;

export function createMetrics(): Metrics {
  const registry = new Registry();
  const scrapeRegistry = new Registry();
  // The event-loop delay is sampled on a libuv timer. At prom-client's default of every 10 ms an idle
  // process wakes 100 times a second and spends about 5 ms of CPU a second on it (0.5 % of a core, per
  // process); every 100 ms costs about 1 ms and still catches the stalls that matter to a webhook
  // receiver, which are far longer than that. prom-client's own sampler cannot be left out, so it is
  // set to a period it never reaches and its gauges give way to event-loop-delay.ts's, which also take
  // the period out of the figures (prom-client's read 10 ms on an idle process).
  collectDefaultMetrics({ register: registry, prefix: METRIC_PREFIX, eventLoopMonitoringPrecision: NEVER_MS });
  for (const name of eventLoopDelayMetricNames(METRIC_PREFIX)) registry.removeSingleMetric(name);
  registerEventLoopDelay(registry, { prefix: METRIC_PREFIX, periodMs: EVENT_LOOP_SAMPLE_MS });
  const webhookTally = createLabelTally(['source', 'type', 'outcome'] as const);
  return {
    registry,
    scrapeRegistry,
    webhooks: new Counter({
      name: 'ghl_bridge_webhooks_total',
      help: 'Inbound webhooks by source, event type and outcome (accepted, duplicate, ignored, rejected, unavailable)',
      labelNames: ['source', 'type', 'outcome'],
      registers: [registry],
      collect() {
        webhookTally.flushInto(this);
      },
    }),
    countWebhook: (source, type, outcome) => webhookTally.add(source, type, outcome),
    jobs: new Gauge({
      name: 'ghl_bridge_jobs',
      help: 'Jobs by queue and state, read from Redis at scrape time (state="inbox": accepted webhooks not yet moved into their queue)',
      labelNames: ['queue', 'state'],
      registers: [scrapeRegistry],
    }),
    jobDuration: new Histogram({
      name: 'ghl_bridge_job_duration_seconds',
      help: 'Processing time of jobs by queue and outcome',
      labelNames: ['queue', 'outcome'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    upstreamCalls: new Counter({
      name: 'ghl_bridge_upstream_calls_total',
      help: 'Calls to outside APIs by system and HTTP status (or timeout/network)',
      labelNames: ['system', 'status'],
      registers: [registry],
    }),
    upstreamDuration: new Histogram({
      name: 'ghl_bridge_upstream_duration_seconds',
      help: 'Duration of calls to outside APIs',
      labelNames: ['system'],
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    rateLimitWaits: new Counter({
      name: 'ghl_bridge_rate_limit_waits_total',
      help: 'Times a job waited for a rate budget (scope: window, day, upstream-429)',
      labelNames: ['system', 'scope'],
      registers: [registry],
    }),
    deadLetters: new Gauge({
      name: 'ghl_bridge_dead_letters',
      help: 'Jobs in the dead-letter queue, read at scrape time',
      registers: [scrapeRegistry],
    }),
    circuitState: new Gauge({
      name: 'ghl_bridge_circuit_state',
      help: 'Circuit breaker per upstream: 0 closed, 1 half-open, 2 open',
      labelNames: ['system'],
      registers: [scrapeRegistry],
    }),
    skipped: new Counter({
      name: 'ghl_bridge_jobs_skipped_total',
      help: 'Jobs completed without work, by queue and reason',
      labelNames: ['queue', 'reason'],
      registers: [registry],
    }),
  };
}
