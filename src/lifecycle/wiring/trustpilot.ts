/**
 * Trustpilot: the client, the shared index of our unit's reviews and the lookup contact syncs use.
 * The index needs the business user; it answers lookups unless TRUSTPILOT_INDEX_REFRESH is 0, and
 * routes new and edited reviews unless TRUSTPILOT_POLL_INTERVAL is 0.
 */
import type { Queue } from 'bullmq';
import type { ResponseObserver } from '../../clients/http/transport.js';
import { createMemoryTokenStore } from '../../clients/trustpilot/token-store.js';
import type { TrustpilotClient } from '../../clients/trustpilot/trustpilot-client.js';
import type { Config } from '../../config/env.js';
import type { Mapping } from '../../config/mapping.js';
import type { Logger } from '../../observability/logger.js';
import { jobOptionsFor, QUEUE_NAMES } from '../../queue/catalog.js';
import { jobIdFor } from '../../queue/webhook-producer.js';
import { circuitGuard, type CircuitBreaker } from '../../state/circuit-breaker.js';
import { createReviewIndexStore, type ReviewIndexStore } from '../../state/review-index.js';
import { createRedisTokenStore } from '../../state/trustpilot-token-store.js';
import { refreshLockTiming } from '../../state/lock-lease.js';
import { createOwnReviewIndex, type OwnReviewIndex } from '../../workers/own-review-index.js';
import { createTrustpilotLookup, type TrustpilotLookup } from '../../workers/trustpilot-lookup.js';
import { createReviewRouter } from '../../workers/trustpilot-review-router.js';
import { trustpilotBudget } from './guards.js';
import { trustpilotLocations } from './location-routing.js';
import type { Resources } from './resources.js';
import type { Stores } from './state.js';
import { trustpilotClientFrom } from './upstreams.js';

export interface TrustpilotAccess {
  client: TrustpilotClient | undefined;
  lookup: TrustpilotLookup | undefined;
  /** Present when the poll routes new and edited reviews (TRUSTPILOT_POLL_INTERVAL > 0). */
  poll: { index: OwnReviewIndex; store: ReviewIndexStore } | undefined;
}

export interface TrustpilotParts {
  config: Config;
  logger: Logger;
  mapping: Mapping;
  stores: Stores;
  breaker: CircuitBreaker;
  observe: ResponseObserver;
  /** Where the poll sends the reviews it routes. */
  eventsQueue: Pick<Queue, 'add'>;
  resources: Resources;
}

export function createTrustpilotAccess(parts: TrustpilotParts): TrustpilotAccess {
  const { config, stores } = parts;
  const client = trustpilotClientFrom(config, {
    budget: circuitGuard(parts.breaker, 'trustpilot', trustpilotBudget(stores, config)),
    // Shared and encrypted when a key is configured; otherwise each process keeps its own token.
    tokenStore: config.ENCRYPTION_KEY.length > 0 ? createRedisTokenStore(stores.redis, stores.prefix, config.ENCRYPTION_KEY, refreshLockTiming(config.UPSTREAM_TIMEOUT, 2)) : createMemoryTokenStore(),
    observe: parts.observe,
  });
  if (!client) return { client, lookup: undefined, poll: undefined };
  parts.resources.add('trustpilot-client', () => client.close());
  const indexed = createIndex(parts, client);
  const lookup = createTrustpilotLookup({
    client,
    cache: stores.cache,
    businessUnitId: config.TRUSTPILOT_BUSINESS_UNIT_ID,
    ttlMs: config.TRUSTPILOT_CACHE_TTL,
    mapping: parts.mapping.trustpilot,
    ...(indexed && config.TRUSTPILOT_INDEX_REFRESH > 0 ? { index: indexed.index } : {}),
    matchesIn: async (locationId) => (await trustpilotLocations(config)(undefined, [locationId])).includes(locationId),
  });
  return { client, lookup, poll: indexed && config.TRUSTPILOT_POLL_INTERVAL > 0 ? indexed : undefined };
}

export function createIndex({ config, mapping, stores, logger, eventsQueue }: TrustpilotParts, client: TrustpilotClient): { index: OwnReviewIndex; store: ReviewIndexStore } | undefined {
  const businessUnitId = config.TRUSTPILOT_BUSINESS_UNIT_ID;
  const wanted = config.TRUSTPILOT_INDEX_REFRESH > 0 || config.TRUSTPILOT_POLL_INTERVAL > 0;
  if (!client.canReadPrivateReviews || !businessUnitId || !mapping.trustpilot.ownReview.enabled || !wanted) return undefined;
  const store = createReviewIndexStore(stores.redis, stores.prefix, businessUnitId);
  const router =
    config.TRUSTPILOT_POLL_INTERVAL > 0
      ? createReviewRouter({
          store,
          enqueue: async (job, dedupeKey) =>
            void (await eventsQueue.add(job.eventName, job, { ...jobOptionsFor(QUEUE_NAMES.trustpilotEvents, config.RETRY_HORIZON), jobId: jobIdFor('tp-poll', dedupeKey) })),
          logger,
        })
      : undefined;
  const index = createOwnReviewIndex({
    client,
    store,
    businessUnitId,
    refreshMs: config.TRUSTPILOT_INDEX_REFRESH > 0 ? config.TRUSTPILOT_INDEX_REFRESH : config.TRUSTPILOT_POLL_INTERVAL,
    maxPages: config.TRUSTPILOT_INDEX_MAX_PAGES,
    rescanMs: config.TRUSTPILOT_CACHE_TTL,
    logger,
    ...(router ? { router } : {}),
  });
  return { index, store };
}
