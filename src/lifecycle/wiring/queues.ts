/**
 * The BullMQ queues. Queues that webhooks feed use the fail-fast producer connection (web answers
 * 429 at once when Redis is away); the rest, fed by workers, wait for Redis to come back.
 */
import { Queue } from 'bullmq';
import type { Logger } from '../../observability/logger.js';
import { DEFAULT_RETRY_HORIZON_MS, jobOptionsFor, QUEUE_NAMES, type ContactSyncJob, type QueueName } from '../../queue/catalog.js';
import { queuePrefix } from '../../queue/connections.js';
import type { RedisClient } from '../../state/keys.js';
import type { Resources } from './resources.js';

export type Queues = Record<QueueName, Queue>;

const INGEST_QUEUES = new Set<QueueName>([QUEUE_NAMES.ghlWebhooks, QUEUE_NAMES.trustpilotEvents, QUEUE_NAMES.opinionStageResponses, QUEUE_NAMES.deadLetter]);

/** One queue on this connection, with an error listener, closed with the other resources. */
export function openQueue(resources: Resources, name: QueueName, connection: RedisClient, prefix: string, logger: Logger): Queue {
  const queue = new Queue(name, { connection, prefix: queuePrefix(prefix, name, connection) });
  queue.on('error', (error) => logger.warn({ queue: name, err: { message: error.message } }, 'queue error'));
  resources.add(`queue-${name}`, () => queue.close());
  return queue;
}

export function openQueues(resources: Resources, connections: { ingest: RedisClient; flow: RedisClient }, prefix: string, logger: Logger): Queues {
  const open = (name: QueueName) => openQueue(resources, name, INGEST_QUEUES.has(name) ? connections.ingest : connections.flow, prefix, logger);
  return {
    [QUEUE_NAMES.ghlWebhooks]: open(QUEUE_NAMES.ghlWebhooks),
    [QUEUE_NAMES.contactSync]: open(QUEUE_NAMES.contactSync),
    [QUEUE_NAMES.trustpilotEvents]: open(QUEUE_NAMES.trustpilotEvents),
    [QUEUE_NAMES.opinionStageResponses]: open(QUEUE_NAMES.opinionStageResponses),
    [QUEUE_NAMES.trustpilotPoll]: open(QUEUE_NAMES.trustpilotPoll),
    [QUEUE_NAMES.opinionStagePoll]: open(QUEUE_NAMES.opinionStagePoll),
    [QUEUE_NAMES.opinionStagePush]: open(QUEUE_NAMES.opinionStagePush),
    [QUEUE_NAMES.reconcile]: open(QUEUE_NAMES.reconcile),
    [QUEUE_NAMES.alerts]: open(QUEUE_NAMES.alerts),
    [QUEUE_NAMES.deadLetter]: open(QUEUE_NAMES.deadLetter),
  };
}

/**
 * Coalescing: a contact's sync waits COALESCE_WINDOW_MS so a burst of events becomes one run, and
 * BullMQ's deduplication keeps at most one run in flight plus one waiting per contact, the waiting
 * one reading the latest state when it starts.
 */
export async function scheduleContactSync(queue: Pick<Queue, 'add'>, job: ContactSyncJob, windowMs: number, retryHorizonMs = DEFAULT_RETRY_HORIZON_MS): Promise<void> {
  await queue.add('sync', job, {
    ...jobOptionsFor(QUEUE_NAMES.contactSync, retryHorizonMs),
    delay: windowMs,
    deduplication: { id: `${job.locationId}-${job.contactId}`, keepLastIfActive: true },
  });
}
