/** The Redis-backed stores the workers, the web app and the commands share, on one state connection. */
import type { Config } from '../../config/env.js';
import { createRecentAlerts } from '../../state/alert-throttle.js';
import { createContactFacts } from '../../state/contact-facts.js';
import { createContactFingerprints } from '../../state/contact-fingerprint.js';
import { createContactSnapshots, snapshotTtlMs } from '../../state/contact-snapshots.js';
import { createCustomFieldIds } from '../../state/custom-field-ids.js';
import { bufferedFlowSeries, createFlowSeries, type BufferedFlowSeries, type FlowSeries } from '../../state/flow-series.js';
import { createDailyBudgetAlerts } from '../../state/daily-budget-alerts.js';
import { createLookupCache } from '../../state/lookup-cache.js';
import { createOsPollSeen } from '../../state/opinionstage-poll-seen.js';
import { createPlannedWrites } from '../../state/planned-writes.js';
import { createWriteLedger } from '../../state/write-ledger.js';
import { createRateBudget } from '../../state/rate-budget.js';
import { createDashboardSessions } from '../../state/dashboard-sessions.js';
import type { GhlClient } from '../../clients/ghl/ghl-client.js';
import type { RedisClient } from '../../state/keys.js';

/**
 * `flowCountsFlushMs`: the dashboard's chart counts (ingest batches, Trustpilot calls, sync runs) are
 * kept in memory and written once per this many ms (the service's processes; flush them on close).
 * Without it they are written as they come (one-off commands).
 */
export function createStores(redis: RedisClient, config: Config, options: { flowCountsFlushMs?: number } = {}) {
  const prefix = config.REDIS_PREFIX;
  const flowCounts = flowCountsOf(createFlowSeries(redis, prefix), options.flowCountsFlushMs);
  return {
    redis,
    prefix,
    flowCounts,
    facts: createContactFacts(redis, prefix, flowCounts),
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

function flowCountsOf(series: FlowSeries, flushMs: number | undefined): BufferedFlowSeries {
  return flushMs === undefined ? { ...series, flush: () => Promise.resolve() } : bufferedFlowSeries(series, { flushMs });
}

/** The location's custom field ids, read through GHL and cached in Redis. */
export function createFieldIds(stores: Stores, ghl: GhlClient) {
  return createCustomFieldIds(stores.redis, stores.prefix, ghl);
}
