/**
 * GET /admin/locations (viewer may read): every served location, how it is authorised, whether it
 * needs reconnecting, its GHL budget use, and the Trustpilot and Opinion Stage connection its reviews
 * and responses go through: the environment's, or the location's own. Secrets are masked.
 */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { GhlBudgetUsage } from '../../clients/ghl/ghl-budget.js';
import { ADMIN_AUTH_ERROR_REPLIES } from '../plugins/admin-auth.js';
import { ADMIN_COMMON, ADMIN_CONFIG } from './admin-shared.js';

const MaskedSchema = z.string().nullable().describe('A secret, masked (`****` and at most its last 4 characters); null when not set');

export const TrustpilotConnectionViewSchema = z
  .object({
    source: z.enum(['environment', 'location']).describe('`environment`: the TRUSTPILOT_* settings; `location`: this location\'s own connection'),
    businessUnitId: z.string().nullable(),
    apiKey: MaskedSchema,
    username: z.string().nullable().describe('The business user reading private reviews; null without one'),
    webhookSecret: MaskedSchema,
  })
  .meta({ id: 'TrustpilotConnectionView' });
export type TrustpilotConnectionView = z.infer<typeof TrustpilotConnectionViewSchema>;

export const OpinionStageConnectionViewSchema = z
  .object({
    source: z.enum(['environment', 'location']).describe('`environment`: the OPINIONSTAGE_* settings; `location`: this location\'s own connection'),
    apiKey: MaskedSchema,
    itemIds: z.array(z.string()).describe('Items whose responses go to this location (from OPINIONSTAGE_ITEM_LOCATIONS, or the connection)'),
    webhookSecret: MaskedSchema,
  })
  .meta({ id: 'OpinionStageConnectionView' });
export type OpinionStageConnectionView = z.infer<typeof OpinionStageConnectionViewSchema>;

const LocationViewSchema = z
  .object({
    locationId: z.string(),
    companyId: z.string().nullable().describe('The GHL company (agency) that installed it, as stored at install; null when not known (private token)'),
    authorisation: z.enum(['private-token', 'oauth']),
    needsReconnect: z.boolean().describe('OAuth only: the refresh failed for good or the token is missing; the location must install the app again'),
    budget: z.object({
      window: z.number().int().describe('GHL calls in the current window'),
      windowLimit: z.number().int(),
      windowMs: z.number().int(),
      day: z.number().int().describe('GHL calls today'),
      dailyLimit: z.number().int().nullable(),
      blockedUntil: z.iso.datetime().nullable().describe('Set while GHL asked the bridge to wait'),
    }),
    trustpilot: TrustpilotConnectionViewSchema.nullable().describe('Null: Trustpilot reviews are not matched in this location'),
    opinionStage: OpinionStageConnectionViewSchema.nullable().describe('Null: no Opinion Stage account is configured'),
  })
  .meta({ id: 'LocationView' });
export type LocationView = z.infer<typeof LocationViewSchema>;

export interface AdminLocationsDeps {
  /** Every served location, described. */
  describeLocations(): Promise<LocationView[]>;
}

export function registerAdminLocationsRoute(app: FastifyInstance, deps: AdminLocationsDeps): void {
  app.withTypeProvider<ZodTypeProvider>().get(
    '/admin/locations',
    {
      config: ADMIN_CONFIG,
      schema: {
        ...ADMIN_COMMON,
        summary: 'Every served location: authorisation, reconnect need, GHL budget use, Trustpilot and Opinion Stage connections (secrets masked)',
        response: { 200: z.array(LocationViewSchema), ...ADMIN_AUTH_ERROR_REPLIES },
      },
    },
    async () => deps.describeLocations(),
  );
}

/** `****` and the last 4 characters of a secret long enough to keep most of it hidden; null when not set. */
export function maskSecret(secret: string | undefined): string | null {
  if (secret === undefined || secret === '') return null;
  return secret.length >= 16 ? `****${secret.slice(-4)}` : '****';
}

/** What describing one location needs; the wiring (src/lifecycle/wiring/web.ts) fills it. */
export interface LocationFacts {
  privateLocations: readonly string[];
  /** Marketplace-app mode: the stored install of a location (undefined when its token is missing). */
  oauthInstall?(locationId: string): Promise<{ companyId?: string | undefined; needsReconnect?: boolean | undefined } | undefined>;
  budgetUsage(locationId: string): Promise<GhlBudgetUsage>;
  trustpilot(locationId: string): Promise<TrustpilotConnectionView | undefined>;
  opinionStage(locationId: string): Promise<OpinionStageConnectionView | undefined>;
}

export async function describeLocation(facts: LocationFacts, locationId: string): Promise<LocationView> {
  const isPrivate = facts.privateLocations.includes(locationId) || facts.oauthInstall === undefined;
  const install = isPrivate ? undefined : await facts.oauthInstall?.(locationId);
  const usage = await facts.budgetUsage(locationId);
  return {
    locationId,
    companyId: install?.companyId ?? null,
    authorisation: isPrivate ? 'private-token' : 'oauth',
    needsReconnect: !isPrivate && (install === undefined || install.needsReconnect === true),
    budget: {
      window: usage.window,
      windowLimit: usage.limit.max,
      windowMs: usage.limit.windowMs,
      day: usage.day,
      dailyLimit: usage.limit.daily ?? null,
      blockedUntil: usage.blockedUntil === undefined ? null : new Date(usage.blockedUntil).toISOString(),
    },
    trustpilot: (await facts.trustpilot(locationId)) ?? null,
    opinionStage: (await facts.opinionStage(locationId)) ?? null,
  };
}
