/** POST /admin/contacts/:contactId/sync: the whole flow for one contact now, or its plan in a dry run. */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { UpstreamError } from '../../clients/http/upstream-error.js';
import { RateBudgetExceededError } from '../../clients/http/rate-budget-types.js';
import type { ContactSyncOutcome } from '../../workers/contact-sync-processor.js';
import { ADMIN_AUTH_ERROR_REPLIES } from '../plugins/admin-auth.js';
import { ErrorReplySchema, errorReply } from '../schemas/common.js';
import { ADMIN_COMMON, ADMIN_CONFIG, VALIDATION_REPLY } from './admin-shared.js';

export interface AdminSyncDeps {
  /** Runs the whole flow for one contact now; with dryRun, returns the plan instead of writing. */
  syncContact(locationId: string, contactId: string, dryRun: boolean): Promise<ContactSyncOutcome>;
  isServedLocation(locationId: string): boolean | Promise<boolean>;
}

const GhlIdSchema = z.string().regex(/^[A-Za-z0-9_-]{1,128}$/, 'expected a GHL id');

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

export function registerAdminSyncRoute(app: FastifyInstance, deps: AdminSyncDeps): void {
  const typed = app.withTypeProvider<ZodTypeProvider>();
  typed.post(
    '/admin/contacts/:contactId/sync',
    {
      config: ADMIN_CONFIG,
      schema: {
        ...ADMIN_COMMON,
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
