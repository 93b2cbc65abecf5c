/**
 * The web side (`web` and `all` modes): the dependencies of buildApp; the app closes with the other
 * resources, letting requests in flight finish.
 */
import { buildApp, type App, type AppDeps } from '../../http/app.js';
import type { ReadinessCheck } from '../../http/routes/health.js';
import { closeServer } from '../../http/server.js';
import { ghlAppId, type Config } from '../../config/env.js';
import type { Mapping } from '../../config/mapping.js';
import { joinHostMetrics } from '../../observability/host-metrics.js';
import type { Logger } from '../../observability/logger.js';
import type { Metrics } from '../../observability/metrics.js';
import { QUEUE_NAMES } from '../../queue/catalog.js';
import { inboxDepth, isInboxQueue } from '../../queue/inbox.js';
import { inboxReadinessCheck } from '../../queue/inbox-readiness.js';
import type { DeadLetters } from '../../queue/dead-letters.js';
import type { WebhookProducer } from '../../queue/webhook-producer.js';
import { CIRCUIT_STATE_VALUE, circuitReadinessChecks, type CircuitBreaker, type CircuitSystem } from '../../state/circuit-breaker.js';
import { createGhlSignatureVerifier } from '../../webhooks/ghl-signature.js';
import { syncContact, type ContactSyncDeps } from '../../workers/contact-sync-processor.js';
import type { GhlAccess } from './ghl.js';
import { createLocationDescriber } from './location-views.js';
import type { GhlGuard } from './guards.js';
import type { ConnectionsAccess } from './location-connections.js';
import type { Queues } from './queues.js';
import type { Resources } from './resources.js';
import type { FlowSeries } from '../../state/flow-series.js';
import type { Stores } from './state.js';

export interface WebParts {
  config: Config;
  logger: Logger;
  metrics: Metrics;
  version: string;
  mapping: Mapping;
  stores: Stores;
  /** The charts' series, with this process's coalesced ingest counts written before each read. */
  flowCounts: FlowSeries;
  queues: Queues;
  deadLetters: DeadLetters;
  producer: WebhookProducer;
  breaker: CircuitBreaker;
  guard: GhlGuard;
  ghl: GhlAccess;
  syncDeps: ContactSyncDeps;
  /** The outside systems this configuration calls, for readiness, the dashboard and metrics. */
  systems: CircuitSystem[];
  /** Re-reads the served locations and re-schedules their reconcile runs (after an install). */
  servedChanged: () => Promise<void>;
  /** One of WEB_PROCESSES forked processes: /metrics answers for all of them. */
  clusterProcess: boolean;
  resources: Resources;
  /** Per-location connections; undefined without ENCRYPTION_KEY. */
  connections?: ConnectionsAccess | undefined;
}

export async function createWebApp(parts: WebParts): Promise<App> {
  const { config, producer } = parts;
  const isServedLocation = parts.ghl.served.has;
  const app = await buildApp({
    config,
    logger: parts.logger,
    metrics: parts.metrics,
    version: parts.version,
    readinessChecks: readinessChecks(parts),
    ghlIngest: {
      verifier: createGhlSignatureVerifier({ ed25519PublicKeyPem: config.GHL_WEBHOOK_ED25519_PUBLIC_KEY, rsaPublicKeyPem: config.GHL_WEBHOOK_PUBLIC_KEY }),
      producer,
      workflowSecret: config.GHL_WEBHOOK_SECRET,
      isServedLocation,
      appId: ghlAppId(config),
    },
    trustpilotIngest: { producer, secret: config.TRUSTPILOT_WEBHOOK_SECRET, ...locationSecret(parts.connections, 'trustpilot') },
    ...oauthDeps(parts),
    opinionStageIngest: { producer, secret: config.OPINIONSTAGE_WEBHOOK_SECRET, ...locationSecret(parts.connections, 'opinionstage') },
    admin: adminDeps(parts, isServedLocation),
    dashboard: await dashboardDeps(parts),
    bullBoard: { adminToken: config.ADMIN_TOKEN, viewerToken: config.VIEWER_TOKEN, queues: Object.values(parts.queues), sessions: parts.stores.dashboardSessions },
    ...(parts.clusterProcess ? { hostMetrics: joinHostMetrics(parts.metrics.registry) } : {}),
    collectMetrics: () => collectMetrics(parts),
  });
  parts.resources.add('http', () => closeServer(app));
  return app;
}

function locationSecret(connections: ConnectionsAccess | undefined, kind: 'trustpilot' | 'opinionstage') {
  return connections ? { locationSecret: (locationId: string) => connections.webhookSecret(kind, locationId) } : {};
}

function readinessChecks({ stores, queues, breaker, systems }: WebParts): ReadinessCheck[] {
  return [{ name: 'redis', check: async () => ({ ok: (await stores.redis.ping()) === 'PONG' }) }, inboxReadinessCheck(queues), ...circuitReadinessChecks(breaker, systems)];
}

