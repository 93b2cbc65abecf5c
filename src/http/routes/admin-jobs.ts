/** Admin routes over jobs: list them (with dead letters), retry a failed one, replay dead letters. */
import type { Job, Queue } from 'bullmq';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { QUEUE_NAMES, SOURCE_QUEUES, type QueueName } from '../../queue/catalog.js';
import type { DeadLetters, ReplayTarget } from '../../queue/dead-letters.js';
import { ADMIN_AUTH_ERROR_REPLIES, adminRoleOf } from '../plugins/admin-auth.js';
import { ErrorReplySchema, errorReply } from '../schemas/common.js';
import { AdminJobSchema, adminJobForViewer, deadLetterAsJob, DeadLetterEntrySchema, deadLetterForViewer, JOB_STATES, latestFirst, toAdminJob } from './admin-job-view.js';
import { ADMIN_COMMON, ADMIN_CONFIG, limit, QueueNameSchema, SourceQueueSchema, VALIDATION_REPLY } from './admin-shared.js';

/** What the admin routes need of a BullMQ queue (a subset, so the spec generator can pass inert ones). */
export type AdminQueue = Pick<Queue, 'name' | 'getJob' | 'getJobs' | 'add'>;

export interface AdminJobDeps {
  queues: Record<QueueName, AdminQueue>;
  deadLetters: DeadLetters;
}

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

export function registerAdminJobRoutes(app: FastifyInstance, deps: AdminJobDeps): void {
  const typed = app.withTypeProvider<ZodTypeProvider>();
  typed.get(
    '/admin/jobs',
    {
      config: ADMIN_CONFIG,
      schema: {
        ...ADMIN_COMMON,
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
      const newest = latestFirst(jobs).slice(0, max);
      // Payloads hold personal data (names, emails, answers): only the admin sees them.
      return adminRoleOf(request) === 'admin' ? newest : newest.map(adminJobForViewer);
    },
  );

  typed.get(
    '/admin/dead-letter',
    {
      config: ADMIN_CONFIG,
      schema: {
        ...ADMIN_COMMON,
        summary: 'Dead letters: jobs that failed for good, newest first',
        querystring: z.object({ queue: SourceQueueSchema.optional().describe('Only this source queue'), limit: limit(100, 1_000) }),
        response: { 200: z.array(DeadLetterEntrySchema), ...VALIDATION_REPLY, ...ADMIN_AUTH_ERROR_REPLIES },
      },
    },
    async (request) => {
      const entries = await deps.deadLetters.list(request.query.limit, request.query.queue);
      return adminRoleOf(request) === 'admin' ? entries : entries.map(deadLetterForViewer);
    },
  );
}

export function registerAdminRetryRoute(app: FastifyInstance, deps: AdminJobDeps): void {
  const typed = app.withTypeProvider<ZodTypeProvider>();
  typed.post(
    '/admin/jobs/:id/retry',
    {
      config: ADMIN_CONFIG,
      schema: {
        ...ADMIN_COMMON,
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
}

export function registerAdminReplayRoute(app: FastifyInstance, deps: AdminJobDeps): void {
  const typed = app.withTypeProvider<ZodTypeProvider>();
  const replayTargets: Record<string, ReplayTarget> = Object.fromEntries(SOURCE_QUEUES.map((name) => [name, deps.queues[name]]));
  typed.post(
    '/admin/dead-letter/replay',
    {
      config: ADMIN_CONFIG,
      schema: {
        ...ADMIN_COMMON,
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
}
