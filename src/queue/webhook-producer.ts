/**
 * Durable ingest: look for a redelivery, append the delivery to its queue's inbox under a
 * deterministic job id, remember the delivery, all within a deadline. A Redis that is down or slow
 * makes `enqueue` reject with QueueUnavailableError quickly, so the route can answer 429 (the status
 * GHL redelivers on). The pump in the worker processes turns inbox entries into jobs under that id
 * (src/queue/inbox.ts, src/queue/inbox-pump.ts).
 *
 * A delivery is remembered with BullMQ's deduplication key (`<prefix>:<queue>:de:<job id>`, kept for
 * the delivery's TTL even after the job is done and removed): the inbox script sets the key and
 * appends the entry in one atomic step, so a delivery is never in the inbox without its mark nor
 * marked without being in the inbox.
 *
 * Requests are micro-batched: those arriving while a batch is being stored (or in the same
 * event-loop turn, or up to `maxItems` of them) share one script call per queue, i.e. one Redis round
 * trip per batch. Each caller is still answered only after its own delivery is stored; any failure
 * in a batch fails every request in it (429, so the sender redelivers; a delivery that was stored is
 * then answered `duplicate`).
 */
import { hash } from 'node:crypto';
import type { Queue } from 'bullmq';
import type { QueueName } from './catalog.js';
import { BridgeError } from '../observability/errors.js';
import { appendToInbox, type InboxQueue, type JsonParts } from './inbox.js';

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

export type IngestRequest = IngestTarget & (
  | {
      /** Already validated against the queue's schema in the catalog; serialized here as JSON. */
      data: unknown;
      json?: never;
    }
  | {
      /** The data already serialized (e.g. around a webhook's verified bytes), joined in Redis. */
      json: JsonParts;
      data?: never;
    }
);

interface IngestTarget {
  queue: InboxQueue;
  jobName: string;
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
  /**
   * ...or this long after its first request arrived. 0: natural batching, i.e. at the end of the
   * current event-loop turn, or, while an earlier batch is still being stored, as soon as it is.
   */
  maxWaitMs: number;
}

export const DEFAULT_PRODUCER_BATCHING: ProducerBatching = { maxItems: 100, maxWaitMs: 0 };

/** BullMQ job ids may not contain `:`, and ids from outside must not be trusted as keys: hash them. */
export function jobIdFor(kind: string, dedupeKey: string): string {
  // One-shot hash: no Hash object per request.
  return `${kind}-${hash('sha256', dedupeKey, 'hex').slice(0, 40)}`;
}

interface Pending {
  request: IngestRequest;
  resolve(result: IngestResult): void;
  reject(error: Error): void;
}

