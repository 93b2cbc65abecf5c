/**
 * Durable ingest: look for a redelivery, store the job under a deterministic id, remember the
 * delivery, all within a deadline. A Redis that is down or slow makes `enqueue` reject with
 * QueueUnavailableError quickly, so the route can answer 429 (the status GHL redelivers on).
 */
import { createHash } from 'node:crypto';
import type { Queue } from 'bullmq';
import { DEFAULT_RETRY_HORIZON_MS, jobOptionsFor, type QueueName } from './catalog.js';
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

export interface IngestRequest {
  queue: QueueName;
  jobName: string;
  /** Already validated against the queue's schema in the catalog. */
  data: unknown;
  /** Whose delivery this is: a location, or `trustpilot` / `opinionstage` for account-wide sources. */
  scope: string;
  dedupeKey: string;
  /** How long the delivery is remembered as seen. */
  ttlSeconds: number;
}

export interface WebhookProducer {
  enqueue(request: IngestRequest): Promise<IngestResult>;
}

/** BullMQ job ids may not contain `:`, and ids from outside must not be trusted as keys: hash them. */
export function jobIdFor(kind: string, dedupeKey: string): string {
  return `${kind}-${createHash('sha256').update(dedupeKey).digest('hex').slice(0, 40)}`;
}

export function createWebhookProducer(options: { queues: Record<QueueName, Queue>; seen: SeenWebhooks; timeoutMs: number; retryHorizonMs?: number }): WebhookProducer {
  async function enqueueOnce(request: IngestRequest): Promise<IngestResult> {
    const seenAs = await options.seen.lookup(request.scope, request.dedupeKey);
    if (seenAs !== undefined) return { status: 'duplicate', id: seenAs };
    const jobId = jobIdFor(request.queue, `${request.scope}\n${request.dedupeKey}`);
    const jobOptions = jobOptionsFor(request.queue, options.retryHorizonMs ?? DEFAULT_RETRY_HORIZON_MS);
    await options.queues[request.queue].add(request.jobName, request.data, { ...jobOptions, jobId });
    await options.seen.remember(request.scope, request.dedupeKey, jobId, request.ttlSeconds);
    return { status: 'accepted', id: jobId };
  }

  return {
    async enqueue(request) {
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new QueueUnavailableError(`no answer within ${options.timeoutMs} ms`)), options.timeoutMs);
      });
      try {
        return await Promise.race([enqueueOnce(request), deadline]);
      } catch (error) {
        if (error instanceof QueueUnavailableError) throw error;
        throw new QueueUnavailableError(error instanceof Error ? error.message : 'unknown error');
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
