/**
 * Durable ingest: look for a redelivery, store the job under a deterministic id, remember the
 * delivery, all within a deadline. A Redis that is down or slow makes `enqueue` reject with
 * QueueUnavailableError quickly, so the route can answer 429 (the status GHL redelivers on).
 */
import { createHash } from 'node:crypto';
import type { Queue } from 'bullmq';
import { DEFAULT_JOB_OPTIONS, GhlWebhookJobSchema, QUEUE_NAMES, type GhlWebhookJob } from './catalog.js';
import type { SeenWebhooks } from '../state/seen-webhooks.js';

export interface IngestResult {
  status: 'accepted' | 'duplicate';
  /** The queued job's id (for a duplicate, the id it was first queued as). */
  id: string;
}

export class QueueUnavailableError extends Error {
  readonly code = 'QUEUE_UNAVAILABLE';
  constructor(reason: string) {
    super(`the job queue is unavailable: ${reason}`);
    this.name = 'QueueUnavailableError';
  }
}

export interface WebhookProducerOptions {
  queue: Queue;
  seen: SeenWebhooks;
  /** Upper bound on the whole enqueue, so the webhook answer stays under a second. */
  timeoutMs: number;
}

export interface WebhookProducer {
  /** `ttlSeconds`: how long the delivery is remembered as seen. */
  enqueue(input: { locationId: string; dedupeKey: string; ttlSeconds: number; job: GhlWebhookJob }): Promise<IngestResult>;
}

/** BullMQ job ids may not contain `:`, and ids from outside must not be trusted as keys: hash them. */
export function jobIdFor(kind: string, dedupeKey: string): string {
  return `${kind}-${createHash('sha256').update(dedupeKey).digest('hex').slice(0, 40)}`;
}

export function createWebhookProducer(options: WebhookProducerOptions): WebhookProducer {
  const jobOptions = DEFAULT_JOB_OPTIONS[QUEUE_NAMES.ghlWebhooks];

  async function enqueueOnce(locationId: string, dedupeKey: string, ttlSeconds: number, job: GhlWebhookJob): Promise<IngestResult> {
    const seenAs = await options.seen.lookup(locationId, dedupeKey);
    if (seenAs !== undefined) return { status: 'duplicate', id: seenAs };
    const jobId = jobIdFor('wh', `${locationId}\n${dedupeKey}`);
    await options.queue.add(String(job.event.type ?? 'event'), job, { ...jobOptions, jobId });
    await options.seen.remember(locationId, dedupeKey, jobId, ttlSeconds);
    return { status: 'accepted', id: jobId };
  }

  return {
    async enqueue({ locationId, dedupeKey, ttlSeconds, job }) {
      const data = GhlWebhookJobSchema.parse(job);
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new QueueUnavailableError(`no answer within ${options.timeoutMs} ms`)), options.timeoutMs);
      });
      try {
        return await Promise.race([enqueueOnce(locationId, dedupeKey, ttlSeconds, data), deadline]);
      } catch (error) {
        if (error instanceof QueueUnavailableError) throw error;
        const reason = error instanceof Error ? error.message : 'unknown error';
        throw new QueueUnavailableError(reason);
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
