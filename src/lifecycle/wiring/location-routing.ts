/**
 * The wiring side of routing between locations (src/domain/location-routing.ts): where the
 * environment's settings and the per-location connections say each business unit's reviews and each
 * Opinion Stage item's responses belong. The per-location connection functions are the one place the
 * routing reads those connections from (none without ENCRYPTION_KEY).
 */
import type { Config } from '../../config/env.js';
import { trustpilotLocationsFor } from '../../domain/location-routing.js';
import type { OpinionStageConnectionView, TrustpilotConnectionView } from '../../http/routes/admin-locations.js';
import type { ConnectionsAccess } from './location-connections.js';

/** Business units of per-location Trustpilot connections → their locations. */
export async function trustpilotConnectionLocations(connections: ConnectionsAccess | undefined): Promise<ReadonlyMap<string, readonly string[]>> {
  return connections ? connections.businessUnitLocations() : new Map();
}

/**
 * Items of per-location Opinion Stage connections → their location. An item that two locations'
 * connections both list has no single location: it is left out, so its responses are routed by the
 * other rules or dead-lettered, never guessed.
 */
export async function opinionStageConnectionItemLocations(connections: ConnectionsAccess | undefined): Promise<ReadonlyMap<string, string>> {
  if (!connections) return new Map();
  const single = [...(await connections.itemLocations())].filter(([, locations]) => locations.length === 1);
  return new Map(single.map(([itemId, locations]) => [itemId, locations[0] as string]));
}

/**
 * A location's own Trustpilot or Opinion Stage connection, masked, when it has one; undefined means
 * "uses the environment's settings".
 */
export async function locationConnectionView(connections: ConnectionsAccess | undefined, kind: 'trustpilot', locationId: string): Promise<TrustpilotConnectionView | undefined>;
export async function locationConnectionView(connections: ConnectionsAccess | undefined, kind: 'opinionstage', locationId: string): Promise<OpinionStageConnectionView | undefined>;
export async function locationConnectionView(
  connections: ConnectionsAccess | undefined,
  kind: 'trustpilot' | 'opinionstage',
  locationId: string,
): Promise<TrustpilotConnectionView | OpinionStageConnectionView | undefined> {
  if (!connections) return undefined;
  const own = await connections.masked(locationId);
  if (kind === 'trustpilot') {
    const tp = own.trustpilot;
    return tp ? { source: 'location', businessUnitId: tp.businessUnitId, apiKey: tp.apiKey, username: tp.username, webhookSecret: tp.webhookSecret } : undefined;
  }
  const os = own.opinionstage;
  return os ? { source: 'location', apiKey: os.apiKey, itemIds: os.itemIds, webhookSecret: os.webhookSecret } : undefined;
}

/** OPINIONSTAGE_ITEM_LOCATIONS as the router reads it. */
export function itemLocationsOf(config: Config): ReadonlyMap<string, string> {
  return new Map(Object.entries(config.OPINIONSTAGE_ITEM_LOCATIONS));
}

/**
 * The served locations a business unit's reviews may be matched in (absent unit: ours,
 * TRUSTPILOT_BUSINESS_UNIT_ID): TRUSTPILOT_LOCATIONS for ours, a connection's locations for its own.
 */
export function trustpilotLocations(config: Config, connections?: ConnectionsAccess) {
  return async (businessUnitId: string | undefined, served: readonly string[]): Promise<readonly string[]> =>
    trustpilotLocationsFor({
      businessUnitId: businessUnitId ?? config.TRUSTPILOT_BUSINESS_UNIT_ID ?? '',
      defaultBusinessUnitId: config.TRUSTPILOT_BUSINESS_UNIT_ID,
      envLocations: config.TRUSTPILOT_LOCATIONS,
      connectionLocations: await trustpilotConnectionLocations(connections),
      servedLocations: served,
    });
}
