/**
 * A Redis cache for outside lookups (Trustpilot business units by domain, reviews by contact). A hit
 * costs no outside call; "not found" is cached too, so a contact without a review does not spend the
 * yearly Trustpilot allowance on every update.
 */
import type { RedisClient } from './keys.js';
import type { z } from 'zod';

export type CacheRead<T> = { hit: true; value: T | null } | { hit: false };

export interface LookupCache {
  get<T>(kind: string, key: string, schema: z.ZodType<T>): Promise<CacheRead<T>>;
  /** `null` records "looked up, nothing there". */
  set(kind: string, key: string, value: unknown, ttlMs: number): Promise<void>;
  delete(kind: string, key: string): Promise<void>;
}

export function createLookupCache(redis: RedisClient, prefix: string): LookupCache {
  const cacheKey = (kind: string, key: string) => `${prefix}:cache:${kind}:${key}`;
  return {
    async get(kind, key, schema) {
      const raw = await redis.get(cacheKey(kind, key));
      if (raw === null) return { hit: false };
      let parsed: unknown;
      try {
        parsed = JSON.parse(raw) as unknown;
      } catch {
        return { hit: false };
      }
      if (parsed === null) return { hit: true, value: null };
      const checked = schema.safeParse(parsed);
      // A shape from an older version is a miss, not an error.
      return checked.success ? { hit: true, value: checked.data } : { hit: false };
    },
    async set(kind, key, value, ttlMs) {
      if (ttlMs <= 0) return;
      await redis.set(cacheKey(kind, key), JSON.stringify(value), 'PX', ttlMs);
    },
    async delete(kind, key) {
      await redis.del(cacheKey(kind, key));
    },
  };
}
