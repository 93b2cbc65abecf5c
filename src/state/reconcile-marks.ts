/**
 * The reconcile poll's Redis state per location: its progress mark (the high-water mark, the lower
 * bound of the current pass, and where a pass stopped) and the lock that keeps two runs of one
 * location from paging the same contacts twice.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { stateKey, type RedisClient } from './keys.js';

const MarkSchema = z.object({
  /** Lower bound (epoch ms, inclusive) of the current pass. */
  since: z.number(),
  /** The high-water mark: newest `dateUpdated` seen (epoch ms). */
  newest: z.number(),
  /** Where the current pass continues when the last run ran out of pages. */
  cursor: z.array(z.union([z.string(), z.number()])).optional(),
});
export type ReconcileMark = z.infer<typeof MarkSchema>;

const markKey = (prefix: string, locationId: string) => stateKey(prefix, 'reconcile', locationId, 'mark');
const lockKey = (prefix: string, locationId: string) => stateKey(prefix, 'reconcile', locationId, 'lock');

// Frees the lock only if this run still holds it.
const RELEASE_SCRIPT = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

/** The location's reconcile progress (dashboard, tests); undefined before its first run. */
export async function readReconcileMark(redis: RedisClient, prefix: string, locationId: string): Promise<ReconcileMark | undefined> {
  const raw = await redis.get(markKey(prefix, locationId));
  if (raw === null) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return undefined;
  }
  const parsed = MarkSchema.safeParse(json);
  return parsed.success ? parsed.data : undefined;
}

export async function writeReconcileMark(redis: RedisClient, prefix: string, locationId: string, mark: ReconcileMark): Promise<void> {
  await redis.set(markKey(prefix, locationId), JSON.stringify(mark));
}

/**
 * Runs `body` holding the location's lock for at most `lockMs` (a crashed run frees it after that);
 * `busy` answers when another run holds it.
 */
export async function withReconcileLock<T>(redis: RedisClient, prefix: string, locationId: string, lockMs: number, body: () => Promise<T>, busy: () => T): Promise<T> {
  const token = randomUUID();
  const lock = lockKey(prefix, locationId);
  if ((await redis.set(lock, token, 'PX', lockMs, 'NX')) !== 'OK') return busy();
  try {
    return await body();
  } finally {
    await redis.eval(RELEASE_SCRIPT, 1, lock, token);
  }
}

/** The reconcile poll's state for one Redis and prefix, as the reconcile processor uses it. */
export interface ReconcileMarks {
  read(locationId: string): Promise<ReconcileMark | undefined>;
  write(locationId: string, mark: ReconcileMark): Promise<void>;
  withLock<T>(locationId: string, lockMs: number, body: () => Promise<T>, busy: () => T): Promise<T>;
}

export function createReconcileMarks(redis: RedisClient, prefix: string): ReconcileMarks {
  return {
    read: (locationId) => readReconcileMark(redis, prefix, locationId),
    write: (locationId, mark) => writeReconcileMark(redis, prefix, locationId, mark),
    withLock: (locationId, lockMs, body, busy) => withReconcileLock(redis, prefix, locationId, lockMs, body, busy),
  };
}