function oauthDeps({ config, ghl, servedChanged }: WebParts): Pick<AppDeps, 'oauth'> {
  const oauth = ghl.oauth;
  if (!oauth) return {};
  return {
    oauth: {
      clientId: oauth.clientId,
      clientSecret: oauth.clientSecret,
      redirectUri: config.GHL_OAUTH_REDIRECT_URI,
      versionId: config.GHL_APP_VERSION_ID,
      marketplaceUrl: config.GHL_MARKETPLACE_URL,
      allowedCompanyIds: config.GHL_ALLOWED_COMPANY_IDS,
      exchangeCode: (code, allowCompany) => oauth.provider.exchangeCode(code, allowCompany),
      afterInstall: servedChanged,
    },
  };
}

function adminDeps(parts: WebParts, isServedLocation: (locationId: string) => boolean | Promise<boolean>): NonNullable<AppDeps['admin']> {
  const { config, syncDeps } = parts;
  return {
    adminToken: config.ADMIN_TOKEN,
    viewerToken: config.VIEWER_TOKEN,
    mapping: parts.mapping,
    planned: parts.stores.planned,
    queues: parts.queues,
    deadLetters: parts.deadLetters,
    isServedLocation,
    describeLocations: createLocationDescriber(parts),
    connections: parts.connections?.store,
    connectionsChanged: () => parts.connections?.cache.forget(),
    syncContact: (locationId, contactId, dryRun) => syncContact({ ...syncDeps, apply: { ...syncDeps.apply, dryRun: dryRun || config.DRY_RUN } }, locationId, contactId),
  };
}

async function dashboardDeps(parts: WebParts): Promise<NonNullable<AppDeps['dashboard']>> {
  const { config, stores, breaker } = parts;
  return {
    adminToken: config.ADMIN_TOKEN,
    viewerToken: config.VIEWER_TOKEN,
    sessions: stores.dashboardSessions,
    queues: parts.queues,
    deadLetters: parts.deadLetters,
    planned: stores.planned,
    recentSyncs: (limit) => stores.facts.recentSyncs(limit),
    locations: await parts.ghl.served.list(),
    servedLocations: () => parts.ghl.served.list(),
    budgetUsage: (locationId) => parts.guard.usage(locationId),
    circuitSystems: parts.systems,
    circuitState: (system) => breaker.state(system),
    recentAlerts: (limit) => stores.recentAlerts.list(limit),
    contacts: { history: stores.facts.history, ledger: stores.ledger, ghl: parts.ghl.ghl, fieldIds: parts.syncDeps.fieldIds, mapping: parts.mapping },
    series: parts.flowCounts,
    connectionsOf: (locationId) => connectionsOf(parts, locationId),
    ...(parts.connections ? { locationConnections: parts.connections } : {}),
  };
}

/** What the locations overview lists: GHL, then Trustpilot and Opinion Stage, the location's own or the environment's. */
async function connectionsOf(parts: WebParts, locationId: string): Promise<string[]> {
  const own = parts.connections ? await parts.connections.masked(locationId) : { trustpilot: null, opinionstage: null };
  const shared = (system: 'trustpilot' | 'opinionstage', label: string) => (parts.systems.includes(system) ? [label] : []);
  return [
    parts.ghl.oauth ? 'GHL (marketplace app)' : 'GHL (private token)',
    ...(own.trustpilot ? [`Trustpilot (own unit ${own.trustpilot.businessUnitId})`] : shared('trustpilot', 'Trustpilot')),
    ...(own.opinionstage ? [`Opinion Stage (own account, ${own.opinionstage.itemIds.length} items)`] : shared('opinionstage', 'Opinion Stage')),
  ];
}

async function collectMetrics({ queues, metrics, breaker, systems }: WebParts): Promise<void> {
  const states = ['waiting', 'active', 'delayed', 'completed', 'failed', 'prioritized'] as const;
  await Promise.all(
    Object.values(queues).map(async (queue) => {
      const counts = await queue.getJobCounts(...states);
      for (const state of states) metrics.jobs.set({ queue: queue.name, state }, counts[state] ?? 0);
      if (queue.name === QUEUE_NAMES.deadLetter) metrics.deadLetters.set((counts.waiting ?? 0) + (counts.prioritized ?? 0));
      // Accepted deliveries not yet moved into the queue by a pump (src/queue/inbox-pump.ts).
      if (isInboxQueue(queue.name)) metrics.jobs.set({ queue: queue.name, state: 'inbox' }, await inboxDepth(queue));
    }),
  );
  for (const system of systems) metrics.circuitState.set({ system }, CIRCUIT_STATE_VALUE[(await breaker.state(system)).state]);
}
