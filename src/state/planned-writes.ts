/**
 * Dry run: writes the bridge would have made, newest first, for GET /admin/planned and the dashboard.
 */
import type { RedisClient } from './keys.js';
import { z } from 'zod';

export const PlannedWriteRecordSchema = z
  .object({
    at: z.string().describe('ISO time the write was planned'),
    locationId: z.string(),
    contactId: z.string(),
    system: z.enum(['ghl', 'opinionstage']),
    method: z.string(),
    path: z.string(),
    body: z.unknown(),
    reason: z.string(),
  })
  .meta({ id: 'PlannedWrite' });
export type PlannedWriteRecord = z.infer<typeof PlannedWriteRecordSchema>;

const KEPT = 1_000;

export interface PlannedWrites {
  record(entries: PlannedWriteRecord[]): Promise<void>;
  list(limit?: number): Promise<PlannedWriteRecord[]>;
}

export function createPlannedWrites(redis: RedisClient, prefix: string): PlannedWrites {
  const key = `${prefix}:planned-writes`;
  return {
    async record(entries) {
      if (entries.length === 0) return;
      await redis
        .multi()
        .lpush(key, ...entries.map((entry) => JSON.stringify(entry)))
        .ltrim(key, 0, KEPT - 1)
        .exec();
    },
    async list(limit = 100) {
      const rows = await redis.lrange(key, 0, limit - 1);
      return rows.flatMap((row) => {
        const parsed = PlannedWriteRecordSchema.safeParse(JSON.parse(row));
        return parsed.success ? [parsed.data] : [];
      });
    },
  };
}
