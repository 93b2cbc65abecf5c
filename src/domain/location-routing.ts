/**
 * Where an Opinion Stage response or a Trustpilot review may be written, when the bridge serves
 * several locations. Pure, and it never guesses: a response whose location cannot be told gets a
 * reason instead, and a location the bridge does not serve is never an answer.
 */

export interface OpinionStageRouteInput {
  /** `location_id` carried by the personal survey link (src/domain/survey-link.ts). */
  personalLinkLocationId?: string | undefined;
  /** The `?location=` of a per-location webhook URL. */
  webhookLocationId?: string | undefined;
  itemId: string;
  /** OPINIONSTAGE_ITEM_LOCATIONS: item id → location id. */
  itemLocations: ReadonlyMap<string, string>;
  /** Items of per-location Opinion Stage connections: item id → location id. */
  connectionItemLocations: ReadonlyMap<string, string>;
  servedLocations: readonly string[];
}

export type OpinionStageRoute = { locationId: string } | { reason: string };

/** The reason a response is not imported when nothing names its location. */
export function noLocationReason(itemId: string): string {
  return `no location for Opinion Stage item ${itemId}`;
}

/**
 * Where an Opinion Stage response goes, in order: the personal link's location (when served), the
 * webhook URL's `?location=`, OPINIONSTAGE_ITEM_LOCATIONS, the item's per-location connection, the
 * only served location. A location named by the webhook URL or the configuration that is not served
 * stops the routing (falling through would write where the operator said not to); with several
 * served locations and nothing naming one, the response has no location.
 */
export function routeOpinionStageResponse(input: OpinionStageRouteInput): OpinionStageRoute {
  const served = new Set(input.servedLocations);
  if (input.personalLinkLocationId !== undefined && served.has(input.personalLinkLocationId)) return { locationId: input.personalLinkLocationId };
  const named = [input.webhookLocationId, input.itemLocations.get(input.itemId), input.connectionItemLocations.get(input.itemId)].find((id) => id !== undefined && id !== '');
  if (named !== undefined) {
    return served.has(named) ? { locationId: named } : { reason: `location ${named} of Opinion Stage item ${input.itemId} is not served` };
  }
  const [only, ...others] = served;
  if (only !== undefined && others.length === 0) return { locationId: only };
  return { reason: noLocationReason(input.itemId) };
}

export interface TrustpilotLocationsInput {
  businessUnitId: string;
  /** TRUSTPILOT_BUSINESS_UNIT_ID; absent: every unit without a connection is the environment's. */
  defaultBusinessUnitId?: string | undefined;
  /** TRUSTPILOT_LOCATIONS; empty: every served location without a Trustpilot connection of its own. */
  envLocations: readonly string[];
  /** Business unit → the locations connected to it. */
  connectionLocations: ReadonlyMap<string, readonly string[]>;
  servedLocations: readonly string[];
}

/**
 * The locations a business unit's reviews may be matched in, in served order: the locations
 * connected to that unit and, for the environment's unit, TRUSTPILOT_LOCATIONS (by default every
 * served location that has no Trustpilot connection of its own). Only served locations.
 */
export function trustpilotLocationsFor(input: TrustpilotLocationsInput): readonly string[] {
  const wanted = new Set(input.connectionLocations.get(input.businessUnitId) ?? []);
  const isDefault = input.defaultBusinessUnitId === undefined ? !input.connectionLocations.has(input.businessUnitId) : input.businessUnitId === input.defaultBusinessUnitId;
  if (isDefault) {
    const connected = new Set([...input.connectionLocations.values()].flat());
    const envLocations = input.envLocations.length > 0 ? input.envLocations : input.servedLocations.filter((id) => !connected.has(id));
    for (const id of envLocations) wanted.add(id);
  }
  return input.servedLocations.filter((id, index, all) => wanted.has(id) && all.indexOf(id) === index);
}
