/**
 * Which locations were already alerted about their daily GHL budget today (UTC), so the alert
 * goes out once per location and day however many workers see the threshold crossed.
 */
import { stateKey, type RedisClient } from './keys.js';

/** Kept two days so the mark outlives the UTC day it is about, whatever the server's clock. */
const MARK_TTL_SECONDS = 2 * 86_400;

export interface DailyBudgetAlerts {
  /** True for the first caller of the UTC day for this location; false afterwards or when Redis fails. */
  firstToday(locationId: string): Promise<boolean>;
}

export function createDailyBudgetAlerts(redis: RedisClient, prefix: string): DailyBudgetAlerts {
  return {
    firstToday: async (locationId) => {
      const day = new Date().toISOString().slice(0, 10);
      const first = await redis.set(stateKey(prefix, 'daily-budget-alerted', locationId, day), '1', 'EX', MARK_TTL_SECONDS, 'NX').catch(() => null);
      return first === 'OK';
    },
  };
}
