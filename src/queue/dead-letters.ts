/**
 * The dead-letter queue: jobs that failed for good, kept with their error history for replay.
 * Entries are keyed by the source queue and job id, so recording the same failure twice (a crash
 * between recording and failing) keeps one entry. Nothing consumes this queue: entries wait until an
 * operator replays them (admin API or `ghl-bridge replay`) or they are removed.
 */
import type { Job, Queue } from 'bullmq';
import type { FlowSeries } from '../state/flow-series.js';
import { jobFailedAlert, type Alerts } from './alerts.js';
import { DEFAULT_JOB_OPTIONS, DeadLetterJobSchema, QUEUE_NAMES, SOURCE_QUEUES, type DeadLetterJob, type QueueName } from './catalog.js';

/** What the dead letters need of their BullMQ queue (a subset, so an inert one can stand in). */
export type DeadLetterQueue = Pick<Queue, 'add' | 'getJobCounts' | 'getJobs' | 'getJob' | 'remove'>;
/** A queue a dead letter can be replayed into. */
export type ReplayTarget = Pick<Queue, 'add'>;

export interface DeadLetterEntry extends DeadLetterJob {
  /** The dead-letter job's own id (`dl-<queue>-<jobId>`), what replay selects by. */
  id: string;
}

export interface ReplayFilter {
  /** Dead-letter ids to replay. */
  ids?: string[];
  /** Only entries whose source queue is this one. */
  queue?: string;
  /** Every entry (narrowed by `queue` when given). */
  all?: boolean;
}

export interface ReplayedJob {
  deadLetterId: string;
  queue: string;
  /** The new job's id in the source queue. */
  jobId: string;
}

export interface ReplayResult {
  replayed: ReplayedJob[];
  /** Asked-for ids that are not (or no longer) dead letters. */
  missing: string[];
  /** Entries left in place, with why (a source queue this version does not know). */
  skipped: { id: string; reason: string }[];
}

export interface DeadLetters {
  record(sourceQueue: string, job: Job, reason: string): Promise<void>;
  count(): Promise<number>;
  /** Entries, newest failure first; `sourceQueue` narrows to one source queue. */
  list(limit?: number, sourceQueue?: string): Promise<DeadLetterEntry[]>;
  /** Removes the entry of a source job (after it was retried in place). True when one was removed. */
  discard(sourceQueue: string, jobId: string): Promise<boolean>;
  /**
   * Re-adds each selected entry's data to its source queue as a new job with fresh attempts, then
   * removes the entry. Safe to repeat: every effect of every job is idempotent (write ledger, upserts
   * keyed by source id), so a job that partly ran before failing converges to the same end state.
   */
  replay(filter: ReplayFilter, targets: Partial<Record<string, ReplayTarget>>, now?: () => number): Promise<ReplayResult>;
}

const isSourceQueue = (name: string): name is QueueName => SOURCE_QUEUES.some((source) => source === name);

const PENDING_STATES = ['waiting', 'delayed', 'paused', 'prioritized'] as const;
const PAGE = 500;

export function deadLetterId(sourceQueue: string, jobId: string): string {
  return `dl-${sourceQueue}-${jobId}`;
}

/**
 * A replayed job's id: new (so BullMQ does not swallow it as the old job, which may still sit in the
 * failed set) yet derived from the original, so the same entry replayed twice in the same millisecond
 * is one job. A previous replay's stamp is dropped so ids do not grow on every round.
 */
export function replayJobId(sourceJobId: string, at: number): string {
  return `r${at}-${sourceJobId.replace(/^r\d+-/, '')}`;
}

function toEntry(job: Job | undefined): DeadLetterEntry | undefined {
  if (job?.id === undefined) return undefined;
  const parsed = DeadLetterJobSchema.safeParse(job.data);
  return parsed.success ? { id: job.id, ...parsed.data } : undefined;
}

/** Every entry, newest failure first, paged through BullMQ's pending states. */
async function allEntries(queue: DeadLetterQueue, sourceQueue?: string): Promise<DeadLetterEntry[]> {
  const entries: DeadLetterEntry[] = [];
  for (let start = 0; ; start += PAGE) {
    const jobs = await queue.getJobs([...PENDING_STATES], start, start + PAGE - 1);
    for (const job of jobs) {
      const entry = toEntry(job);
      if (entry && (sourceQueue === undefined || entry.queue === sourceQueue)) entries.push(entry);
    }
    if (jobs.length < PAGE) break;
  }
  return entries.sort((a, b) => b.failedAt - a.failedAt);
}

