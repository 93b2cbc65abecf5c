/**
 * A closed-loop HTTP load generator on undici: `connections` requests in flight at once, each
 * pre-built body sent at most once (signed webhooks must be unique or the bridge dedupes them),
 * until the bodies or the time run out. Latency is measured per request, send to full answer.
 */
import { Pool } from 'undici';
import { z } from 'zod';
import { percentile } from './report.js';

export interface PreparedRequest {
  body: string;
  headers: Record<string, string>;
}

export interface LoadResult {
  sent: number;
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
}

export async function runLoad(options: LoadOptions): Promise<LoadResult> {
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

  async function loop(): Promise<void> {
    for (;;) {
      const now = performance.now();
      if (now >= stopAt || next >= options.requests.length) return;
      const request = options.requests[next++];
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
    elapsedMs,
    throughput: (measured / elapsedMs) * 1000,
    statuses,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    max: latencies.at(-1) ?? Number.NaN,
    errors,
    acceptedIds,
    duplicates,
  };
}

const AnswerSchema = z.looseObject({ status: z.string().optional(), id: z.string().nullable().optional() });

function parseAnswer(text: string): z.infer<typeof AnswerSchema> | undefined {
  try {
    const parsed = AnswerSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
