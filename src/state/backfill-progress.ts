/**
 * Where a location's backfill stopped: the contact-list cursor after the last queued page, and how
 * many contacts this backfill has queued over all its runs. A second run resumes from it.
 */
import { z } from 'zod';
import { stateKey, type RedisClient } from './keys.js';

export const BackfillCursorSchema = z.object({
  startAfterId: z.string().min(1),
  startAfter: z.number().int().nonnegative().optional(),
  queued: z.number().int().nonnegative(),
});
export type BackfillCursor = z.infer<typeof BackfillCursorSchema>;

export function backfillCursorKey(prefix: string, locationId: string): string {
  return stateKey(prefix, 'backfill', locationId, 'cursor');
}

export interface BackfillProgress {
  /** The saved cursor, nothing when none is saved, or 'corrupt' when it cannot be read. */
  read(): Promise<BackfillCursor | undefined | 'corrupt'>;
  save(cursor: BackfillCursor): Promise<void>;
  /** Forgets the cursor: the next run starts over. */
  clear(): Promise<void>;
}

export function createBackfillProgress(redis: RedisClient, prefix: string, locationId: string): BackfillProgress {
  const key = backfillCursorKey(prefix, locationId);
  return {
    read: async () => {
      const text = await redis.get(key);
      if (text === null) return undefined;
      try {
        const parsed = BackfillCursorSchema.safeParse(JSON.parse(text));
        return parsed.success ? parsed.data : 'corrupt';
      } catch {
        return 'corrupt';
      }
    },
    save: async (cursor) => void (await redis.set(key, JSON.stringify(cursor))),
    clear: async () => void (await redis.del(key)),
  };
}
