/**
 * Per-location clients: a location with its own Trustpilot connection gets its own client (its own
 * token, kept under its own Redis key; its own call budget of TRUSTPILOT_RATE_LIMIT), its own lookup
 * and its own review index and poll; a location with its own Opinion Stage connection gets a client
 * with its key. Built on first use from the cached connections and rebuilt when a connection changes
 * (the replaced client closes once its calls in flight end). Locations without their own use the
 * environment's clients.
 */
import type { Queue } from 'bullmq';
import { budgetFor } from '../../clients/http/budgeted.js';
import type { OpinionStageClient } from '../../clients/opinionstage/opinionstage-client.js';
import type { TrustpilotClient } from '../../clients/trustpilot/trustpilot-client.js';
import type { Config } from '../../config/env.js';
import { TrustpilotEventJobSchema } from '../../queue/catalog.js';
import { circuitGuard } from '../../state/circuit-breaker.js';
import type { OpinionStageConnection, TrustpilotConnection } from '../../state/location-connections.js';
import type { ReviewIndexStore } from '../../state/review-index.js';
import { refreshLockTiming } from '../../state/lock-lease.js';
import { createRedisTokenStore, trustpilotTokenScope } from '../../state/trustpilot-token-store.js';
import type { OwnReviewIndex } from '../../workers/own-review-index.js';
import { createTrustpilotLookup, type TrustpilotLookup } from '../../workers/trustpilot-lookup.js';
import type { ConnectionsAccess } from './location-connections.js';
import { createIndex, type TrustpilotAccess, type TrustpilotParts } from './trustpilot.js';
import { opinionStageClientFrom, trustpilotClientFrom } from './upstreams.js';

export interface LocationTrustpilot {
  client: TrustpilotClient;
  lookup: TrustpilotLookup;
  /** Present when this connection's poll routes new and edited reviews. */
  poll: { index: OwnReviewIndex; store: ReviewIndexStore } | undefined;
}

export interface OwnOpinionStage {
  locationId: string;
  client: OpinionStageClient;
  itemIds: string[];
}

export interface ConnectionClients {
  /** The location's own Trustpilot, else the environment's (undefined when neither is configured). */
  trustpilotFor(locationId: string): Promise<LocationTrustpilot | undefined>;
  /** The location's own Trustpilot only. */
  ownTrustpilotFor(locationId: string): Promise<LocationTrustpilot | undefined>;
  /** Every location's own Trustpilot, for the poll. */
  ownTrustpilot(): Promise<{ locationId: string; trustpilot: LocationTrustpilot }[]>;
  /** The location's own Opinion Stage client, else the environment's. */
  opinionStageFor(locationId: string): Promise<OpinionStageClient | undefined>;
  /** Every location's own Opinion Stage account, for the poll. */
  ownOpinionStage(): Promise<OwnOpinionStage[]>;
}

/** What the environment's Trustpilot is built from, plus the connections and the defaults. */
export interface ConnectionClientParts extends TrustpilotParts {
  connections: ConnectionsAccess | undefined;
  /** The environment's clients: the default for locations without their own. */
  defaults: { trustpilot: TrustpilotAccess; opinionStage: OpinionStageClient | undefined };
}

/** The key of a location's own Trustpilot call budget. */
export const connectionBudgetKey = (locationId: string) => `trustpilot:location:${locationId}`;

interface Built<T> {
  fingerprint: string;
  value: T;
  close(): Promise<void>;
}

