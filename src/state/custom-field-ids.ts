/**
 * Custom field keys (`contact.trustpilot_score`) resolved to the location's field ids, cached in Redis:
 * GHL reads return custom fields by id only, and writes are safest by id. A field created after the
 * map was cached (setup-fields run while the bridge runs) is picked up once the map is a little old.
 */
import { z } from 'zod';
import type { GhlClient } from '../clients/ghl/ghl-client.js';
import { stateKey, type RedisClient } from './keys.js';

const CACHE_TTL_SECONDS = 600;
/** A map missing a wanted field is read again from GHL when it is older than this. */
const REFRESH_MISSING_AFTER_MS = 30_000;
const CachedMapSchema = z.object({ at: z.number(), fields: z.record(z.string(), z.string()) });

/** A resolved map, and whether this caller's own listing call to GHL made it (a caller sharing another's listing did not). */
export interface ResolvedFieldIds {
  fields: Record<string, string>;
  listed: boolean;
}

export interface CustomFieldIds {
  /** fieldKey → id for every contact field of the location; `wanted` keys missing from an older cache trigger a refresh. */
  resolve(locationId: string, wanted?: readonly string[]): Promise<Record<string, string>>;
  /** As `resolve`, also telling whether it called GHL (for a run's call count), with one read of the cache. */
  resolveCounted(locationId: string, wanted?: readonly string[]): Promise<ResolvedFieldIds>;
  /** Cached map only (no GHL call); undefined when not cached. */
  cached(locationId: string): Promise<Record<string, string> | undefined>;
  forget(locationId: string): Promise<void>;
}

export function createCustomFieldIds(redis: RedisClient, prefix: string, ghl: Pick<GhlClient, 'listCustomFields'>, now: () => number = Date.now): CustomFieldIds {
  const key = (locationId: string) => stateKey(prefix, 'custom-field-ids', locationId, 'contact');
  async function read(locationId: string) {
    const raw = await redis.get(key(locationId));
    if (raw === null) return undefined;
    const parsed = CachedMapSchema.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : undefined;
  }
  const inFlight = new Map<string, Promise<Record<string, string>>>();
  async function fetchAndStore(locationId: string): Promise<Record<string, string>> {
    const { items } = await ghl.listCustomFields(locationId, 'contact');
    const fields: Record<string, string> = {};
    for (const field of items) if (field.fieldKey) fields[field.fieldKey] = field.id;
    await redis.set(key(locationId), JSON.stringify({ at: now(), fields }), 'EX', CACHE_TTL_SECONDS);
    return fields;
  }
  async function resolveCounted(locationId: string, wanted: readonly string[] = []): Promise<ResolvedFieldIds> {
    const hit = await read(locationId);
    const complete = hit && wanted.every((field) => hit.fields[field] !== undefined);
    if (hit && (complete || now() - hit.at < REFRESH_MISSING_AFTER_MS)) return { fields: hit.fields, listed: false };
    // Jobs of one location starting together (a cold cache under load) share one read.
    const pending = inFlight.get(locationId);
    if (pending) return { fields: await pending, listed: false };
    const reading = fetchAndStore(locationId).finally(() => inFlight.delete(locationId));
    inFlight.set(locationId, reading);
    return { fields: await reading, listed: true };
  }
  return {
    async cached(locationId) {
      return (await read(locationId))?.fields;
    },
    async resolve(locationId, wanted) {
      return (await resolveCounted(locationId, wanted)).fields;
    },
    resolveCounted,
    async forget(locationId) {
      await redis.del(key(locationId));
    },
  };
}
