/**
 * Webhook deliveries already queued, so redeliveries are answered `duplicate` instead of queued again.
 * The mark is written only after the job is stored: a crash in between leaves no mark, and the
 * redelivery is then caught by the queue's deterministic job id instead (never lost, never doubled).
 */
import type { Redis } from 'ioredis';
import { stateKey } from './keys.js';

export interface SeenWebhooks {
  /** The job id a delivery with this key was queued as, if it was seen within the TTL. */
  lookup(locationId: string, dedupeKey: string): Promise<string | undefined>;
  remember(locationId: string, dedupeKey: string, jobId: string, ttlSeconds: number): Promise<void>;
}

export function createSeenWebhooks(redis: Redis, prefix: string): SeenWebhooks {
  const key = (locationId: string, dedupeKey: string) => stateKey(prefix, 'seen-webhook', locationId, dedupeKey);
  return {
    async lookup(locationId, dedupeKey) {
      return (await redis.get(key(locationId, dedupeKey))) ?? undefined;
    },
    async remember(locationId, dedupeKey, jobId, ttlSeconds) {
      await redis.set(key(locationId, dedupeKey), jobId, 'EX', ttlSeconds);
    },
  };
}
