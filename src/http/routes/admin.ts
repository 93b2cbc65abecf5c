/**
 * The admin API (CONTRACT.md "HTTP surface"): inspect and replay jobs, the active mapping, dry-run
 * plans, and a one-contact sync. The viewer token may call every GET; everything else needs the
 * admin token (403 for a viewer, 401 without a token). Without ADMIN_TOKEN the admin API is off: every
 * route answers 404 `ADMIN_DISABLED` (see plugins/admin-auth.ts).
 */
import type { Job, Queue } from 'bullmq';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { UpstreamError } from '../../clients/http/upstream-error.js';
import { DEFAULT_MAPPING, MappingSchema, type Mapping } from '../../config/mapping.js';
import { QUEUE_NAMES, type QueueName } from '../../queue/catalog.js';
import { createDeadLetters, type DeadLetterEntry, type DeadLetters, type ReplayTarget } from '../../queue/dead-letters.js';
import { PlannedWriteRecordSchema, type PlannedWrites } from '../../state/planned-writes.js';
import { RateBudgetExceededError } from '../../clients/http/rate-budget-types.js';
import type { ContactSyncOutcome } from '../../workers/contact-sync-processor.js';
import { ADMIN_AUTH_ERROR_REPLIES, ADMIN_SECURITY, adminSwaggerTransform, useAdminAuth } from '../plugins/admin-auth.js';
import { ErrorReplySchema, errorReply } from '../schemas/common.js';

/** What the admin routes need of a BullMQ queue (a subset, so the spec generator can pass inert ones). */
export type AdminQueue = Pick<Queue, 'name' | 'getJob' | 'getJobs' | 'add'>;

export interface AdminDeps {
  adminToken: string | undefined;
  viewerToken: string | undefined;
  mapping: Mapping;
  planned: PlannedWrites;
  queues: Record<QueueName, AdminQueue>;
  deadLetters: DeadLetters;
  /** Runs the whole flow for one contact now; with dryRun, returns the plan instead of writing. */
  syncContact(locationId: string, contactId: string, dryRun: boolean): Promise<ContactSyncOutcome>;
  isServedLocation(locationId: string): Promise<boolean>;
}

const ALL_QUEUES = Object.values(QUEUE_NAMES);
const SOURCE_QUEUES = ALL_QUEUES.filter((name) => name !== QUEUE_NAMES.deadLetter);
const QueueNameSchema = z.enum(ALL_QUEUES);
const SourceQueueSchema = z.enum(SOURCE_QUEUES);
const GhlIdSchema = z.string().regex(/^[A-Za-z0-9_-]{1,128}$/, 'expected a GHL id');

const limit = (fallback: number, max: number) => z.coerce.number().int().min(1).max(max).default(fallback).describe(`At most this many items (1–${max})`);

const JOB_STATES = ['failed', 'waiting', 'active', 'delayed', 'completed'] as const;

const JobDataSummarySchema = z
  .record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()]))
  .describe('Scalar fields of the job data (dotted paths, two levels deep, strings shortened); never secrets');

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
    data: z.unknown(),
    failedReason: z.string(),
    attemptsMade: z.number().int(),
    stacktrace: z.array(z.string()),
    failedAt: z.number().int(),
  })
  .meta({ id: 'DeadLetterEntry' });

const ReplayRequestSchema = z
  .strictObject({
    ids: z.array(z.string().min(1).max(300)).max(1_000).optional().describe('Dead-letter ids to replay'),
    queue: SourceQueueSchema.optional().describe('Only dead letters of this source queue'),
    all: z.boolean().optional().describe('Every dead letter (narrowed by `queue`)'),
  })
  .describe('Select by `ids`, by `queue`, or `all: true`')
  .meta({ id: 'ReplayRequest' });

const ReplayReplySchema = z
  .object({
    replayed: z.number().int(),
    ids: z.array(z.string()).describe('Dead-letter ids replayed (and removed)'),
    jobs: z.array(z.object({ deadLetterId: z.string(), queue: z.string(), jobId: z.string().describe('The new job') })),
    missing: z.array(z.string()).describe('Asked-for ids that are not dead letters'),
    skipped: z.array(z.object({ id: z.string(), reason: z.string() })).describe('Entries left in place'),
  })
  .meta({ id: 'ReplayReply' });

