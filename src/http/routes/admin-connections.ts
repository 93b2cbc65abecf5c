/**
 * PUT and DELETE /admin/locations/:locationId/trustpilot|opinionstage: a location's own Trustpilot
 * business unit or Opinion Stage account (admin). Stored encrypted (src/state/location-connections.ts);
 * the answer, like every later view, shows secrets masked. Nothing upstream is called here: a wrong
 * Trustpilot credential shows at the location's first Trustpilot call (a failed job and one alert)
 * and in `ghl-bridge doctor`, so a PUT never waits on Trustpilot or spends its call budget.
 */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  ConnectionLocationIdSchema,
  maskOpinionStageConnection,
  maskTrustpilotConnection,
  OpinionStageConnectionSchema,
  TrustpilotConnectionSchema,
  type ConnectionKind,
  type LocationConnectionStore,
} from '../../state/location-connections.js';
import { ADMIN_AUTH_ERROR_REPLIES } from '../plugins/admin-auth.js';
import { ErrorReplySchema, errorReply } from '../schemas/common.js';
import { ADMIN_COMMON, ADMIN_CONFIG, VALIDATION_REPLY } from './admin-shared.js';

export interface AdminConnectionDeps {
  /** Undefined without ENCRYPTION_KEY: connections are never stored in clear. */
  connections: Pick<LocationConnectionStore, 'set' | 'delete'> | undefined;
  /** Called after a change, so this process's cached copy is read again at once. */
  connectionsChanged?: () => void;
}

export const MaskedTrustpilotConnectionSchema = z
  .object({
    businessUnitId: z.string(),
    apiKey: z.string(),
    apiSecret: z.string(),
    username: z.string(),
    password: z.string(),
    webhookSecret: z.string().nullable(),
  })
  .describe('Secrets masked: at most their last 4 characters')
  .meta({ id: 'MaskedTrustpilotConnection' });

export const MaskedOpinionStageConnectionSchema = z
  .object({ apiKey: z.string(), itemIds: z.array(z.string()), webhookSecret: z.string() })
  .describe('Secrets masked: at most their last 4 characters')
  .meta({ id: 'MaskedOpinionStageConnection' });

const webhookUrlOf = (kind: ConnectionKind, locationId: string) => `/webhooks/${kind}?location=${encodeURIComponent(locationId)}`;

const stored = <T extends z.ZodType>(connection: T) =>
  z.object({
    locationId: z.string(),
    connection,
    webhookPath: z.string().describe('This connection\'s own webhook URL (path and query), authenticated by its secret'),
  });

const Params = z.object({ locationId: ConnectionLocationIdSchema });
const DeletedSchema = z.object({ locationId: z.string(), deleted: z.literal(true) }).meta({ id: 'ConnectionDeleted' });
const NOT_CONFIGURED_REPLY = { 409: ErrorReplySchema.describe('`ENCRYPTION_KEY_REQUIRED`: connections are stored encrypted, so ENCRYPTION_KEY must be set') };

const notConfigured = () => errorReply(409, 'ENCRYPTION_KEY_REQUIRED', 'set ENCRYPTION_KEY: location connections are stored encrypted');

export function registerAdminConnectionRoutes(app: FastifyInstance, deps: AdminConnectionDeps): void {
  const typed = app.withTypeProvider<ZodTypeProvider>();
  const changed = () => deps.connectionsChanged?.();

  typed.put(
    '/admin/locations/:locationId/trustpilot',
    {
      config: ADMIN_CONFIG,
      schema: {
        ...ADMIN_COMMON,
        summary: "Connect a location to its own Trustpilot business unit (admin); replaces the location's previous one",
        description:
          'Stored encrypted with ENCRYPTION_KEY; secrets are never returned. Nothing is checked with Trustpilot at this point: wrong credentials show at the first call (failed job, one alert) and in `ghl-bridge doctor`. ' +
          'The location then uses its own token, call budget (`TRUSTPILOT_RATE_LIMIT` each), review index and poll.',
        params: Params,
        body: TrustpilotConnectionSchema,
        response: { 200: stored(MaskedTrustpilotConnectionSchema).meta({ id: 'StoredTrustpilotConnection' }), ...VALIDATION_REPLY, ...ADMIN_AUTH_ERROR_REPLIES, ...NOT_CONFIGURED_REPLY },
      },
    },
    async (request, reply) => {
      if (!deps.connections) return reply.code(409).send(notConfigured());
      const { locationId } = request.params;
      await deps.connections.set('trustpilot', locationId, request.body);
      changed();
      request.log.info({ locationId, businessUnitId: request.body.businessUnitId }, 'trustpilot connection set');
      return reply.code(200).send({ locationId, connection: maskTrustpilotConnection(request.body), webhookPath: webhookUrlOf('trustpilot', locationId) });
    },
  );

  typed.put(
    '/admin/locations/:locationId/opinionstage',
    {
      config: ADMIN_CONFIG,
      schema: {
        ...ADMIN_COMMON,
        summary: "Connect a location to its own Opinion Stage account (admin); replaces the location's previous one",
        description: "Stored encrypted with ENCRYPTION_KEY; secrets are never returned. Responses to `itemIds` go to this location; the poll reads them with this account's key.",
        params: Params,
        body: OpinionStageConnectionSchema,
        response: { 200: stored(MaskedOpinionStageConnectionSchema).meta({ id: 'StoredOpinionStageConnection' }), ...VALIDATION_REPLY, ...ADMIN_AUTH_ERROR_REPLIES, ...NOT_CONFIGURED_REPLY },
      },
    },
    async (request, reply) => {
      if (!deps.connections) return reply.code(409).send(notConfigured());
      const { locationId } = request.params;
      await deps.connections.set('opinionstage', locationId, request.body);
      changed();
      request.log.info({ locationId, items: request.body.itemIds.length }, 'opinionstage connection set');
      return reply.code(200).send({ locationId, connection: maskOpinionStageConnection(request.body), webhookPath: webhookUrlOf('opinionstage', locationId) });
    },
  );

  for (const kind of ['trustpilot', 'opinionstage'] as const) {
    typed.delete(
      `/admin/locations/:locationId/${kind}`,
      {
        config: ADMIN_CONFIG,
        schema: {
          ...ADMIN_COMMON,
          summary: `Disconnect a location from its own ${kind === 'trustpilot' ? 'Trustpilot business unit' : 'Opinion Stage account'}; it falls back to the environment's (admin)`,
          params: Params,
          response: { 200: DeletedSchema, ...VALIDATION_REPLY, ...ADMIN_AUTH_ERROR_REPLIES, ...NOT_CONFIGURED_REPLY },
        },
      },
      async (request, reply) => {
        if (!deps.connections) return reply.code(409).send(notConfigured());
        const { locationId } = request.params;
        if (!(await deps.connections.delete(kind, locationId))) {
          return reply.code(404).send(errorReply(404, 'NOT_CONNECTED', `location ${locationId} has no ${kind} connection of its own`));
        }
        changed();
        request.log.info({ locationId, kind }, 'location connection deleted');
        return reply.code(200).send({ locationId, deleted: true as const });
      },
    );
  }
}
