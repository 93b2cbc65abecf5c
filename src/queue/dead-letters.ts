/**
 * The dead-letter queue: jobs that failed for good, kept with their error history for replay.
 * Entries are keyed by the source queue and job id, so recording the same failure twice (a crash
 * between recording and failing) keeps one entry.
 */
import type { Job, Queue } from 'bullmq';
import { DEFAULT_JOB_OPTIONS, DeadLetterJobSchema, QUEUE_NAMES, type DeadLetterJob } from './catalog.js';

export interface DeadLetters {
  record(sourceQueue: string, job: Job, reason: string): Promise<void>;
  count(): Promise<number>;
}

export function createDeadLetters(queue: Queue): DeadLetters {
  return {
    async record(sourceQueue, job, reason) {
      const entry: DeadLetterJob = DeadLetterJobSchema.parse({
        queue: sourceQueue,
        jobId: String(job.id),
        name: job.name,
        data: job.data,
        failedReason: reason.slice(0, 2_000),
        attemptsMade: job.attemptsMade + 1,
        stacktrace: (job.stacktrace ?? []).slice(-5),
        failedAt: Date.now(),
      });
      await queue.add('dead-letter', entry, {
        ...DEFAULT_JOB_OPTIONS[QUEUE_NAMES.deadLetter],
        jobId: `dl-${sourceQueue}-${String(job.id)}`,
      });
    },
    async count() {
      const counts = await queue.getJobCounts('waiting', 'delayed', 'paused', 'prioritized');
      return Object.values(counts).reduce((sum, value) => sum + value, 0);
    },
  };
}
