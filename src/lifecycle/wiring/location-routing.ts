/**
 * The wiring side of routing between locations (src/domain/location-routing.ts): where the
 * environment's settings and the per-location connections say each business unit's reviews and each
 * Opinion Stage item's responses belong. The per-location connection functions answer "none" until
 * per-location connections are stored; they are the one place those connections are read from.
 */
import type { Config } from '../../config/env.js';
import { trustpilotLocationsFor } from '../../domain/location-routing.js';
import type { OpinionStageConnectionView, TrustpilotConnectionView } from '../../http/routes/admin-locations.js';

/** Business units of per-location Trustpilot connections → their locations. */
export async function trustpilotConnectionLocations(): Promise<ReadonlyMap<string, readonly string[]>> {
  return new Map();
}

/** Items of per-location Opinion Stage connections → their location. */
export async function opinionStageConnectionItemLocations(): Promise<ReadonlyMap<string, string>> {
  return new Map();
}

/**
 * A location's own Trustpilot or Opinion Stage connection, masked, when it has one; undefined means
 * "uses the environment's settings".
 */
export async function locationConnectionView(kind: 'trustpilot', locationId: string): Promise<TrustpilotConnectionView | undefined>;
export async function locationConnectionView(kind: 'opinionstage', locationId: string): Promise<OpinionStageConnectionView | undefined>;
export async function locationConnectionView(_kind: 'trustpilot' | 'opinionstage', _locationId: string): Promise<TrustpilotConnectionView | OpinionStageConnectionView | undefined> {
  return undefined;
}

/** OPINIONSTAGE_ITEM_LOCATIONS as the router reads it. */
export function itemLocationsOf(config: Config): ReadonlyMap<string, string> {
  return new Map(Object.entries(config.OPINIONSTAGE_ITEM_LOCATIONS));
}

/**
 * The served locations a business unit's reviews may be matched in (absent unit: ours,
 * TRUSTPILOT_BUSINESS_UNIT_ID): TRUSTPILOT_LOCATIONS for ours, a connection's locations for its own.
 */
export function trustpilotLocations(config: Config) {
  return async (businessUnitId: string | undefined, served: readonly string[]): Promise<readonly string[]> =>
    trustpilotLocationsFor({
      businessUnitId: businessUnitId ?? config.TRUSTPILOT_BUSINESS_UNIT_ID ?? '',
      defaultBusinessUnitId: config.TRUSTPILOT_BUSINESS_UNIT_ID,
      envLocations: config.TRUSTPILOT_LOCATIONS,
      connectionLocations: await trustpilotConnectionLocations(),
      servedLocations: served,
    });
}