export function createWebhookProducer(options: {
  queues: Record<QueueName, Queue>;
  timeoutMs: number;
  batching?: ProducerBatching;
  /** Told each batch's outcomes (`webhook:accepted`, `webhook:duplicate`, `webhook:unavailable` counts), not awaited. */
  onBatch?: (counts: Record<string, number>) => void;
}): WebhookProducer {
  const { maxItems, maxWaitMs } = options.batching ?? DEFAULT_PRODUCER_BATCHING;
  const store: BatchStore = { queues: options.queues };
  // One deadline per batch rather than one timer per request: a batch's first request arrived first, so its
  // deadline is at most one batch's wait earlier than a later member's own would be.
  let current: Batch | undefined;
  let cancelFlush: (() => void) | undefined;
  /** Batches being stored: with natural batching the next one goes out when the last of these is done. */
  let storing = 0;

  function flush(): void {
    cancelFlush?.();
    cancelFlush = undefined;
    const batch = current;
    current = undefined;
    if (batch === undefined) return;
    storing++;
    void storeBatch(store, batch.items, options.onBatch).finally(() => {
      clearTimeout(batch.deadline);
      storing--;
      // Requests that arrived meanwhile have waited one round trip already: send them now.
      if (storing === 0 && current !== undefined && maxWaitMs === 0) flush();
    });
  }

  function openBatch(): Batch {
    const batch: Batch = { items: [], deadline: undefined };
    // Answers 429 in time even when Redis never answers; a later result for a settled promise is ignored.
    batch.deadline = setTimeout(() => {
      const failure = new QueueUnavailableError(`no answer within ${options.timeoutMs} ms`);
      for (const pending of batch.items) pending.reject(failure);
      // A batch still waiting for the one in flight (which may hang as long as Redis does) takes no
      // more requests: a request arriving now gets a batch, and a deadline, of its own.
      if (current === batch) {
        cancelFlush?.();
        cancelFlush = undefined;
        current = undefined;
      }
    }, options.timeoutMs);
    return batch;
  }

  function scheduleFlush(): (() => void) | undefined {
    if (maxWaitMs > 0) {
      const timeout = setTimeout(flush, maxWaitMs);
      return () => clearTimeout(timeout);
    }
    // Natural batching: a batch in flight flushes this one when it is done.
    if (storing > 0) return undefined;
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

/** Stores one batch and settles every request in it: its result, or QueueUnavailableError for all. */
async function storeBatch(store: BatchStore, batch: Pending[], onBatch: ((counts: Record<string, number>) => void) | undefined): Promise<void> {
  let results: IngestResult[];
  try {
    results = await storeAll(store, batch.map((pending) => pending.request));
  } catch (error) {
    const failure = new QueueUnavailableError(error instanceof Error ? error.message : 'unknown error');
    for (const pending of batch) pending.reject(failure);
    onBatch?.({ 'webhook:unavailable': batch.length });
    return;
  }
  let accepted = 0;
  for (let index = 0; index < batch.length; index++) {
    const result = results[index];
    if (result?.status === 'accepted') accepted++;
    if (result) batch[index]?.resolve(result);
    else batch[index]?.reject(new QueueUnavailableError('no result for the request'));
  }
  onBatch?.({ 'webhook:accepted': accepted, 'webhook:duplicate': results.length - accepted });
}

interface Batch {
  items: Pending[];
  deadline: NodeJS.Timeout | undefined;
}

interface BatchStore {
  queues: Record<QueueName, Queue>;
}

interface ToStore {
  index: number;
  request: IngestRequest;
  jobId: string;
}

/**
 * Sorts a batch: of the copies of one delivery within the batch the first is stored and the others
 * are its duplicates.
 */
function planBatch(requests: IngestRequest[]) {
  const firstOf = new Map<string, number>();
  const copies: { index: number; first: number }[] = [];
  const toStore = new Map<InboxQueue, ToStore[]>();
  requests.forEach((request, index) => {
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

/** One transaction per queue (a single round trip when the batch is for one queue, as webhooks' are). */
async function storeAll(store: BatchStore, requests: IngestRequest[]): Promise<IngestResult[]> {
  const results: (IngestResult | undefined)[] = new Array<IngestResult | undefined>(requests.length);
  const { copies, toStore } = planBatch(requests);
  await Promise.all([...toStore].map(([queue, entries]) => storeInQueue(store, queue, entries, results)));
  for (const { index, first } of copies) {
    const original = results[first];
    if (original) results[index] = { status: 'duplicate', id: original.id };
  }
  return results.map((result) => {
    if (result === undefined) throw new Error('a request of the batch was left unanswered');
    return result;
  });
}

/** One script call appends the queue's deliveries (or names the job a redelivery was first queued as). */
async function storeInQueue(store: BatchStore, name: InboxQueue, entries: ToStore[], results: (IngestResult | undefined)[]): Promise<void> {
  const outcomes = await appendToInbox(
    store.queues[name],
    entries.map(({ request, jobId }) => ({ jobId, name: request.jobName, data: request.json ?? [JSON.stringify(request.data), '', ''], ttlMs: request.ttlSeconds * 1000 })),
  );
  entries.forEach((entry, position) => {
    const outcome = outcomes[position];
    if (outcome === undefined) throw new Error(`no outcome for job ${entry.jobId}`);
    results[entry.index] = outcome.status === 'accepted' ? { status: 'accepted', id: entry.jobId } : outcome;
  });
}
