/**
 * The admin API: inspect and replay jobs, the active mapping, dry-run
 * plans, and a one-contact sync. The viewer token may call every GET; everything else needs the
 * admin token (403 for a viewer, 401 without a token). Without ADMIN_TOKEN the admin API is off: every
 * route answers 404 `ADMIN_DISABLED` (see plugins/admin-auth.ts).
 */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { DEFAULT_MAPPING, MappingSchema, type Mapping } from '../../config/mapping.js';
import { ALL_QUEUES, type QueueName } from '../../queue/catalog.js';
import { createDeadLetters } from '../../queue/dead-letters.js';
import { PlannedWriteRecordSchema, type PlannedWrites } from '../../state/planned-writes.js';
import { ADMIN_AUTH_ERROR_REPLIES, useAdminAuth } from '../plugins/admin-auth.js';
import { registerAdminLocationsRoute, type AdminLocationsDeps } from './admin-locations.js';
import { registerAdminJobRoutes, registerAdminReplayRoute, registerAdminRetryRoute, type AdminJobDeps, type AdminQueue } from './admin-jobs.js';
import { ADMIN_COMMON, ADMIN_CONFIG, limit, QueueNameSchema, VALIDATION_REPLY } from './admin-shared.js';
import { registerAdminSyncRoute, type AdminSyncDeps } from './admin-sync.js';
import { registerAdminConnectionRoutes, type AdminConnectionDeps } from './admin-connections.js';

export interface AdminDeps extends AdminJobDeps, AdminSyncDeps, AdminLocationsDeps, AdminConnectionDeps {
  adminToken: string | undefined;
  viewerToken: string | undefined;
  mapping: Mapping;
  planned: PlannedWrites;
}

/** Routes in the order the OpenAPI document lists them. */
export async function registerAdminRoutes(app: FastifyInstance, options: { deps: AdminDeps }): Promise<void> {
  const { deps } = options;
  useAdminAuth(app, { adminToken: deps.adminToken, viewerToken: deps.viewerToken });
  const typed = app.withTypeProvider<ZodTypeProvider>();
  typed.get(
    '/admin/mapping',
    {
      config: ADMIN_CONFIG,
      schema: {
        ...ADMIN_COMMON,
        summary: 'The active mapping (MAPPING_FILE over the built-in defaults)',
        response: { 200: MappingSchema, ...ADMIN_AUTH_ERROR_REPLIES },
      },
    },
    async () => deps.mapping,
  );

  typed.get(
    '/admin/planned',
    {
      config: ADMIN_CONFIG,
      schema: {
        ...ADMIN_COMMON,
        summary: 'Writes planned in dry-run mode, newest first',
        querystring: z.object({ limit: limit(100, 1_000) }),
        response: { 200: z.array(PlannedWriteRecordSchema), ...VALIDATION_REPLY, ...ADMIN_AUTH_ERROR_REPLIES },
      },
    },
    async (request) => deps.planned.list(request.query.limit),
  );
  registerAdminJobRoutes(app, deps);
  registerAdminRetryRoute(app, deps);
  registerAdminReplayRoute(app, deps);
  registerAdminSyncRoute(app, deps);
  registerAdminLocationsRoute(app, deps);
  registerAdminConnectionRoutes(app, deps);
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
    describeLocations: async () => [],
    connections: undefined,
  };
}
