/**
 * The composition root, read top to bottom: state, queues, guards, upstream clients, then the worker
 * side and the web side. Every long-lived resource registers with `resources` and `close()` closes
 * them in reverse order. `web` serves HTTP and produces jobs, `worker` consumes them, `all` does both.
 */
import type { Queue, Worker } from 'bullmq';
import type { GhlClient } from '../../clients/ghl/ghl-client.js';
import type { TrustpilotClient } from '../../clients/trustpilot/trustpilot-client.js';
import type { Config } from '../../config/env.js';
import { loadMapping, type Mapping } from '../../config/mapping.js';
import type { App } from '../../http/app.js';
import type { Logger } from '../../observability/logger.js';
import { createMetrics, type Metrics } from '../../observability/metrics.js';
import { createAlerts } from '../../queue/alerts.js';
import { jobOptionsFor, QUEUE_NAMES, type QueueName } from '../../queue/catalog.js';
import { createDeadLetters, type DeadLetters } from '../../queue/dead-letters.js';
import { INBOX_QUEUES } from '../../queue/inbox.js';
import { startInboxPump } from '../../queue/inbox-pump.js';
import { createWebhookProducer } from '../../queue/webhook-producer.js';
import type { PlannedWrites } from '../../state/planned-writes.js';
import { scheduleReconcile } from '../../workers/reconcile-processor.js';
import type { ContactSyncDeps } from '../../workers/contact-sync-processor.js';
import { refuseUnsafeRedis, waitForRedis } from '../redis-policy.js';
import { createGhlAccess } from './ghl.js';
import { createBreaker, createGhlGuard } from './guards.js';
import { openQueues } from './queues.js';
import { createResources, type Resources } from './resources.js';
import { createFieldIds, createStores } from './state.js';
import { createTrustpilotAccess } from './trustpilot.js';
import { alertClientFrom, opinionStageClientFrom, pushClientFrom, upstreamObserver } from './upstreams.js';
import { circuitGuard, type CircuitSystem } from '../../state/circuit-breaker.js';
import { createConnectionsAccess } from './location-connections.js';
import { createConnectionClients, locationTrustpilotLookup } from './connection-clients.js';
import { createWebApp } from './web.js';
import { createWorkerFactory } from './worker-factory.js';
import { startWorkers } from './workers.js';
import type { DashboardSessions } from '../../state/dashboard-sessions.js';

export type ProcessMode = 'web' | 'worker' | 'all';

export interface ContainerOptions {
  mode: ProcessMode;
  config: Config;
  logger: Logger;
  version: string;
  /** Ingest answers 429 when Redis has not stored the job within this time. */
  ingestTimeoutMs?: number;
  /** One of WEB_PROCESSES forked processes: /metrics answers for all of them. */
  clusterProcess?: boolean;
}

export interface Container {
  config: Config;
  logger: Logger;
  metrics: Metrics;
  app: App | undefined;
  workers: Worker[];
  queues: Record<QueueName, Queue>;
  ghl: GhlClient;
  trustpilot: TrustpilotClient | undefined;
  mapping: Mapping;
  deadLetters: DeadLetters;
  planned: PlannedWrites;
  /** Everything a contact sync needs, for the admin "sync one contact now" route. */
  syncDeps: ContactSyncDeps;
  /** The dashboard's sign-in sessions and single-use sign-in codes. */
  dashboardSessions: DashboardSessions;
  /** Closes everything in reverse order of creation, within `budgetMs` when given; in-flight jobs finish first. */
  close(budgetMs?: number): Promise<void>;
}

export async function createContainer(options: ContainerOptions): Promise<Container> {
  const resources = createResources(options.config, options.logger);
  try {
    return await compose(options, resources);
  } catch (error) {
    // Half-built: release what was opened (Redis reconnects forever otherwise), then report.
    await resources.closeAll();
    throw error;
  }
}

