/**
 * What the bridge knows about contacts beyond GHL's own data: which were deleted (so a later 404 is
 * expected, not a failure) and the recent sync runs shown to operators.
 */
import { stateKey, type RedisClient } from './keys.js';

const DELETED_TTL_SECONDS = 30 * 86_400;
const RECENT_SYNCS_KEPT = 200;

export interface SyncRecord {
  locationId: string;
  contactId: string;
  at: number;
  durationMs: number;
  outcome: 'synced' | 'skipped' | 'failed';
  reason?: string;
  upstreamCalls: number;
  writes?: number;
  /** What the run read, e.g. `ghl contact`, `trustpilot review`. */
  read?: string[];
  /** What it wrote, by kind, e.g. `set-fields`, `create-note`. */
  wrote?: string[];
}

export interface ContactFacts {
  markDeleted(locationId: string, contactId: string): Promise<void>;
  isDeleted(locationId: string, contactId: string): Promise<boolean>;
  recordSync(record: SyncRecord): Promise<void>;
  recentSyncs(limit?: number): Promise<SyncRecord[]>;
}

export function createContactFacts(redis: RedisClient, prefix: string): ContactFacts {
  const recentKey = `${prefix}:recent-syncs`;
  return {
    async markDeleted(locationId, contactId) {
      await redis.set(stateKey(prefix, 'deleted-contact', locationId, contactId), String(Date.now()), 'EX', DELETED_TTL_SECONDS);
    },
    async isDeleted(locationId, contactId) {
      return (await redis.exists(stateKey(prefix, 'deleted-contact', locationId, contactId))) === 1;
    },
    async recordSync(record) {
      await redis.multi().lpush(recentKey, JSON.stringify(record)).ltrim(recentKey, 0, RECENT_SYNCS_KEPT - 1).exec();
    },
    async recentSyncs(limit = 50) {
      const rows = await redis.lrange(recentKey, 0, limit - 1);
      return rows.flatMap((row) => {
        try {
          return [JSON.parse(row) as SyncRecord];
        } catch {
          return [];
        }
      });
    },
  };
}
