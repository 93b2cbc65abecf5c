/**
 * Wraps a processor with the shared failure policy: classify once, wait on 429 without burning an
 * attempt, record permanent and last-attempt failures in the dead-letter queue before failing.
 */
import { DelayedError, UnrecoverableError, type Job } from 'bullmq';
import { runAsJob } from '../clients/http/budget-wait.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { Alerts } from '../queue/alerts.js';
import { deadLetterJob, type DeadLetterPath, type DeadLetters } from '../queue/dead-letters.js';
import { classifyError } from './classify-error.js';

export type Processor<R> = (job: Job) => Promise<R>;

export interface RunJobDeps {
  deadLetters: DeadLetters;
  alerts?: Alerts;
  /** Counts each dead-lettering for the dashboard's chart. */
  series?: DeadLetterPath['series'];
  metrics: Metrics;
  logger: Logger;
}

export function withFailurePolicy<R>(queueName: string, processor: Processor<R>, deps: RunJobDeps) {
  return async (job: Job, token?: string): Promise<R> => {
    const started = performance.now();
    try {
      const result = await runAsJob(() => processor(job));
      deps.metrics.jobDuration.observe({ queue: queueName, outcome: 'completed' }, (performance.now() - started) / 1000);
      return result;
    } catch (error) {
      const decision = classifyError(error);
      const seconds = (performance.now() - started) / 1000;
      const log = { queue: queueName, jobId: job.id, attempt: job.attemptsMade + 1, cause: decision.cause };
      if (decision.action === 'wait' && token !== undefined) {
        deps.metrics.jobDuration.observe({ queue: queueName, outcome: 'waiting' }, seconds);
        deps.metrics.rateLimitWaits.inc({ ...decision.limit });
        deps.logger.info({ ...log, delayMs: decision.delayMs }, 'job waits for an upstream rate limit');
        await job.moveToDelayed(Date.now() + decision.delayMs, token);
        throw new DelayedError();
      }
      const attempts = job.opts.attempts ?? 1;
      const lastAttempt = job.attemptsMade + 1 >= attempts;
      if (decision.action === 'give-up' || lastAttempt) {
        deps.metrics.jobDuration.observe({ queue: queueName, outcome: 'failed' }, seconds);
        const reason = `${decision.cause}: ${errorMessage(error)}`;
        await deadLetterJob(deps, queueName, job, reason, error);
        deps.logger.error({ ...log, err: describe(error) }, 'job failed for good');
        throw new UnrecoverableError(reason);
      }
      deps.metrics.jobDuration.observe({ queue: queueName, outcome: 'retried' }, seconds);
      deps.logger.warn({ ...log, err: describe(error) }, 'job failed, will retry');
      throw error;
    }
  };
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Error objects can carry request options; log only what identifies the failure. */
function describe(error: unknown): Record<string, unknown> {
  if (error instanceof Error && 'toJSON' in error && typeof error.toJSON === 'function') {
    const json: unknown = error.toJSON();
    if (typeof json === 'object' && json !== null) return { ...json };
  }
  if (error instanceof Error) return { name: error.name, message: error.message };
  return { message: String(error) };
}