export function createConnectionClients(parts: ConnectionClientParts): ConnectionClients {
  const { defaults, connections } = parts;
  const envTrustpilot: LocationTrustpilot | undefined =
    defaults.trustpilot.client && defaults.trustpilot.lookup ? { client: defaults.trustpilot.client, lookup: defaults.trustpilot.lookup, poll: defaults.trustpilot.poll } : undefined;
  const trustpilots = new Map<string, Built<LocationTrustpilot>>();
  const opinionStages = new Map<string, Built<OpinionStageClient>>();
  parts.resources.add('connection-clients', async () => {
    await Promise.all([...trustpilots.values(), ...opinionStages.values()].map((built) => built.close()));
  });

  /** The built value for this connection, building (and closing a replaced one) when it changed. */
  function current<C, T>(cache: Map<string, Built<T>>, locationId: string, connection: C, build: (connection: C) => Built<T>): T {
    const fingerprint = JSON.stringify(connection);
    const known = cache.get(locationId);
    if (known?.fingerprint === fingerprint) return known.value;
    if (known) void known.close().catch(() => undefined);
    const built = build(connection);
    cache.set(locationId, built);
    return built.value;
  }

  const trustpilotOf = (locationId: string, connection: TrustpilotConnection) => current(trustpilots, locationId, connection, (c) => buildTrustpilot(parts, locationId, c));
  const opinionStageOf = (locationId: string, connection: OpinionStageConnection) =>
    current(opinionStages, locationId, connection, (c) => {
      const client = opinionStageClientFrom({ ...parts.config, OPINIONSTAGE_API_KEY: c.apiKey }, { budget: circuitGuard(parts.breaker, 'opinionstage'), observe: parts.observe });
      if (!client) throw new Error('an Opinion Stage connection always has an API key');
      return { fingerprint: JSON.stringify(c), value: client, close: () => client.close() };
    });

  const ownTrustpilotFor = async (locationId: string): Promise<LocationTrustpilot | undefined> => {
    const own = connections ? (await connections.cache.snapshot()).trustpilot.get(locationId) : undefined;
    return own ? trustpilotOf(locationId, own) : undefined;
  };
  return {
    trustpilotFor: async (locationId) => (await ownTrustpilotFor(locationId)) ?? envTrustpilot,
    ownTrustpilotFor,
    async ownTrustpilot() {
      if (!connections) return [];
      return [...(await connections.cache.snapshot()).trustpilot].map(([locationId, connection]) => ({ locationId, trustpilot: trustpilotOf(locationId, connection) }));
    },
    opinionStageFor: async (locationId) => {
      const own = connections ? (await connections.cache.snapshot()).opinionstage.get(locationId) : undefined;
      return own ? opinionStageOf(locationId, own) : defaults.opinionStage;
    },
    async ownOpinionStage() {
      if (!connections) return [];
      return [...(await connections.cache.snapshot()).opinionstage].map(([locationId, connection]) => ({ locationId, client: opinionStageOf(locationId, connection), itemIds: connection.itemIds }));
    },
  };
}

function buildTrustpilot(parts: ConnectionClientParts, locationId: string, connection: TrustpilotConnection): Built<LocationTrustpilot> {
  const { stores } = parts;
  const config: Config = {
    ...parts.config,
    TRUSTPILOT_API_KEY: connection.apiKey,
    TRUSTPILOT_API_SECRET: connection.apiSecret,
    TRUSTPILOT_USERNAME: connection.username,
    TRUSTPILOT_PASSWORD: connection.password,
    TRUSTPILOT_BUSINESS_UNIT_ID: connection.businessUnitId,
  };
  const client = trustpilotClientFrom(config, {
    budget: circuitGuard(parts.breaker, 'trustpilot', budgetFor(stores.budget, 'trustpilot', connectionBudgetKey(locationId), config.TRUSTPILOT_RATE_LIMIT)),
    tokenStore: createRedisTokenStore(stores.redis, stores.prefix, config.ENCRYPTION_KEY, { scope: trustpilotTokenScope(locationId), ...refreshLockTiming(config.UPSTREAM_TIMEOUT, 2) }),
    observe: parts.observe,
  });
  if (!client) throw new Error('a Trustpilot connection always has an API key');
  // Reviews this connection's listing routes carry its location, so they are matched only there.
  const eventsQueue: Pick<Queue, 'add'> = {
    add: (name, data: unknown, opts) => parts.eventsQueue.add(name, { ...TrustpilotEventJobSchema.parse(data), webhookLocationId: locationId }, opts),
  };
  const indexed = createIndex({ config, logger: parts.logger, mapping: parts.mapping, stores, breaker: parts.breaker, observe: parts.observe, eventsQueue, resources: parts.resources }, client);
  const lookup = createTrustpilotLookup({
    client,
    cache: stores.cache,
    businessUnitId: connection.businessUnitId,
    ttlMs: config.TRUSTPILOT_CACHE_TTL,
    mapping: parts.mapping.trustpilot,
    ...(indexed && config.TRUSTPILOT_INDEX_REFRESH > 0 ? { index: indexed.index } : {}),
  });
  const poll = indexed && config.TRUSTPILOT_POLL_INTERVAL > 0 ? indexed : undefined;
  return { fingerprint: JSON.stringify(connection), value: { client, lookup, poll }, close: () => client.close() };
}

/**
 * The lookup contact syncs use: each contact's location's own Trustpilot, else the environment's.
 * Index updates from notifications go through the processor that read them (its own lookup).
 */
export function locationTrustpilotLookup(clients: Pick<ConnectionClients, 'trustpilotFor'>, fallback: TrustpilotLookup | undefined): TrustpilotLookup {
  const of = async (locationId: string) => (await clients.trustpilotFor(locationId))?.lookup;
  return {
    review: async (contact, storedReviewId, asOf) => (await of(contact.locationId))?.review(contact, storedReviewId, asOf),
    company: async (contact) => (await of(contact.locationId))?.company(contact),
    remember: async (locationId, contactId, review) => (await of(locationId))?.remember(locationId, contactId, review),
    observe: async (review) => fallback?.observe(review),
    forget: async (reviewId) => fallback?.forget(reviewId),
  };
}
