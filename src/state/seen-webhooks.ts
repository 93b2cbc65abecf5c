/**
 * Webhook deliveries already queued, so redeliveries are answered `duplicate` instead of queued again.
 * The mark is written only after the job is stored: a crash in between leaves no mark, and the
 * redelivery is then caught by the queue's deterministic job id instead (never lost, never doubled).
 */
import type { Redis } from 'ioredis';
import { stateKey } from './keys.js';

export interface SeenDelivery {
  locationId: string;
  dedupeKey: string;
}

export interface SeenWebhooks {
  /** The job id each delivery was queued as, if seen within the TTL; one round trip, answers in the same order. */
  lookupMany(deliveries: readonly SeenDelivery[]): Promise<(string | undefined)[]>;
  /** Marks the deliveries as stored under their job ids, in one round trip; rejects if any mark was not written. */
  rememberMany(marks: readonly (SeenDelivery & { jobId: string; ttlSeconds: number })[]): Promise<void>;
}

export function createSeenWebhooks(redis: Redis, prefix: string): SeenWebhooks {
  const key = (locationId: string, dedupeKey: string) => stateKey(prefix, 'seen-webhook', locationId, dedupeKey);
  return {
    async lookupMany(deliveries) {
      if (deliveries.length === 0) return [];
      const values = await redis.mget(deliveries.map((delivery) => key(delivery.locationId, delivery.dedupeKey)));
      return values.map((value) => value ?? undefined);
    },
    async rememberMany(marks) {
      if (marks.length === 0) return;
      const pipeline = redis.pipeline();
      for (const mark of marks) pipeline.set(key(mark.locationId, mark.dedupeKey), mark.jobId, 'EX', mark.ttlSeconds);
      for (const [error] of (await pipeline.exec()) ?? []) if (error) throw error;
    },
  };
}