const FieldValueSchema = z.union([z.string(), z.number(), z.array(z.string())]);
const PlanStepSchema = z
  .discriminatedUnion('kind', [
    z.object({ kind: z.literal('set-fields'), fields: z.array(z.object({ key: z.string(), id: z.string(), value: FieldValueSchema })), reason: z.string() }),
    z.object({ kind: z.literal('create-note'), sourceKey: z.string(), body: z.string(), reason: z.string() }),
    z.object({ kind: z.literal('update-note'), sourceKey: z.string(), noteId: z.string(), body: z.string(), reason: z.string() }),
    z.object({ kind: z.literal('add-tags'), tags: z.array(z.string()), reason: z.string() }),
    z.object({ kind: z.literal('remove-tags'), tags: z.array(z.string()), reason: z.string() }),
    z.object({
      kind: z.literal('create-task'),
      sourceKey: z.string(),
      title: z.string(),
      body: z.string(),
      dueDate: z.string(),
      assignedTo: z.string().optional(),
      reason: z.string(),
    }),
    z.object({ kind: z.literal('update-task'), sourceKey: z.string(), taskId: z.string(), dueDate: z.string(), reason: z.string() }),
    z.object({ kind: z.literal('complete-task'), sourceKey: z.string(), taskId: z.string(), reason: z.string() }),
  ])
  .meta({ id: 'PlanStep' });

const SyncReplySchema = z
  .object({
    outcome: z.enum(['synced', 'skipped']),
    reason: z.string().optional(),
    writes: z.number().int().describe('Writes made (in dry run: planned and recorded)'),
    ghlCalls: z.number().int(),
    plan: z.array(PlanStepSchema).optional().describe('Dry run only: the writes that were planned instead of made'),
  })
  .meta({ id: 'ContactSyncReply' });

const UpstreamErrorReplySchema = z
  .object({
    statusCode: z.number().int(),
    code: z.string(),
    error: z.string(),
    message: z.string(),
    upstream: z.object({
      system: z.string(),
      code: z.string(),
      status: z.number().int().nullable(),
      requestId: z.string().nullable().describe("The upstream's request id, for its support"),
    }),
  })
  .meta({ id: 'UpstreamErrorReply' });

const VALIDATION_REPLY = { 400: ErrorReplySchema.describe('A parameter, query or body does not match the schema; `fields` names them') };

