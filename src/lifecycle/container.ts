/**
 * The one composition root: every long-lived resource is created here and closed by `close()` in
 * reverse order. `web` serves HTTP and produces jobs, `worker` consumes them, `all` does both.
 */
import { Queue, Worker, type Job, type MinimalJob } from 'bullmq';
import type { Redis } from 'ioredis';
import { createGhlClient, type GhlClient } from '../clients/ghl/ghl-client.js';
import { createStaticTokenProvider } from '../clients/ghl/token-provider.js';
import { budgetFor } from '../clients/http/budgeted.js';
import type { ResponseObserver } from '../clients/http/transport.js';
import { createMemoryTokenStore } from '../clients/trustpilot/token-store.js';
import { createTrustpilotClient, type TrustpilotClient } from '../clients/trustpilot/trustpilot-client.js';
import type { Config } from '../config/env.js';
import { loadMapping, type Mapping } from '../config/mapping.js';
import { buildApp, type App } from '../http/app.js';
import type { ReadinessCheck } from '../http/routes/health.js';
import type { Logger } from '../observability/logger.js';
import { createMetrics, type Metrics } from '../observability/metrics.js';
import { fullJitterBackoff, JITTER_BACKOFF } from '../queue/backoff.js';
import { DEFAULT_JOB_OPTIONS, QUEUE_NAMES, type ContactSyncJob, type QueueName } from '../queue/catalog.js';
import { createRedisConnection } from '../queue/connections.js';
import { createDeadLetters, type DeadLetters } from '../queue/dead-letters.js';
import { createWebhookProducer } from '../queue/webhook-producer.js';
import { createContactFacts } from '../state/contact-facts.js';
import { createContactFingerprints } from '../state/contact-fingerprint.js';
import { createCustomFieldIds } from '../state/custom-field-ids.js';
import { createLookupCache } from '../state/lookup-cache.js';
import { createPlannedWrites, type PlannedWrites } from '../state/planned-writes.js';
import { createRateBudget } from '../state/rate-budget.js';
import { createSeenWebhooks } from '../state/seen-webhooks.js';
import { createRedisTokenStore } from '../state/trustpilot-token-store.js';
import { createWriteLedger } from '../state/write-ledger.js';
import { createGhlSignatureVerifier } from '../webhooks/ghl-signature.js';
import { createContactSyncProcessor, type ContactSyncDeps } from '../workers/contact-sync-processor.js';
import { createGhlWebhookProcessor } from '../workers/ghl-webhook-processor.js';
import { withFailurePolicy } from '../workers/run-job.js';
import { createTrustpilotEventProcessor } from '../workers/trustpilot-event-processor.js';
import { createTrustpilotLookup } from '../workers/trustpilot-lookup.js';

export type ProcessMode = 'web' | 'worker' | 'all';

export interface ContainerOptions {
  mode: ProcessMode;
  config: Config;
  logger: Logger;
  version: string;
  /** Ingest answers 429 when Redis has not stored the job within this time. */
  ingestTimeoutMs?: number;
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
  /** Closes everything in reverse order of creation; in-flight jobs finish first. */
  close(): Promise<void>;
}

