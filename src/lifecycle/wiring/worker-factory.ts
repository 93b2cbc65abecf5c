/**
 * One BullMQ worker per queue, all made alike: the failure policy around the processor, the lock and
 * stall settings, the jittered backoff, error listeners, and the stalled-job policy.
 */
import { Worker, type Job, type MinimalJob } from 'bullmq';
import { Cluster, type Redis } from 'ioredis';
import type { Config } from '../../config/env.js';
import type { Logger } from '../../observability/logger.js';
import type { Metrics } from '../../observability/metrics.js';
import type { Alerts } from '../../queue/alerts.js';
import { fullJitterBackoff, JITTER_BACKOFF } from '../../queue/backoff.js';
import type { QueueName } from '../../queue/catalog.js';
import { queuePrefix } from '../../queue/connections.js';
import { deadLetterJob, type DeadLetterPath, type DeadLetters } from '../../queue/dead-letters.js';
import type { RedisClient } from '../../state/keys.js';
import { withFailurePolicy } from '../../workers/run-job.js';

/** BullMQ's reason for a job whose worker died more than maxStalledCount times while running it. */
const STALLED_TOO_OFTEN = /stalled more than allowable limit/;

export interface FailurePolicy {
  deadLetters: DeadLetters;
  alerts: Alerts;
  /** Counts each dead-lettering for the dashboard's chart. */
  series?: DeadLetterPath['series'];
  metrics: Metrics;
  logger: Logger;
}

export type Processor = (job: Job) => Promise<unknown>;

export interface WorkerFactory {
  /** Starts a worker for the queue on its own connection. */
  start(name: QueueName, processor: Processor): Worker;
  /**
   * Closes every started worker at once: in-flight jobs may finish within `graceMs`; a worker still
   * closing then has its connections dropped, so a shutdown never waits on a Redis that is gone.
   */
  closeAll(graceMs: number): Promise<void>;
}

interface Started {
  worker: Worker;
  /** The worker's connection and the clients BullMQ duplicated from it (its blocking connection). */
  clients: RedisClient[];
}

export function createWorkerFactory(config: Config, connection: () => RedisClient, policy: FailurePolicy): WorkerFactory {
  const started: Started[] = [];
  return {
    start: (name, processor) => {
      const redis = connection();
      const clients: RedisClient[] = [redis];
      recordDuplicates(redis, clients);
      const worker = new Worker(name, withFailurePolicy(name, processor, policy), {
        connection: redis,
        prefix: queuePrefix(config.REDIS_PREFIX, name, redis),
        concurrency: config.WORKER_CONCURRENCY,
        // A worker killed mid-job (kill -9) stops renewing its lock; the job is then picked up again.
        lockDuration: config.WORKER_LOCK_DURATION,
        stalledInterval: Math.max(1_000, Math.round(config.WORKER_LOCK_DURATION / 2)),
        maxStalledCount: 3,
        settings: {
          backoffStrategy: (attemptsMade, type, _error, job) =>
            type === JITTER_BACKOFF ? fullJitterBackoff(attemptsMade, delayOf(job)) : fullJitterBackoff(attemptsMade, 1_000),
        },
      });
      worker.on('error', (error) => policy.logger.warn({ queue: name, err: { message: error.message } }, 'worker error'));
      deadLetterStalled(worker, name, policy);
      started.push({ worker, clients });
      return worker;
    },
    closeAll: (graceMs) => closeWithin(started.splice(0), graceMs, policy.logger),
  };
}

async function closeWithin(started: Started[], graceMs: number, logger: Logger): Promise<void> {
  const open = new Set(started);
  const closed = Promise.all(
    started.map(async (entry) => {
      await entry.worker.close().catch((error: unknown) => logger.warn({ queue: entry.worker.name, err: { message: error instanceof Error ? error.message : String(error) } }, 'worker close failed'));
      open.delete(entry);
    }),
  );
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([closed, new Promise((resolve) => (timer = setTimeout(resolve, graceMs)))]);
  clearTimeout(timer);
  if (open.size === 0) return;
  logger.warn({ queues: [...open].map((entry) => entry.worker.name), graceMs }, 'workers did not close in time, dropping their connections');
  await Promise.all([...open].flatMap((entry) => entry.clients.map(drop)));
}

/** How long a dropped client may take to report 'end' before it is taken as ended. */
const DROP_DEADLINE_MS = 1_000;

/**
 * Disconnects a client for good, so that a worker whose close() is stuck runs it to its end (its
 * lock-renewal timer stops only there). BullMQ waits for its blocking connection's 'end', which
 * ioredis never emits for a client that is between reconnects (a single Redis that is away, or a
 * cluster client whose every node failed; its status then stays 'reconnecting' for good), and
 * BullMQ's own reconnect loop would connect such a client again. So a client that reports no 'end'
 * is marked ended by hand (as BullMQ itself does on close) and can no longer connect.
 */
async function drop(client: RedisClient): Promise<void> {
  client.connect = () => Promise.reject(new Error('connection dropped at shutdown'));
  if (client.status === 'end') return;
  let timer: NodeJS.Timeout | undefined;
  const ended = new Promise<boolean>((resolve) => {
    client.once('end', () => resolve(true));
    timer = setTimeout(() => resolve(false), DROP_DEADLINE_MS);
  });
  client.disconnect();
  const reported = await ended;
  clearTimeout(timer);
  if (reported) return;
  client.status = 'end';
  client.emit('end');
}

/** Keeps the clients BullMQ duplicates from `redis` (each worker's blocking connection) in `into`. */
function recordDuplicates(redis: RedisClient, into: RedisClient[]): void {
  if (redis instanceof Cluster) {
    const duplicate = redis.duplicate.bind(redis);
    redis.duplicate = (...args: Parameters<Cluster['duplicate']>): Cluster => {
      const copy = duplicate(...args);
      into.push(copy);
      return copy;
    };
    return;
  }
  const duplicate = redis.duplicate.bind(redis);
  redis.duplicate = (...args: Parameters<Redis['duplicate']>): Redis => {
    const copy = duplicate(...args);
    into.push(copy);
    return copy;
  };
}

/**
 * A job that crashed its worker too often is failed by BullMQ before our processor runs, so the
 * failure policy never sees it: record and alert it here (recording is keyed by job id, so once).
 */
function deadLetterStalled(worker: Worker, name: QueueName, policy: FailurePolicy): void {
  worker.on('failed', (job, error) => {
    if (!job || !STALLED_TOO_OFTEN.test(error.message)) return;
    deadLetterJob(policy, name, job, `stalled: ${error.message}`, error).catch((cause: unknown) =>
      policy.logger.error({ queue: name, jobId: job.id, err: { message: cause instanceof Error ? cause.message : String(cause) } }, 'could not dead-letter a stalled job'),
    );
  });
}

function delayOf(job: MinimalJob | undefined): number {
  const backoff = job?.opts.backoff;
  return typeof backoff === 'object' && typeof backoff.delay === 'number' ? backoff.delay : 1_000;
}