async function compose(options: ContainerOptions, resources: Resources): Promise<Container> {
  const { config, logger, mode } = options;
  const metrics = createMetrics();
  const mapping = loadMapping(config.MAPPING_FILE);

  // State, then queues: producers fail fast (web answers 429 at once); workers' queues wait for Redis.
  // The dashboard's charts: ingest batches, Trustpilot calls and sync runs are counted in memory and written once a second.
  const stores = createStores(resources.redis('state'), config, { flowCountsFlushMs: 1_000 });
  await refuseUnsafeRedis(stores.redis, logger);
  const ingestRedis = resources.redis(mode === 'worker' ? 'worker' : 'producer');
  // The producer connection refuses commands until connected; queues start using it right away.
  await waitForRedis(ingestRedis);
  const queues = openQueues(resources, { ingest: ingestRedis, flow: mode === 'web' ? ingestRedis : resources.redis('worker') }, stores.prefix, logger);
  const connections = createConnectionsAccess(stores, config);
  const deadLetters = createDeadLetters(queues[QUEUE_NAMES.deadLetter]);
  const alerts = createAlerts({ queue: queues[QUEUE_NAMES.alerts], redis: stores.redis, prefix: stores.prefix, logger });
  const flowCounts = stores.flowCounts;
  resources.add('flow-counts', () => flowCounts.flush());
  const countFlow = (counts: Record<string, number>) => void flowCounts.add(counts);
  const producer = createWebhookProducer({ queues, timeoutMs: options.ingestTimeoutMs ?? 800, onBatch: countFlow });

  // Guards, then the outside systems behind them.
  const breaker = createBreaker(stores, config, logger, alerts, resources);
  const guard = createGhlGuard(stores, config, breaker, alerts);
  const observe = upstreamObserver(metrics, (info) => {
    breaker.recordExchange(info.system, info.status);
    if (info.system === 'trustpilot') countFlow({ 'trustpilot-calls': 1 });
  });
  const ghl = createGhlAccess({ config, logger, stores, guard, alerts, observe, resources });
  const fieldIds = createFieldIds(stores, ghl.ghl);
  const trustpilot = createTrustpilotAccess({ config, logger, mapping, stores, breaker, observe, eventsQueue: queues[QUEUE_NAMES.trustpilotEvents], resources });
  const opinionStage = opinionStageClientFrom(config, { budget: circuitGuard(breaker, 'opinionstage'), observe });
  if (opinionStage) resources.add('opinionstage-client', () => opinionStage.close());
  // Built in every mode, so a bad ALERT_WEBHOOK_URL stops start-up.
  const alertClient = alertClientFrom(config, { observe });
  if (alertClient) resources.add('alert-client', () => alertClient.close());
  const connectionClients = connections
    ? createConnectionClients({ config, logger, mapping, stores, breaker, observe, eventsQueue: queues[QUEUE_NAMES.trustpilotEvents], resources, connections, defaults: { trustpilot, opinionStage } })
    : undefined;
  const push = pushClientFrom(config, { observe });
  if (push) resources.add('push-client', () => push.close());

  const { snapshots, planned } = stores;
  const syncDeps: ContactSyncDeps = {
    ghl: ghl.ghl,
    facts: stores.facts,
    fieldIds,
    ledger: stores.ledger,
    fingerprints: stores.fingerprints,
    snapshots,
    trustpilot: connectionClients ? locationTrustpilotLookup(connectionClients, trustpilot.lookup) : trustpilot.lookup,
    mapping,
    surveyUrl: config.OPINIONSTAGE_SURVEY_URL,
    apply: { planned, dryRun: config.DRY_RUN, writeMarks: snapshots },
    metrics,
    logger,
  };
  const servedChanged = async (): Promise<void> => {
    ghl.served.forget();
    await scheduleReconcile(queues[QUEUE_NAMES.reconcile], await ghl.served.list(), config.RECONCILE_INTERVAL);
  };

  let workers: Worker[] = [];
  if (mode !== 'web') {
    const factory = createWorkerFactory(config, () => resources.redis('worker'), { deadLetters, alerts, metrics, logger, series: stores.facts.series });
    workers = await startWorkers({ config, logger, metrics, mapping, stores, queues, producer, ghl, fieldIds, syncDeps, trustpilot, opinionStage, push, alertClient, servedChanged, factory, connectionClients, connections });
    // In-flight jobs get the time left of the shutdown but its last 5 s (at most half), kept for the
    // flushes, queues and connections closed after them.
    resources.add('workers', (remainingMs) => {
      const left = Math.min(remainingMs, config.SHUTDOWN_TIMEOUT);
      return factory.closeAll(Math.max(left / 2, left - 5_000));
    });
    startPumps(resources, queues, config, logger);
  }
  const systems = (['ghl', 'trustpilot', 'opinionstage', 'push', 'alert-webhook'] as const).filter((system) =>
    system === 'ghl' ? true : system === 'trustpilot' ? trustpilot.client !== undefined : system === 'opinionstage' ? opinionStage !== undefined : system === 'push' ? push !== undefined : alertClient !== undefined,
  ) satisfies CircuitSystem[];
  const app =
    mode === 'worker'
      ? undefined
      : await createWebApp({ config, logger, metrics, version: options.version, mapping, stores, flowCounts, queues, deadLetters, producer, breaker, guard, ghl, syncDeps, systems, servedChanged, clusterProcess: options.clusterProcess === true, resources, connections });

  return { config, logger, metrics, app, workers, queues, ghl: ghl.ghl, trustpilot: trustpilot.client, mapping, deadLetters, planned, syncDeps, dashboardSessions: stores.dashboardSessions, close: (budgetMs) => resources.closeAll(budgetMs) };
}

/**
 * Ingest's inboxes into their queues (src/queue/inbox-pump.ts), each pump on a blocking connection of
 * its own; stopped before the workers close. Entries a dead pump held are taken over after the same
 * time as a dead worker's jobs.
 */
function startPumps(resources: Resources, queues: Record<QueueName, Queue>, config: Config, logger: Logger): void {
  const pumps = INBOX_QUEUES.map((name) =>
    startInboxPump({ queue: queues[name], reader: resources.redis('worker'), jobOptions: jobOptionsFor(name, config.RETRY_HORIZON), claimIdleMs: config.WORKER_LOCK_DURATION, logger }),
  );
  resources.add('inbox-pumps', () => Promise.all(pumps.map((pump) => pump.stop())));
}