/** The entries a replay filter selects; asked-for ids that are gone or of another queue go into `result`. */
async function selectForReplay(queue: DeadLetterQueue, filter: ReplayFilter, result: ReplayResult): Promise<DeadLetterEntry[]> {
  if (filter.ids && filter.ids.length > 0) {
    const selected: DeadLetterEntry[] = [];
    for (const id of new Set(filter.ids)) {
      const entry = toEntry(await queue.getJob(id));
      if (!entry) result.missing.push(id);
      else if (filter.queue !== undefined && entry.queue !== filter.queue) result.skipped.push({ id, reason: `not a dead letter of ${filter.queue}` });
      else selected.push(entry);
    }
    return selected;
  }
  return filter.all || filter.queue !== undefined ? allEntries(queue, filter.queue) : [];
}

export function createDeadLetters(queue: DeadLetterQueue): DeadLetters {
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
        jobId: deadLetterId(sourceQueue, String(job.id)),
      });
    },
    async count() {
      const counts = await queue.getJobCounts(...PENDING_STATES);
      return Object.values(counts).reduce((sum, value) => sum + value, 0);
    },
    async list(limit = 100, sourceQueue) {
      return (await allEntries(queue, sourceQueue)).slice(0, limit);
    },
    async discard(sourceQueue, jobId) {
      return (await queue.remove(deadLetterId(sourceQueue, jobId))) === 1;
    },
    async replay(filter, targets, now = Date.now) {
      const result: ReplayResult = { replayed: [], missing: [], skipped: [] };
      const selected = await selectForReplay(queue, filter, result);
      const at = now();
      for (const entry of selected) {
        const target = targets[entry.queue];
        if (!target || !isSourceQueue(entry.queue)) {
          result.skipped.push({ id: entry.id, reason: `no queue "${entry.queue}" to replay into` });
          continue;
        }
        const jobId = replayJobId(entry.jobId, at);
        // The processor re-parses the data, as for any job. Add first, then remove: a crash in between
        // replays the entry once more, which is harmless (idempotent effects); the other order could lose it.
        await target.add(entry.name, entry.data, { ...DEFAULT_JOB_OPTIONS[entry.queue], jobId });
        await queue.remove(entry.id);
        result.replayed.push({ deadLetterId: entry.id, queue: entry.queue, jobId });
      }
      return result;
    },
  };
}

export interface DeadLetterPath {
  deadLetters: DeadLetters;
  alerts?: Alerts | undefined;
  /** The dashboard's per-minute counters: each dead-lettering adds `dead-letter:<queue>`. */
  series?: Pick<FlowSeries, 'add'> | undefined;
}

/**
 * The one way a job is dead-lettered, whether the failure policy gave up on it (workers/run-job.ts)
 * or BullMQ failed it for stalling too often before our processor ran: record it, then alert on the
 * failure and on the dead-letter queue's growth. An alert job that fails for good raises no alert,
 * or one broken alert path would feed itself.
 */
export async function deadLetterJob(path: DeadLetterPath, queueName: string, job: Job, reason: string, error: unknown): Promise<void> {
  await path.deadLetters.record(queueName, job, reason);
  // A chart point only: a Redis hiccup here must not stop the failure from being recorded and alerted.
  await path.series?.add({ [`dead-letter:${queueName}`]: 1 }).catch(() => undefined);
  if (queueName === QUEUE_NAMES.alerts || !path.alerts) return;
  await path.alerts.raise(jobFailedAlert(queueName, job, error));
  await alertDeadLetterGrowth(path.deadLetters, path.alerts);
}

/** Dead letters piling up is its own alert, at 10, 100, 1000... entries. */
async function alertDeadLetterGrowth(deadLetters: DeadLetters, alerts: Alerts): Promise<void> {
  const size = await deadLetters.count().catch(() => 0);
  if (size >= 10 && Number.isInteger(Math.log10(size))) {
    await alerts.raise({ kind: 'dead-letter-growth', queue: QUEUE_NAMES.deadLetter, message: `${size} jobs are waiting in the dead-letter queue for a replay` });
  }
}
