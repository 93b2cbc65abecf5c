/**
 * Custom field keys (`contact.trustpilot_score`) resolved to the location's field ids, cached in Redis:
 * GHL reads return custom fields by id only, and writes are safest by id.
 */
import type { Redis } from 'ioredis';
import { z } from 'zod';
import type { GhlClient } from '../clients/ghl/ghl-client.js';
import { stateKey } from './keys.js';

const CACHE_TTL_SECONDS = 600;
const FieldMapSchema = z.record(z.string(), z.string());

export interface CustomFieldIds {
  /** fieldKey → id for every contact field of the location. */
  resolve(locationId: string): Promise<Record<string, string>>;
  /** Cached map only (no GHL call); undefined when not cached. */
  cached(locationId: string): Promise<Record<string, string> | undefined>;
  forget(locationId: string): Promise<void>;
}

export function createCustomFieldIds(redis: Redis, prefix: string, ghl: Pick<GhlClient, 'listCustomFields'>): CustomFieldIds {
  const key = (locationId: string) => stateKey(prefix, 'custom-field-ids', locationId, 'contact');
  async function cached(locationId: string) {
    const raw = await redis.get(key(locationId));
    if (raw === null) return undefined;
    const parsed = FieldMapSchema.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : undefined;
  }
  return {
    cached,
    async resolve(locationId) {
      const hit = await cached(locationId);
      if (hit) return hit;
      const { items } = await ghl.listCustomFields(locationId, 'contact');
      const map: Record<string, string> = {};
      for (const field of items) if (field.fieldKey) map[field.fieldKey] = field.id;
      await redis.set(key(locationId), JSON.stringify(map), 'EX', CACHE_TTL_SECONDS);
      return map;
    },
    async forget(locationId) {
      await redis.del(key(locationId));
    },
  };
}
