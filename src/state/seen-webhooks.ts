/**
 * Webhook deliveries already queued, so redeliveries are answered `duplicate` instead of queued again.
 * The mark is written only after the job is stored: a crash in between leaves no mark, and the
 * redelivery is then caught by the queue's deterministic job id instead (never lost, never doubled).
 */
import { stateKeys, type RedisClient } from './keys.js';

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

export function createSeenWebhooks(redis: RedisClient, prefix: string): SeenWebhooks {
  const keyOf = stateKeys(redis, prefix);
  const key = (locationId: string, dedupeKey: string) => keyOf('seen-webhook', locationId, dedupeKey);
  return {
    async lookupMany(deliveries) {
      if (deliveries.length === 0) return [];
      // A single Redis answers the whole batch in one MGET. On a cluster an MGET may only name keys of
      // one slot: the keys carry their location's hash tag, so one MGET per location, all in flight at once.
      const groups = redis.isCluster ? groupBy(deliveries, (delivery) => delivery.locationId) : [deliveries.map((_, index) => index)];
      const values: (string | undefined)[] = new Array<string | undefined>(deliveries.length).fill(undefined);
      await Promise.all(
        groups.map(async (indexes) => {
          const found = await redis.mget(indexes.map((index) => key(deliveries[index]?.locationId ?? '', deliveries[index]?.dedupeKey ?? '')));
          indexes.forEach((index, position) => {
            values[index] = found[position] ?? undefined;
          });
        }),
      );
      return values;
    },
    async rememberMany(marks) {
      if (marks.length === 0) return;
      // A cluster pipeline must stay on one node: one pipeline per location there.
      const groups = redis.isCluster ? groupBy(marks, (mark) => mark.locationId) : [marks.map((_, index) => index)];
      await Promise.all(
        groups.map(async (indexes) => {
          const pipeline = redis.pipeline();
          for (const index of indexes) {
            const mark = marks[index];
            if (mark) pipeline.set(key(mark.locationId, mark.dedupeKey), mark.jobId, 'EX', mark.ttlSeconds);
          }
          for (const [error] of (await pipeline.exec()) ?? []) if (error) throw error;
        }),
      );
    },
  };
}

/** Indexes of `items` grouped by `by`, in first-seen order. */
function groupBy<T>(items: readonly T[], by: (item: T) => string): number[][] {
  const groups = new Map<string, number[]>();
  items.forEach((item, index) => {
    const group = groups.get(by(item));
    if (group) group.push(index);
    else groups.set(by(item), [index]);
  });
  return [...groups.values()];
}