export async function registerAdminRoutes(app: FastifyInstance, options: { deps: AdminDeps }): Promise<void> {
  const { deps } = options;
  useAdminAuth(app, { adminToken: deps.adminToken, viewerToken: deps.viewerToken });
  const typed = app.withTypeProvider<ZodTypeProvider>();
  const common = { tags: ['admin'], security: ADMIN_SECURITY };
  const config = { swaggerTransform: adminSwaggerTransform };
  const replayTargets: Record<string, ReplayTarget> = Object.fromEntries(SOURCE_QUEUES.map((name) => [name, deps.queues[name]]));

  typed.get(
    '/admin/mapping',
    {
      config,
      schema: {
        ...common,
        summary: 'The active mapping (MAPPING_FILE over the built-in defaults)',
        response: { 200: MappingSchema, ...ADMIN_AUTH_ERROR_REPLIES },
      },
    },
    async () => deps.mapping,
  );

  typed.get(
    '/admin/planned',
    {
      config,
      schema: {
        ...common,
        summary: 'Writes planned in dry-run mode, newest first',
        querystring: z.object({ limit: limit(100, 1_000) }),
        response: { 200: z.array(PlannedWriteRecordSchema), ...VALIDATION_REPLY, ...ADMIN_AUTH_ERROR_REPLIES },
      },
    },
    async (request) => deps.planned.list(request.query.limit),
  );

  typed.get(
    '/admin/jobs',
    {
      config,
      schema: {
        ...common,
        summary: 'Jobs by state, newest first; `state=failed` includes the dead letters',
        querystring: z.object({
          state: z.enum(JOB_STATES).default('failed'),
          queue: QueueNameSchema.optional().describe('One queue; with `state=failed`, dead letters of this source queue are included'),
          limit: limit(50, 500),
        }),
        response: { 200: z.array(AdminJobSchema), ...VALIDATION_REPLY, ...ADMIN_AUTH_ERROR_REPLIES },
      },
    },
    async (request) => {
      const { state, queue, limit: max } = request.query;
      const sources = queue === undefined ? SOURCE_QUEUES : SOURCE_QUEUES.filter((name) => name === queue);
      const lists = await Promise.all(sources.map(async (name) => (await deps.queues[name].getJobs([state], 0, max - 1)).map((job) => toAdminJob(name, state, job))));
      const jobs = lists.flat();
      if (state === 'failed') {
        const source = queue === QUEUE_NAMES.deadLetter ? undefined : queue;
        jobs.push(...(await deps.deadLetters.list(max, source)).map(deadLetterAsJob));
      }
      return jobs.sort((a, b) => latest(b) - latest(a)).slice(0, max);
    },
  );

  typed.get(
    '/admin/dead-letter',
    {
      config,
      schema: {
        ...common,
        summary: 'Dead letters: jobs that failed for good, newest first',
        querystring: z.object({ queue: SourceQueueSchema.optional().describe('Only this source queue'), limit: limit(100, 1_000) }),
        response: { 200: z.array(DeadLetterEntrySchema), ...VALIDATION_REPLY, ...ADMIN_AUTH_ERROR_REPLIES },
      },
    },
    async (request) => deps.deadLetters.list(request.query.limit, request.query.queue),
  );

  typed.post(
    '/admin/jobs/:id/retry',
    {
      config,
      schema: {
        ...common,
        summary: 'Retry a failed job in place, with fresh attempts (admin)',
        params: z.object({ id: z.string().min(1).max(300) }),
        querystring: z.object({ queue: SourceQueueSchema.optional().describe('The job\'s queue; needed when the id exists in several') }),
        response: {
          200: z.object({ id: z.string(), queue: SourceQueueSchema, state: z.literal('waiting'), deadLetterRemoved: z.boolean() }).meta({ id: 'RetryReply' }),
          ...VALIDATION_REPLY,
          ...ADMIN_AUTH_ERROR_REPLIES,
          409: ErrorReplySchema.describe('`JOB_NOT_FAILED`: the job is not in the failed state'),
        },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      const candidates = request.query.queue === undefined ? SOURCE_QUEUES : [request.query.queue];
      const found = (await Promise.all(candidates.map(async (name) => ({ name, job: await deps.queues[name].getJob(id) })))).filter(
        (item): item is { name: (typeof SOURCE_QUEUES)[number]; job: Job } => item.job !== undefined,
      );
      const [match, ...others] = found;
      if (!match) return reply.code(404).send(errorReply(404, 'JOB_NOT_FOUND', `no job ${id}${request.query.queue ? ` in ${request.query.queue}` : ''}`));
      if (others.length > 0) {
        return reply.code(400).send(errorReply(400, 'AMBIGUOUS_JOB_ID', `job id ${id} exists in ${found.map((item) => item.name).join(', ')}: pass ?queue=`));
      }
      const state = await match.job.getState();
      if (state !== 'failed') return reply.code(409).send(errorReply(409, 'JOB_NOT_FAILED', `job ${id} is ${state}, not failed`));
      try {
        // Fresh attempts: a job that used them all would otherwise fail for good on its first error.
        await match.job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
      } catch (error) {
        // Retried or removed by someone else between the check and now.
        return reply.code(409).send(errorReply(409, 'JOB_NOT_FAILED', `job ${id} could not be retried: ${error instanceof Error ? error.message : String(error)}`));
      }
      // The failure is being retried; if it fails for good again it is recorded again.
      const deadLetterRemoved = await deps.deadLetters.discard(match.name, id);
      request.log.info({ queue: match.name, jobId: id, deadLetterRemoved }, 'admin retried a job');
      return reply.code(200).send({ id, queue: match.name, state: 'waiting' as const, deadLetterRemoved });
    },
  );

  typed.post(
    '/admin/dead-letter/replay',
    {
      config,
      schema: {
        ...common,
        summary: 'Replay dead letters as new jobs with fresh attempts, then remove them (admin)',
        description: 'Safe to repeat: every effect of every job is idempotent (write ledger, upserts keyed by the source id).',
        body: ReplayRequestSchema,
        response: { 200: ReplayReplySchema, ...VALIDATION_REPLY, ...ADMIN_AUTH_ERROR_REPLIES },
      },
    },
    async (request, reply) => {
      const { ids, queue, all } = request.body;
      if ((ids === undefined || ids.length === 0) && queue === undefined && all !== true) {
        return reply.code(400).send(errorReply(400, 'NOTHING_SELECTED', 'select dead letters by `ids`, by `queue`, or with `all: true`'));
      }
      const result = await deps.deadLetters.replay({ ...(ids ? { ids } : {}), ...(queue ? { queue } : {}), ...(all ? { all } : {}) }, replayTargets);
      request.log.info({ replayed: result.replayed.length, missing: result.missing.length, skipped: result.skipped.length }, 'admin replayed dead letters');
      return reply.code(200).send({
        replayed: result.replayed.length,
        ids: result.replayed.map((item) => item.deadLetterId),
        jobs: result.replayed,
        missing: result.missing,
        skipped: result.skipped,
      });
    },
  );

  typed.post(
    '/admin/contacts/:contactId/sync',
    {
      config,
      schema: {
        ...common,
        summary: 'Run the whole flow for one contact now; with `dryRun=true`, return the planned writes instead of making them (admin)',
        params: z.object({ contactId: GhlIdSchema }),
        querystring: z.object({
          locationId: GhlIdSchema,
          dryRun: z.stringbool().default(false).describe('`true`: read everything, write nothing, record and return the plan'),
        }),
        response: {
          200: SyncReplySchema,
          ...VALIDATION_REPLY,
          ...ADMIN_AUTH_ERROR_REPLIES,
          429: ErrorReplySchema.describe("The location's call budget (or the upstream's rate limit) is spent; retry after `Retry-After` seconds"),
          502: UpstreamErrorReplySchema.describe('An upstream API refused or failed; `upstream` identifies the call'),
        },
      },
    },
    async (request, reply) => {
      const { contactId } = request.params;
      const { locationId, dryRun } = request.query;
      if (!(await deps.isServedLocation(locationId))) {
        return reply.code(404).send(errorReply(404, 'LOCATION_NOT_SERVED', `this bridge does not serve location ${locationId}`));
      }
      try {
        const outcome = await deps.syncContact(locationId, contactId, dryRun);
        request.log.info({ locationId, contactId, dryRun, outcome: outcome.outcome, writes: outcome.writes }, 'admin synced a contact');
        return reply.code(200).send(outcome);
      } catch (error) {
        const wait = waitSeconds(error);
        if (wait !== undefined) {
          return reply.code(429).header('retry-after', String(wait)).send(errorReply(429, 'RATE_LIMITED', `the call budget is spent; retry in ${wait} s`));
        }
        if (!(error instanceof UpstreamError)) throw error;
        request.log.warn({ locationId, contactId, err: error.toJSON() }, 'admin sync failed upstream');
        return reply.code(502).send({
          ...errorReply(502, 'UPSTREAM_ERROR', error.message),
          upstream: { system: error.system, code: error.code, status: error.status ?? null, requestId: error.requestId ?? null },
        });
      }
    },
  );
}

/** Seconds to wait when the failure is a rate limit (ours or the upstream's), else undefined. */
function waitSeconds(error: unknown): number | undefined {
  if (error instanceof RateBudgetExceededError) return Math.max(1, Math.ceil(error.retryAfterMs / 1000));
  if (error instanceof UpstreamError && error.status === 429) return Math.max(1, Math.ceil((error.retryAfterMs ?? 10_000) / 1000));
  return undefined;
}

function latest(job: AdminJob): number {
  return job.finishedOn ?? job.processedOn ?? job.createdAt;
}

function toAdminJob(queue: QueueName, state: string, job: Job): AdminJob {
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

function deadLetterAsJob(entry: DeadLetterEntry): AdminJob {
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

/**
 * Inert dependencies for generating the OpenAPI document: the routes are registered (so they are
 * documented) but nothing behind them runs and no Redis is needed.
 */
export function describeOnlyAdminDeps(mapping: Mapping = DEFAULT_MAPPING): AdminDeps {
  const unavailable = async (): Promise<never> => {
    throw new Error('describe-only admin dependencies');
  };
  const queue = (name: QueueName): AdminQueue => ({ name, getJob: async () => undefined, getJobs: async () => [], add: unavailable });
  // Exhaustive over QUEUE_NAMES, checked at run time rather than cast.
  const queues = z.record(QueueNameSchema, z.custom<AdminQueue>()).parse(Object.fromEntries(ALL_QUEUES.map((name) => [name, queue(name)])));
  return {
    adminToken: undefined,
    viewerToken: undefined,
    mapping,
    planned: { record: unavailable, list: async () => [] },
    queues,
    deadLetters: createDeadLetters({ add: unavailable, getJob: async () => undefined, getJobs: async () => [], getJobCounts: async () => ({}), remove: async () => 0 }),
    syncContact: unavailable,
    isServedLocation: async () => false,
  };
}
