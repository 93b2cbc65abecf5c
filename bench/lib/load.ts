/**
 * HTTP load generators on undici. runLoad is closed-loop: `connections` requests in flight at once, each
 * pre-built body sent at most once (signed webhooks must be unique or the bridge dedupes them),
 * until the bodies or the time run out; latency per request, send to full answer. runOpenLoop offers
 * a fixed rate (below).
 */
import { Pool } from 'undici';
import { percentile } from './report.js';

export interface PreparedRequest {
  body: string;
  headers: Record<string, string>;
}

export interface LoadResult {
  sent: number;
  /** Requests sent once the warm-up was over (all of them when there was none). */
  sentMeasured: number;
  elapsedMs: number;
  /** Answers per second over the measured part (after the warm-up). */
  throughput: number;
  statuses: Record<string, number>;
  p50: number;
  p99: number;
  max: number;
  errors: number;
  /** Job ids of every `200 accepted`, warm-up included (for the lost-webhook count). */
  acceptedIds: string[];
  duplicates: number;
}

/** A closed-loop run's result with its latencies (sorted), to pool several runs (bench/lib/paired-slices.ts). */
export interface ClosedLoopResult extends LoadResult {
  latencies: number[];
}

export interface LoadOptions {
  url: string;
  requests: PreparedRequest[];
  connections: number;
  durationMs: number;
  /** Requests answered in this first part are sent and checked, not timed. */
  warmupMs?: number;
  /** Instead of a warm-up time: the first N requests are not timed (for runs with few bodies). */
  warmupRequests?: number;
  /** Parse answers for job ids (default true); off for the bare route. */
  collectIds?: boolean;
  /**
   * Start again from the first body when all are spent, so the run lasts its full time (baselines
   * that neither dedupe nor store ids: the bare route, the floor). Default false: each body once.
   */
  cycle?: boolean;
  /** Called once, when the warm-up is over and the measured part starts (e.g. to read a CPU counter). */
  onMeasuring?: () => void;
}

export async function runLoad(options: LoadOptions): Promise<ClosedLoopResult> {
  const target = new URL(options.url);
  const pool = new Pool(target.origin, { connections: options.connections, pipelining: 1, keepAliveTimeout: 30_000 });
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  const acceptedIds: string[] = [];
  let duplicates = 0;
  let errors = 0;
  let next = 0;
  let measured = 0;
  const warmupMs = options.warmupMs ?? 0;
  const started = performance.now();
  const warmupRequests = options.warmupRequests;
  let measureFrom = warmupRequests === undefined ? started + warmupMs : Number.POSITIVE_INFINITY;
  let stopAt = warmupRequests === undefined ? measureFrom + options.durationMs : Number.POSITIVE_INFINITY;
  /** `next` when the measured part started. */
  let sentBefore: number | undefined;
  const startMeasuring = () => {
    if (sentBefore !== undefined) return;
    sentBefore = next;
    options.onMeasuring?.();
  };

  async function loop(): Promise<void> {
    for (;;) {
      const now = performance.now();
      if (now >= stopAt || (next >= options.requests.length && !options.cycle)) return;
      if (now >= measureFrom) startMeasuring();
      const request = options.requests[next++ % options.requests.length];
      if (!request) return;
      if (next === warmupRequests) {
        measureFrom = performance.now();
        stopAt = measureFrom + options.durationMs;
      }
      const sentAt = performance.now();
      try {
        const response = await pool.request({ path: target.pathname + target.search, method: 'POST', headers: request.headers, body: request.body });
        const text = await response.body.text();
        const doneAt = performance.now();
        statuses[response.statusCode] = (statuses[response.statusCode] ?? 0) + 1;
        if (response.statusCode === 200 && options.collectIds !== false) {
          const answer = parseAnswer(text);
          if (answer?.status === 'accepted' && answer.id) acceptedIds.push(answer.id);
          else if (answer?.status === 'duplicate') duplicates++;
        }
        if (sentAt >= measureFrom && doneAt <= stopAt) {
          latencies.push(doneAt - sentAt);
          measured++;
        }
      } catch {
        errors++;
      }
    }
  }

  await Promise.all(Array.from({ length: options.connections }, () => loop()));
  const endedAt = Math.min(performance.now(), stopAt);
  await pool.close();
  const elapsedMs = Math.max(1, endedAt - measureFrom);
  latencies.sort((a, b) => a - b);
  return {
    sent: next,
    sentMeasured: next - (sentBefore ?? 0),
    elapsedMs,
    throughput: (measured / elapsedMs) * 1000,
    statuses,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    max: latencies.at(-1) ?? Number.NaN,
    errors,
    acceptedIds,
    duplicates,
    latencies,
  };
}

/**
 * The answer's `status` and `id`, read by hand: the generator shares two cores with the server under
 * test, so it spends as little as it can per answer (a schema library here cost the server CPU).
 */
function parseAnswer(text: string): { status?: string; id?: string | null } | undefined {
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== 'object' || parsed === null) return undefined;
    const { status, id } = parsed as Record<string, unknown>;
    return { ...(typeof status === 'string' ? { status } : {}), ...(typeof id === 'string' || id === null ? { id } : {}) };
  } catch {
    return undefined;
  }
}

