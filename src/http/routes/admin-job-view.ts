/** Jobs and dead letters as the admin API shows them: one row shape, with a short, secret-free summary of the data. */
import type { Job } from 'bullmq';
import { z } from 'zod';
import { QUEUE_NAMES, type QueueName } from '../../queue/catalog.js';
import type { DeadLetterEntry } from '../../queue/dead-letters.js';
import { QueueNameSchema } from './admin-shared.js';

export const JOB_STATES = ['failed', 'waiting', 'active', 'delayed', 'completed'] as const;

const JobDataSummarySchema = z
  .record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()]))
  .describe('Scalar fields of the job data (dotted paths, two levels deep, strings shortened); never secrets. For the viewer token only identifiers keep their value, the rest (personal data) reads `[redacted]`');

export const AdminJobSchema = z
  .object({
    id: z.string(),
    queue: QueueNameSchema,
    name: z.string(),
    state: z.string().describe('BullMQ state; dead letters are `failed`'),
    attemptsMade: z.number().int(),
    failedReason: z.string().nullable(),
    createdAt: z.number().int().describe('Epoch ms the job was added (a dead letter: when it was recorded)'),
    processedOn: z.number().int().nullable(),
    finishedOn: z.number().int().nullable(),
    data: JobDataSummarySchema,
    deadLetter: z
      .object({ queue: z.string(), jobId: z.string() })
      .optional()
      .describe('Present on dead-letter entries: the source queue and job; replay with POST /admin/dead-letter/replay'),
  })
  .meta({ id: 'AdminJob' });
export type AdminJob = z.infer<typeof AdminJobSchema>;

export const DeadLetterEntrySchema = z
  .object({
    id: z.string().describe('The dead-letter id, what replay selects by'),
    queue: z.string().describe('Source queue'),
    jobId: z.string().describe('Source job id'),
    name: z.string(),
    data: z.unknown().describe('The job data as queued; for the viewer token, the summary of AdminJob.data with personal data redacted'),
    failedReason: z.string(),
    attemptsMade: z.number().int(),
    stacktrace: z.array(z.string()),
    failedAt: z.number().int(),
  })
  .meta({ id: 'DeadLetterEntry' });

function latest(job: AdminJob): number {
  return job.finishedOn ?? job.processedOn ?? job.createdAt;
}

export function toAdminJob(queue: QueueName, state: string, job: Job): AdminJob {
  return {
    id: String(job.id ?? ''),
    queue,
    name: job.name,
    state,
    attemptsMade: job.attemptsMade,
    failedReason: job.failedReason ? job.failedReason.slice(0, 2_000) : null,
    createdAt: job.timestamp,
    processedOn: job.processedOn ?? null,
    finishedOn: job.finishedOn ?? null,
    data: summarizeJobData(job.data),
  };
}

export function deadLetterAsJob(entry: DeadLetterEntry): AdminJob {
  return {
    id: entry.id,
    queue: QUEUE_NAMES.deadLetter,
    name: entry.name,
    state: 'failed',
    attemptsMade: entry.attemptsMade,
    failedReason: entry.failedReason,
    createdAt: entry.failedAt,
    processedOn: null,
    finishedOn: entry.failedAt,
    data: summarizeJobData(entry.data),
    deadLetter: { queue: entry.queue, jobId: entry.jobId },
  };
}

/** Job data never holds tokens (catalog rule), but a name that looks like one is left out all the same. */
const SECRET_LIKE = /token|secret|password|authorization|api[-_]?key|signature|cookie/i;
const MAX_SUMMARY_FIELDS = 16;
const MAX_STRING = 120;

/** Scalar fields of job data, two levels deep, shortened: enough to recognize a job, small to send. */
export function summarizeJobData(data: unknown): Record<string, string | number | boolean | null> {
  const summary: Record<string, string | number | boolean | null> = {};
  const visit = (value: unknown, path: string, depth: number) => {
    if (Object.keys(summary).length >= MAX_SUMMARY_FIELDS) return;
    if (value === null || typeof value === 'number' || typeof value === 'boolean') summary[path] = value;
    else if (typeof value === 'string') summary[path] = value.length > MAX_STRING ? `${value.slice(0, MAX_STRING)}…` : value;
    else if (depth < 2 && typeof value === 'object' && !Array.isArray(value)) {
      for (const [key, child] of Object.entries(value)) {
        if (!SECRET_LIKE.test(key)) visit(child, path ? `${path}.${key}` : key, depth + 1);
      }
    }
  };
  visit(data, '', 0);
  return summary;
}

/** Fields a viewer sees the value of: identifiers and event facts, never names, emails, answers or texts. */
const VIEWER_VISIBLE = /(?:^|\.)(?:id|[A-Za-z]*Id|ids|type|eventType|reason|kind|system|scope|triggeredAt|receivedAt|at|attempt)$/;

/** A data summary as the viewer token sees it: identifiers kept, every other value `[redacted]`. */
export function redactSummaryForViewer(summary: Record<string, string | number | boolean | null>): Record<string, string | number | boolean | null> {
  return Object.fromEntries(Object.entries(summary).map(([path, value]) => [path, VIEWER_VISIBLE.test(path) || value === null ? value : '[redacted]']));
}

/** A job row for the viewer token: the payload summary redacted (Bull Board hides payloads from viewers too). */
export function adminJobForViewer(job: AdminJob): AdminJob {
  return { ...job, data: redactSummaryForViewer(job.data) };
}

/** A dead letter for the viewer token: the redacted summary instead of the data, no stack trace. */
export function deadLetterForViewer(entry: DeadLetterEntry): DeadLetterEntry {
  return { ...entry, data: redactSummaryForViewer(summarizeJobData(entry.data)), stacktrace: [] };
}

/** Newest activity first. */
export function latestFirst(jobs: AdminJob[]): AdminJob[] {
  return jobs.sort((a, b) => latest(b) - latest(a));
}