export async function createContainer(options: ContainerOptions): Promise<Container> {
  const { config, logger, mode } = options;
  const closers: { name: string; close: () => Promise<unknown> }[] = [];
  const metrics = createMetrics();
  const redisUrl = config.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const prefix = config.REDIS_PREFIX;

  const connection = (role: 'producer' | 'worker' | 'state'): Redis => {
    const redis = createRedisConnection(redisUrl, role, logger);
    closers.push({ name: `redis-${role}`, close: () => redis.quit().catch(() => redis.disconnect()) });
    return redis;
  };

  const mapping = loadMapping(config.MAPPING_FILE);
  const stateRedis = connection('state');
  const facts = createContactFacts(stateRedis, prefix);
  const ledger = createWriteLedger(stateRedis, prefix);
  const fingerprints = createContactFingerprints(stateRedis, prefix);
  const cache = createLookupCache(stateRedis, prefix);
  const planned = createPlannedWrites(stateRedis, prefix);
  const budget = createRateBudget(stateRedis, prefix);

  // Producers fail fast (web answers 429 at once); workers' queues wait for Redis to come back.
  const queueRedis = connection(mode === 'worker' ? 'worker' : 'producer');
  const flowRedis = mode === 'web' ? queueRedis : connection('worker');
  const queues = {
    [QUEUE_NAMES.ghlWebhooks]: new Queue(QUEUE_NAMES.ghlWebhooks, { connection: queueRedis, prefix }),
    [QUEUE_NAMES.contactSync]: new Queue(QUEUE_NAMES.contactSync, { connection: flowRedis, prefix }),
    [QUEUE_NAMES.trustpilotEvents]: new Queue(QUEUE_NAMES.trustpilotEvents, { connection: queueRedis, prefix }),
    [QUEUE_NAMES.deadLetter]: new Queue(QUEUE_NAMES.deadLetter, { connection: queueRedis, prefix }),
  } satisfies Record<QueueName, Queue>;
  for (const queue of Object.values(queues)) {
    queue.on('error', (error) => logger.warn({ queue: queue.name, err: { message: error.message } }, 'queue error'));
    closers.push({ name: `queue-${queue.name}`, close: () => queue.close() });
  }
  const deadLetters = createDeadLetters(queues[QUEUE_NAMES.deadLetter]);

  const observe: ResponseObserver = (info) => {
    metrics.upstreamCalls.inc({ system: info.system, status: String(info.status) });
    metrics.upstreamDuration.observe({ system: info.system }, info.durationMs / 1000);
  };
  const ghl = createGhlClient({
    baseUrl: config.GHL_API_BASE_URL,
    version: config.GHL_API_VERSION,
    timeoutMs: config.UPSTREAM_TIMEOUT,
    tokens: createStaticTokenProvider(config.GHL_LOCATION_ID ?? '', config.GHL_PRIVATE_TOKEN ?? ''),
    observe,
  });
  closers.push({ name: 'ghl-client', close: () => ghl.close() });
  const fieldIds = createCustomFieldIds(stateRedis, prefix, ghl);
  const servedLocations = [config.GHL_LOCATION_ID].filter((id): id is string => id !== undefined);

  // Trustpilot: public lookups need the API key; reviews of us also need the business user.
  let trustpilot: TrustpilotClient | undefined;
  if (config.TRUSTPILOT_API_KEY) {
    trustpilot = createTrustpilotClient({
      baseUrl: config.TRUSTPILOT_API_BASE_URL,
      apiKey: config.TRUSTPILOT_API_KEY,
      ...(config.TRUSTPILOT_API_SECRET ? { apiSecret: config.TRUSTPILOT_API_SECRET } : {}),
      ...(config.TRUSTPILOT_USERNAME ? { username: config.TRUSTPILOT_USERNAME } : {}),
      ...(config.TRUSTPILOT_PASSWORD ? { password: config.TRUSTPILOT_PASSWORD } : {}),
      timeoutMs: config.UPSTREAM_TIMEOUT,
      budget: budgetFor(budget, 'trustpilot', 'trustpilot:global', config.TRUSTPILOT_RATE_LIMIT),
      // Shared and encrypted when a key is configured; otherwise each process keeps its own token.
      tokenStore: config.ENCRYPTION_KEY.length > 0 ? createRedisTokenStore(stateRedis, prefix, config.ENCRYPTION_KEY) : createMemoryTokenStore(),
      observe,
    });
    const client = trustpilot;
    closers.push({ name: 'trustpilot-client', close: () => client.close() });
  }
  const lookup = trustpilot
    ? createTrustpilotLookup({ client: trustpilot, cache, businessUnitId: config.TRUSTPILOT_BUSINESS_UNIT_ID, ttlMs: config.TRUSTPILOT_CACHE_TTL, mapping: mapping.trustpilot })
    : undefined;
  const syncDeps: ContactSyncDeps = {
    ghl,
    facts,
    fieldIds,
    ledger,
    fingerprints,
    trustpilot: lookup,
    mapping,
    apply: { planned, dryRun: config.DRY_RUN },
    metrics,
    logger,
  };

  const workers: Worker[] = [];
  if (mode !== 'web') {
    const policy = { deadLetters, metrics, logger };
    const syncQueue = queues[QUEUE_NAMES.contactSync];
    const schedule = (job: ContactSyncJob) => scheduleContactSync(syncQueue, job, config.COALESCE_WINDOW_MS);
    const router = createGhlWebhookProcessor({ facts, ledger, fingerprints, fieldIds, mapping, metrics, logger, scheduleContactSync: schedule });
    const sync = createContactSyncProcessor(syncDeps);
    workers.push(
      startWorker(QUEUE_NAMES.ghlWebhooks, withFailurePolicy(QUEUE_NAMES.ghlWebhooks, router, policy), config, connection('worker'), logger),
      startWorker(QUEUE_NAMES.contactSync, withFailurePolicy(QUEUE_NAMES.contactSync, sync, policy), config, connection('worker'), logger),
    );
    if (trustpilot && lookup) {
      const events = createTrustpilotEventProcessor({
        trustpilot,
        lookup,
        ghl,
        owners: cache,
        servedLocations: async () => servedLocations,
        scheduleContactSync: schedule,
        metrics,
        logger,
      });
      workers.push(startWorker(QUEUE_NAMES.trustpilotEvents, withFailurePolicy(QUEUE_NAMES.trustpilotEvents, events, policy), config, connection('worker'), logger));
    }
    for (const worker of workers) closers.push({ name: `worker-${worker.name}`, close: () => worker.close() });
  }

  let app: App | undefined;
  if (mode !== 'worker') {
    const producer = createWebhookProducer({
      queues,
      seen: createSeenWebhooks(queueRedis, prefix),
      timeoutMs: options.ingestTimeoutMs ?? 800,
    });
    const verifier = createGhlSignatureVerifier({
      ed25519PublicKeyPem: config.GHL_WEBHOOK_ED25519_PUBLIC_KEY,
      rsaPublicKeyPem: config.GHL_WEBHOOK_PUBLIC_KEY,
    });
    const served = new Set(servedLocations);
    const readinessChecks: ReadinessCheck[] = [
      {
        name: 'redis',
        check: async () => ({ ok: (await stateRedis.ping()) === 'PONG' }),
      },
    ];
    app = await buildApp({
      config,
      logger,
      metrics,
      version: options.version,
      readinessChecks,
      ghlIngest: {
        verifier,
        producer,
        workflowSecret: config.GHL_WEBHOOK_SECRET,
        isServedLocation: async (locationId) => served.has(locationId),
      },
      trustpilotIngest: { producer, secret: config.TRUSTPILOT_WEBHOOK_SECRET },
      collectMetrics: () => collectQueueMetrics(queues, metrics),
    });
    const built = app;
    closers.push({ name: 'http', close: () => built.close() });
  }

  return {
    config,
    logger,
    metrics,
    app,
    workers,
    queues,
    ghl,
    trustpilot,
    mapping,
    deadLetters,
    planned,
    syncDeps,
    async close() {
      // Reverse order: stop taking requests, let workers finish in-flight jobs, then drop connections.
      for (const closer of closers.reverse()) {
        try {
          await closer.close();
        } catch (error) {
          logger.warn({ resource: closer.name, err: { message: error instanceof Error ? error.message : String(error) } }, 'close failed');
        }
      }
    },
  };
}