export interface OpenLoopOptions {
  url: string;
  requests: PreparedRequest[];
  /** Offered load: requests started per second, whatever the answers do. */
  ratePerSecond: number;
  durationMs: number;
  warmupMs: number;
  /** Sockets the generator may open (a request waits for one only when all are busy: that wait counts as latency). */
  maxConnections: number;
  cycle?: boolean;
  collectIds?: boolean;
}

export interface OpenLoopResult extends LoadResult {
  /** Requests that started over 2 ms after they were due: the generator itself fell behind, beyond its timer's ~1 ms granularity. */
  lateStarts: number;
  /** p99 of how late the generator sent the measured requests (due to handed to the client), in ms. */
  startLagP99: number;
  /** p99 of the measured requests' time from being handed to the client to their answer, in ms: latency without the generator's lag. */
  sentToAnsweredP99: number;
}

/** A request sent later than this after it was due counts as a late start (the generator's timer alone wakes up to ~1 ms late). */
const LATE_START_MS = 2;

/**
 * An open-loop generator: request i is due at start + i / rate and is sent when the generator's
 * timer next wakes (within about 1 ms), whether or not earlier ones were answered (a slow server
 * cannot slow the offered load, so its queueing shows). Latency runs from when a request was due,
 * not from when it went out, so a generator that fell behind does not hide the delay (no
 * coordinated omission); the timer's own delay counts too, against every server alike.
 */
export async function runOpenLoop(options: OpenLoopOptions): Promise<OpenLoopResult> {
  const target = new URL(options.url);
  const pool = new Pool(target.origin, { connections: options.maxConnections, pipelining: 1, keepAliveTimeout: 30_000 });
  const latencies: number[] = [];
  const startLags: number[] = [];
  const sentToAnswered: number[] = [];
  const statuses: Record<string, number> = {};
  const acceptedIds: string[] = [];
  const intervalMs = 1000 / options.ratePerSecond;
  const total = Math.floor(((options.warmupMs + options.durationMs) / 1000) * options.ratePerSecond);
  const warmupCount = Math.floor((options.warmupMs / 1000) * options.ratePerSecond);
  let duplicates = 0;
  let errors = 0;
  let lateStarts = 0;
  let sent = 0;
  const inFlight = new Set<Promise<void>>();

  async function fire(index: number, dueAt: number): Promise<void> {
    const request = options.requests[index % options.requests.length];
    if (!request) return;
    const sentAt = performance.now();
    try {
      const response = await pool.request({ path: target.pathname + target.search, method: 'POST', headers: request.headers, body: request.body });
      const text = await response.body.text();
      const doneAt = performance.now();
      statuses[response.statusCode] = (statuses[response.statusCode] ?? 0) + 1;
      if (response.statusCode === 200 && options.collectIds !== false) {
        const answer = parseAnswer(text);
        if (answer?.status === 'accepted' && answer.id) acceptedIds.push(answer.id);
        else if (answer?.status === 'duplicate') duplicates++;
      }
      if (index >= warmupCount) {
        latencies.push(doneAt - dueAt);
        startLags.push(sentAt - dueAt);
        sentToAnswered.push(doneAt - sentAt);
      }
    } catch {
      errors++;
    }
  }

  const started = performance.now();
  while (sent < total && (options.cycle || sent < options.requests.length)) {
    const now = performance.now();
    // Everything due by now goes out at once; then wait for the next one to be due.
    while (sent < total && started + sent * intervalMs <= now && (options.cycle || sent < options.requests.length)) {
      const dueAt = started + sent * intervalMs;
      if (now - dueAt > LATE_START_MS) lateStarts++;
      const promise = fire(sent, dueAt);
      inFlight.add(promise);
      void promise.finally(() => inFlight.delete(promise));
      sent++;
    }
    // Sleep, never spin: polling with setImmediate until the next request is due kept one of the
    // box's two cores busy, which the server under test then lacked. The timer typically wakes within
    // ~1 ms of when a request was due, and that delay counts against the server's latency like any other.
    const wait = started + sent * intervalMs - performance.now();
    await new Promise((resolve) => setTimeout(resolve, Math.max(1, Math.floor(wait))));
  }
  await Promise.all(inFlight);
  const endedAt = performance.now();
  await pool.close();
  for (const samples of [latencies, startLags, sentToAnswered]) samples.sort((a, b) => a - b);
  const measuredMs = Math.max(1, endedAt - (started + warmupCount * intervalMs));
  return {
    sent,
    sentMeasured: Math.max(0, sent - warmupCount),
    elapsedMs: measuredMs,
    throughput: (latencies.length / measuredMs) * 1000,
    statuses,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    max: latencies.at(-1) ?? Number.NaN,
    errors,
    acceptedIds,
    duplicates,
    lateStarts,
    startLagP99: percentile(startLags, 99),
    sentToAnsweredP99: percentile(sentToAnswered, 99),
  };
}
