/**
 * Durable ingest: look for a redelivery, store the job under a deterministic id, remember the
 * delivery, all within a deadline. A Redis that is down or slow makes `enqueue` reject with
 * QueueUnavailableError quickly, so the route can answer 429 (the status GHL redelivers on).
 *
 * Requests are micro-batched: those arriving within `maxWaitMs` (or `maxItems` of them) share one
 * seen-lookup (MGET), one `addBulk` per queue and one pipeline of seen-marks, i.e. three Redis round
 * trips per batch instead of three per webhook. Each caller is still answered only after its own job
 * is stored; any failure in a batch fails every request in it, and no mark is written for a batch
 * whose jobs were not all stored, so a redelivery is queued again (the deterministic job id keeps it
 * one job) instead of being answered `duplicate` for a job that may not exist.
 */
import { createHash } from 'node:crypto';
import type { Queue } from 'bullmq';
import { DEFAULT_RETRY_HORIZON_MS, jobOptionsFor, type QueueName } from './catalog.js';
import type { SeenWebhooks } from '../state/seen-webhooks.js';
import { BridgeError } from '../observability/errors.js';

export interface IngestResult {
  status: 'accepted' | 'duplicate';
  /** The queued job's id (for a duplicate, the id it was first queued as). */
  id: string;
}