/**
 * Coalescing: a contact's sync waits COALESCE_WINDOW_MS so a burst of events becomes one run, and
 * BullMQ's deduplication keeps at most one run in flight plus one waiting per contact, the waiting
 * one reading the latest state when it starts.
 */
export async function scheduleContactSync(queue: Queue, job: ContactSyncJob, windowMs: number): Promise<void> {
  await queue.add('sync', job, {
    ...DEFAULT_JOB_OPTIONS[QUEUE_NAMES.contactSync],
    delay: windowMs,
    deduplication: { id: `${job.locationId}-${job.contactId}`, keepLastIfActive: true },
  });
}

function startWorker(
  name: QueueName,
  processor: (job: Job, token?: string) => Promise<unknown>,
  config: Config,
  connection: Redis,
  logger: Logger,
): Worker {
  const worker = new Worker(name, processor, {
    connection,
    prefix: config.REDIS_PREFIX,
    concurrency: config.WORKER_CONCURRENCY,
    // A worker killed mid-job (kill -9) stops renewing its lock; the job is then picked up again.
    lockDuration: config.WORKER_LOCK_DURATION,
    stalledInterval: Math.max(1_000, Math.round(config.WORKER_LOCK_DURATION / 2)),
    maxStalledCount: 3,
    settings: {
      backoffStrategy: (attemptsMade, type, _error, job) =>
        type === JITTER_BACKOFF ? fullJitterBackoff(attemptsMade, delayOf(job)) : fullJitterBackoff(attemptsMade, 1_000),
    },
  });
  worker.on('error', (error) => logger.warn({ queue: name, err: { message: error.message } }, 'worker error'));
  return worker;
}

function delayOf(job: MinimalJob | undefined): number {
  const backoff = job?.opts.backoff;
  return typeof backoff === 'object' && typeof backoff.delay === 'number' ? backoff.delay : 1_000;
}

async function collectQueueMetrics(queues: Record<QueueName, Queue>, metrics: Metrics): Promise<void> {
  const states = ['waiting', 'active', 'delayed', 'completed', 'failed', 'prioritized'] as const;
  await Promise.all(
    Object.values(queues).map(async (queue) => {
      const counts = await queue.getJobCounts(...states);
      for (const state of states) metrics.jobs.set({ queue: queue.name, state }, counts[state] ?? 0);
      if (queue.name === QUEUE_NAMES.deadLetter) metrics.deadLetters.set((counts.waiting ?? 0) + (counts.prioritized ?? 0));
    }),
  );
}
