/**
 * One BullMQ worker per queue, all made alike: the failure policy around the processor, the lock and
 * stall settings, the jittered backoff, error listeners, and the stalled-job policy.
 */
import { Worker, type Job, type MinimalJob } from 'bullmq';
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
}

export function createWorkerFactory(config: Config, connection: () => RedisClient, policy: FailurePolicy): WorkerFactory {
  return {
    start: (name, processor) => {
      const redis = connection();
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
      return worker;
    },
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