export class QueueUnavailableError extends BridgeError<'QUEUE_UNAVAILABLE'> {
  constructor(reason: string) {
    super('QUEUE_UNAVAILABLE', `the job queue is unavailable: ${reason}`);
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

export interface ProducerBatching {
  /** A batch is stored once it holds this many requests... */
  maxItems: number;
  /** ...or this long after its first request arrived (0: at the end of the current event-loop turn). */
  maxWaitMs: number;
}

export const DEFAULT_PRODUCER_BATCHING: ProducerBatching = { maxItems: 100, maxWaitMs: 1 };

/** BullMQ job ids may not contain `:`, and ids from outside must not be trusted as keys: hash them. */
export function jobIdFor(kind: string, dedupeKey: string): string {
  return `${kind}-${createHash('sha256').update(dedupeKey).digest('hex').slice(0, 40)}`;
}

interface Pending {
  request: IngestRequest;
  resolve(result: IngestResult): void;
  reject(error: Error): void;
}

export function createWebhookProducer(options: {
  queues: Record<QueueName, Queue>;
  seen: SeenWebhooks;
  timeoutMs: number;
  retryHorizonMs?: number;
  batching?: ProducerBatching;
  /** Told each batch's outcomes (`webhook:accepted`, `webhook:duplicate`, `webhook:unavailable` counts), not awaited. */
  onBatch?: (counts: Record<string, number>) => void;
}): WebhookProducer {
  const { maxItems, maxWaitMs } = options.batching ?? DEFAULT_PRODUCER_BATCHING;
  const retryHorizonMs = options.retryHorizonMs ?? DEFAULT_RETRY_HORIZON_MS;
  const store: BatchStore = { queues: options.queues, seen: options.seen, retryHorizonMs };
  // One deadline per batch rather than one timer per request: a batch's first request arrived first, so its
  // deadline is at most `maxWaitMs` earlier than a later member's own would be.
  let current: Batch | undefined;
  let cancelFlush: (() => void) | undefined;

  function flush(): void {
    cancelFlush?.();
    cancelFlush = undefined;
    const batch = current;
    current = undefined;
    if (batch !== undefined) void storeBatch(batch).finally(() => clearTimeout(batch.deadline));
  }

  async function storeBatch({ items: batch }: Batch): Promise<void> {
    let results: IngestResult[];
    try {
      results = await storeAll(store, batch.map((pending) => pending.request));
    } catch (error) {
      const failure = new QueueUnavailableError(error instanceof Error ? error.message : 'unknown error');
      for (const pending of batch) pending.reject(failure);
      options.onBatch?.({ 'webhook:unavailable': batch.length });
      return;
    }
    const accepted = results.filter((result) => result.status === 'accepted').length;
    options.onBatch?.({ 'webhook:accepted': accepted, 'webhook:duplicate': results.length - accepted });
    batch.forEach((pending, index) => {
      const result = results[index];
      if (result) pending.resolve(result);
      else pending.reject(new QueueUnavailableError('no result for the request'));
    });
  }

  function openBatch(): Batch {
    const items: Pending[] = [];
    // Answers 429 in time even when Redis never answers; a later result for a settled promise is ignored.
    const deadline = setTimeout(() => {
      const failure = new QueueUnavailableError(`no answer within ${options.timeoutMs} ms`);
      for (const pending of items) pending.reject(failure);
    }, options.timeoutMs);
    return { items, deadline };
  }

  function scheduleFlush(): () => void {
    if (maxWaitMs > 0) {
      const timeout = setTimeout(flush, maxWaitMs);
      return () => clearTimeout(timeout);
    }
    const immediate = setImmediate(flush);
    return () => clearImmediate(immediate);
  }

  return {
    enqueue(request) {
      return new Promise<IngestResult>((resolve, reject) => {
        current ??= openBatch();
        current.items.push({ request, resolve, reject });
        if (current.items.length >= maxItems) flush();
        else cancelFlush ??= scheduleFlush();
      });
    },
  };
}

interface Batch {
  items: Pending[];
  deadline: NodeJS.Timeout;
}

interface BatchStore {
  queues: Record<QueueName, Queue>;
  seen: SeenWebhooks;
  retryHorizonMs: number;
}

interface ToStore {
  index: number;
  request: IngestRequest;
  jobId: string;
}

/**
 * Sorts a batch after its seen-lookup: requests seen before are answered `duplicate` already; of the
 * copies of one delivery within the batch the first is stored and the others are its duplicates.
 */
function planBatch(requests: IngestRequest[], results: (IngestResult | undefined)[]) {
  const firstOf = new Map<string, number>();
  const copies: { index: number; first: number }[] = [];
  const toStore = new Map<QueueName, ToStore[]>();
  requests.forEach((request, index) => {
    if (results[index] !== undefined) return;
    const seenKey = `${request.scope}\n${request.dedupeKey}`;
    const first = firstOf.get(seenKey);
    if (first !== undefined) {
      copies.push({ index, first });
      return;
    }
    firstOf.set(seenKey, index);
    const entries = toStore.get(request.queue) ?? [];
    entries.push({ index, request, jobId: jobIdFor(request.queue, seenKey) });
    toStore.set(request.queue, entries);
  });
  return { copies, toStore };
}

/** One seen-lookup, one `addBulk` per queue, one pipeline of seen-marks: the three round trips of a batch. */
async function storeAll(store: BatchStore, requests: IngestRequest[]): Promise<IngestResult[]> {
  const seenAs = await store.seen.lookupMany(requests.map((request) => ({ locationId: request.scope, dedupeKey: request.dedupeKey })));
  const results: (IngestResult | undefined)[] = seenAs.map((id) => (id === undefined ? undefined : { status: 'duplicate', id }));
  const { copies, toStore } = planBatch(requests, results);
  await Promise.all(
    [...toStore].map(async ([queue, entries]) => {
      const opts = jobOptionsFor(queue, store.retryHorizonMs);
      // Rejects unless every job was stored; one that was is harmless to redo (same job id).
      await store.queues[queue].addBulk(entries.map((entry) => ({ name: entry.request.jobName, data: entry.request.data, opts: { ...opts, jobId: entry.jobId } })));
    }),
  );
  const stored = [...toStore.values()].flat();
  await store.seen.rememberMany(
    stored.map((entry) => ({ locationId: entry.request.scope, dedupeKey: entry.request.dedupeKey, jobId: entry.jobId, ttlSeconds: entry.request.ttlSeconds })),
  );
  for (const entry of stored) results[entry.index] = { status: 'accepted', id: entry.jobId };
  for (const { index, first } of copies) {
    const original = results[first];
    if (original) results[index] = { status: 'duplicate', id: original.id };
  }
  return results.map((result) => {
    if (result === undefined) throw new Error('a request of the batch was left unanswered');
    return result;
  });
}
