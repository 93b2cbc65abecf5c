/** The Redis-backed stores the workers, the web app and the commands share, on one state connection. */
import type { Config } from '../../config/env.js';
import { createRecentAlerts } from '../../state/alert-throttle.js';
import { createContactFacts } from '../../state/contact-facts.js';
import { createContactFingerprints } from '../../state/contact-fingerprint.js';
import { createContactSnapshots, snapshotTtlMs } from '../../state/contact-snapshots.js';
import { createCustomFieldIds } from '../../state/custom-field-ids.js';
import { createDailyBudgetAlerts } from '../../state/daily-budget-alerts.js';
import { createLookupCache } from '../../state/lookup-cache.js';
import { createOsPollSeen } from '../../state/opinionstage-poll-seen.js';
import { createPlannedWrites } from '../../state/planned-writes.js';
import { createWriteLedger } from '../../state/write-ledger.js';
import { createRateBudget } from '../../state/rate-budget.js';
import { createDashboardSessions } from '../../state/dashboard-sessions.js';
import type { GhlClient } from '../../clients/ghl/ghl-client.js';
import type { RedisClient } from '../../state/keys.js';

export function createStores(redis: RedisClient, config: Config) {
  const prefix = config.REDIS_PREFIX;
  return {
    redis,
    prefix,
    facts: createContactFacts(redis, prefix),
    ledger: createWriteLedger(redis, prefix),
    fingerprints: createContactFingerprints(redis, prefix),
    snapshots: createContactSnapshots(redis, prefix, { ttlMs: snapshotTtlMs(config.COALESCE_WINDOW_MS) }),
    cache: createLookupCache(redis, prefix),
    planned: createPlannedWrites(redis, prefix),
    budget: createRateBudget(redis, prefix),
    dailyBudgetAlerts: createDailyBudgetAlerts(redis, prefix),
    recentAlerts: createRecentAlerts(redis, prefix),
    osPollSeen: createOsPollSeen(redis, prefix),
    dashboardSessions: createDashboardSessions(redis, prefix),
  };
}
export type Stores = ReturnType<typeof createStores>;

/** The location's custom field ids, read through GHL and cached in Redis. */
export function createFieldIds(stores: Stores, ghl: GhlClient) {
  return createCustomFieldIds(stores.redis, stores.prefix, ghl);
}
