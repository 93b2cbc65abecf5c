/**
 * What GET /admin/locations shows of each served location: its install, budget use, and the
 * Trustpilot and Opinion Stage connection its reviews and responses go through (the environment's,
 * or the location's own), with secrets masked.
 */
import type { Config } from '../../config/env.js';
import {
  describeLocation,
  maskSecret,
  type LocationView,
  type OpinionStageConnectionView,
  type TrustpilotConnectionView,
} from '../../http/routes/admin-locations.js';
import type { GhlAccess } from './ghl.js';
import type { GhlGuard } from './guards.js';
import type { ConnectionsAccess } from './location-connections.js';
import { locationConnectionView, trustpilotLocations } from './location-routing.js';

export interface LocationViewParts {
  config: Config;
  ghl: GhlAccess;
  guard: GhlGuard;
  connections?: ConnectionsAccess | undefined;
}

export function createLocationDescriber({ config, ghl, guard, connections }: LocationViewParts): () => Promise<LocationView[]> {
  const privateLocations = config.GHL_PRIVATE_TOKEN && config.GHL_LOCATION_ID ? [config.GHL_LOCATION_ID] : [];
  const store = ghl.oauth?.store;
  return async () => {
    const served = await ghl.served.list();
    const facts = {
      privateLocations,
      ...(store ? { oauthInstall: async (locationId: string) => store.get(locationId) } : {}),
      budgetUsage: (locationId: string) => guard.usage(locationId),
      trustpilot: async (locationId: string) => (await locationConnectionView(connections, 'trustpilot', locationId)) ?? (await environmentTrustpilot(config, served, locationId, connections)),
      opinionStage: async (locationId: string) => (await locationConnectionView(connections, 'opinionstage', locationId)) ?? environmentOpinionStage(config, locationId),
    };
    return Promise.all(served.map((locationId) => describeLocation(facts, locationId)));
  };
}

/** The TRUSTPILOT_* connection, for the locations our business unit's reviews are matched in. */
async function environmentTrustpilot(config: Config, served: readonly string[], locationId: string, connections: ConnectionsAccess | undefined): Promise<TrustpilotConnectionView | undefined> {
  if (!config.TRUSTPILOT_API_KEY) return undefined;
  if (!(await trustpilotLocations(config, connections)(undefined, served)).includes(locationId)) return undefined;
  return {
    source: 'environment',
    businessUnitId: config.TRUSTPILOT_BUSINESS_UNIT_ID ?? null,
    apiKey: maskSecret(config.TRUSTPILOT_API_KEY),
    username: config.TRUSTPILOT_USERNAME ?? null,
    webhookSecret: maskSecret(config.TRUSTPILOT_WEBHOOK_SECRET),
  };
}

/** The OPINIONSTAGE_* connection, with the items OPINIONSTAGE_ITEM_LOCATIONS sends to this location. */
function environmentOpinionStage(config: Config, locationId: string): OpinionStageConnectionView | undefined {
  if (!config.OPINIONSTAGE_API_KEY && !config.OPINIONSTAGE_WEBHOOK_SECRET) return undefined;
  return {
    source: 'environment',
    apiKey: maskSecret(config.OPINIONSTAGE_API_KEY),
    itemIds: Object.entries(config.OPINIONSTAGE_ITEM_LOCATIONS)
      .filter(([, target]) => target === locationId)
      .map(([itemId]) => itemId),
    webhookSecret: maskSecret(config.OPINIONSTAGE_WEBHOOK_SECRET),
  };
}
