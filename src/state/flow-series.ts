/**
 * Per-minute (and per-hour) counters of what flows through the bridge, for the dashboard's charts:
 * webhooks by outcome, syncs by outcome, end-to-end latency in buckets, GHL calls per location.
 * One Redis hash per minute and one per hour, each field a counter; every process adds to the same
 * hashes, so the charts show the whole deployment. Memory is bounded by the TTLs: a day of minutes
 * and a few days of hours.
 */
import type { RedisClient } from './keys.js';

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
const MINUTE_TTL_SECONDS = 25 * 3_600;
const HOUR_TTL_SECONDS = 3 * 86_400;

/** Upper bounds (ms) of the latency buckets; the last bucket is everything slower. */
export const LATENCY_BUCKETS_MS = [100, 250, 500, 1_000, 2_500, 5_000, 10_000, 30_000, 60_000, 300_000] as const;

export type SeriesRange = 'hour' | 'day';

export interface SeriesPoint {
  /** Start of the minute (hour view) or hour (day view), epoch ms. */
  at: number;
  counts: Record<string, number>;
}

export interface FlowSeries {
  /** Adds to the counters of the minute and hour holding `at`: one pipelined round trip. */
  add(counts: Record<string, number>, at?: number): Promise<void>;
  /** The last 60 minutes or the last 24 hours, oldest first, every step present (empty ones too). */
  read(range: SeriesRange, now?: number): Promise<SeriesPoint[]>;
}

/** The latency bucket field for one end-to-end latency. */
export function latencyField(latencyMs: number): string {
  const bound = LATENCY_BUCKETS_MS.find((limit) => latencyMs <= limit);
  return `latency:${bound ?? 'inf'}`;
}

/** A percentile (0..1) of the latencies counted in `counts`, as the bucket's upper bound; undefined when none. */
export function latencyPercentile(counts: Record<string, number>, quantile: number): number | undefined {
  const buckets = [...LATENCY_BUCKETS_MS.map((limit) => ({ limit, count: counts[`latency:${limit}`] ?? 0 })), { limit: Infinity, count: counts['latency:inf'] ?? 0 }];
  const total = buckets.reduce((sum, bucket) => sum + bucket.count, 0);
  if (total === 0) return undefined;
  let seen = 0;
  for (const bucket of buckets) {
    seen += bucket.count;
    if (seen >= quantile * total) return Number.isFinite(bucket.limit) ? bucket.limit : (LATENCY_BUCKETS_MS.at(-1) ?? 0) * 2;
  }
  return undefined;
}

export function createFlowSeries(redis: RedisClient, prefix: string): FlowSeries {
  // One pipeline touches a minute's and an hour's hash, and a read 60 minutes: a cluster pipeline must
  // stay on one node, so there every series key shares one hash tag (a single Redis keeps its names).
  const base = redis.isCluster ? `{${prefix}:series}` : `${prefix}:series`;
  const minuteKey = (start: number) => `${base}:minute:${start}`;
  const hourKey = (start: number) => `${base}:hour:${start}`;
  return {
    async add(counts, at = Date.now()) {
      const minute = at - (at % MINUTE_MS);
      const hour = at - (at % HOUR_MS);
      const pipeline = redis.pipeline();
      for (const [field, by] of Object.entries(counts)) {
        if (by === 0) continue;
        pipeline.hincrby(minuteKey(minute), field, by).hincrby(hourKey(hour), field, by);
      }
      await pipeline.expire(minuteKey(minute), MINUTE_TTL_SECONDS).expire(hourKey(hour), HOUR_TTL_SECONDS).exec();
    },
    async read(range, now = Date.now()) {
      const step = range === 'hour' ? MINUTE_MS : HOUR_MS;
      const steps = range === 'hour' ? 60 : 24;
      const last = now - (now % step);
      const starts = Array.from({ length: steps }, (_, index) => last - (steps - 1 - index) * step);
      const pipeline = redis.pipeline();
      for (const start of starts) pipeline.hgetall(range === 'hour' ? minuteKey(start) : hourKey(start));
      const answers = (await pipeline.exec()) ?? [];
      return starts.map((at, index) => {
        const [error, raw] = answers[index] ?? [null, {}];
        const counts: Record<string, number> = {};
        if (!error && raw !== null && typeof raw === 'object') {
          for (const [field, value] of Object.entries(raw)) {
            const number = Number(value);
            if (Number.isFinite(number)) counts[field] = number;
          }
        }
        return { at, counts };
      });
    },
  };
}

export interface BufferedFlowSeries extends FlowSeries {
  /** Writes what was added and not yet written (also done every `flushMs`, and before every read). */
  flush(): Promise<void>;
}

/**
 * Counts added at webhook rates, coalesced: kept in memory per minute and written every `flushMs`
 * in one pipelined round trip, rather than one per ingest batch (at 1,000 webhooks/s a batch is
 * about one request, so per-batch writes cost a round trip and its allocations per webhook: see
 * BENCHMARKS.md). A read flushes first, so this process's own counts are in what it reads; other
 * processes' are at most `flushMs` late. Counts not yet written when a process dies are lost: chart
 * counts of at most `flushMs`, never an event.
 */
export function bufferedFlowSeries(series: FlowSeries, options: { flushMs: number }): BufferedFlowSeries {
  /** Counts per minute start, not yet written. */
  let pending = new Map<number, Record<string, number>>();
  let timer: NodeJS.Timeout | undefined;
  let writing: Promise<void> = Promise.resolve();

  const flush = (): Promise<void> => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    const batch = pending;
    pending = new Map();
    // One write at a time, in order; a failed write loses those counts only (the charts are best effort).
    writing = writing.then(() => Promise.all([...batch].map(([minute, counts]) => series.add(counts, minute).catch(() => undefined)))).then(() => undefined);
    return writing;
  };

  return {
    add(counts, at = Date.now()) {
      const minute = at - (at % MINUTE_MS);
      let into = pending.get(minute);
      if (into === undefined) pending.set(minute, (into = {}));
      for (const field in counts) into[field] = (into[field] ?? 0) + (counts[field] ?? 0);
      if (timer === undefined) {
        timer = setTimeout(() => void flush(), options.flushMs);
        timer.unref();
      }
      return ADDED;
    },
    async read(range, now) {
      await flush();
      return series.read(range, now);
    },
    flush,
  };
}

const ADDED: Promise<void> = Promise.resolve();
