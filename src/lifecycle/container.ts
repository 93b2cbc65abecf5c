/**
 * The one composition root: every long-lived resource is created here and closed by `close()` in
 * reverse order. `web` serves HTTP and produces jobs, `worker` consumes them, `all` does both.
 */
import { Queue, Worker, type Job, type MinimalJob } from 'bullmq';
import { createGhlBudget } from '../clients/ghl/ghl-budget.js';
import { createGhlClient, type GhlClient } from '../clients/ghl/ghl-client.js';
import { createOAuthTokenProvider } from '../clients/ghl/oauth-token-provider.js';
import { createStaticTokenProvider } from '../clients/ghl/token-provider.js';
import { budgetFor } from '../clients/http/budgeted.js';
import type { ResponseObserver } from '../clients/http/transport.js';
import { createOpinionStageClient, type OpinionStageClient } from '../clients/opinionstage/opinionstage-client.js';
import { createAlertClient } from '../clients/alert-webhook/alert-client.js';
import { createPushClient, type PushClient } from '../clients/push/push-client.js';
import { createMemoryTokenStore } from '../clients/trustpilot/token-store.js';
import { createTrustpilotClient, type TrustpilotClient } from '../clients/trustpilot/trustpilot-client.js';
import type { Config } from '../config/env.js';
import { loadMapping, type Mapping } from '../config/mapping.js';
import { buildApp, type App } from '../http/app.js';
import type { ReadinessCheck } from '../http/routes/health.js';
import type { Logger } from '../observability/logger.js';
import { joinHostMetrics } from '../observability/host-metrics.js';
import { createMetrics, type Metrics } from '../observability/metrics.js';
import { fullJitterBackoff, JITTER_BACKOFF } from '../queue/backoff.js';
import { DEFAULT_JOB_OPTIONS, DEFAULT_RETRY_HORIZON_MS, jobOptionsFor, QUEUE_NAMES, type ContactSyncJob, type PushEvent, type QueueName } from '../queue/catalog.js';
import { createRedisConnection, queuePrefix } from '../queue/connections.js';
import { createAlerts, type Alerts } from '../queue/alerts.js';
import { createDeadLetters, deadLetterJob, type DeadLetters } from '../queue/dead-letters.js';
import { createWebhookProducer, jobIdFor } from '../queue/webhook-producer.js';
import { createContactFacts } from '../state/contact-facts.js';
import { createContactSnapshots, snapshotTtlMs } from '../state/contact-snapshots.js';
import { createContactFingerprints } from '../state/contact-fingerprint.js';
import { createCustomFieldIds } from '../state/custom-field-ids.js';
import { createLookupCache } from '../state/lookup-cache.js';
import { createPlannedWrites, type PlannedWrites } from '../state/planned-writes.js';
import { createRecentAlerts } from '../state/alert-throttle.js';
import { createDailyBudgetAlerts } from '../state/daily-budget-alerts.js';
import { createRateBudget } from '../state/rate-budget.js';
import { createReviewIndexStore } from '../state/review-index.js';
import { CIRCUIT_STATE_VALUE, circuitGuard, circuitReadinessChecks, createCircuitBreaker } from '../state/circuit-breaker.js';
import { createOAuthTokenStore } from '../state/oauth-token-store.js';
import type { RedisClient } from '../state/keys.js';
import { createSeenWebhooks } from '../state/seen-webhooks.js';
import { createRedisTokenStore } from '../state/trustpilot-token-store.js';
import { createWriteLedger } from '../state/write-ledger.js';
import { createGhlSignatureVerifier } from '../webhooks/ghl-signature.js';
import { createContactSyncProcessor, syncContact, type ContactSyncDeps } from '../workers/contact-sync-processor.js';
import { createAlertProcessor } from '../workers/alert-processor.js';
import { createGhlWebhookProcessor } from '../workers/ghl-webhook-processor.js';
import { createOpinionStagePollProcessor } from '../workers/opinionstage-poll-processor.js';
import { createOsPollSeen } from '../state/opinionstage-poll-seen.js';
import { createOpinionStagePushProcessor } from '../workers/opinionstage-push-processor.js';
import { createOpinionStageResponseProcessor } from '../workers/opinionstage-response-processor.js';
import { createOwnReviewIndex } from '../workers/own-review-index.js';
import { createReconcileProcessor, reconcilePageBudget, scheduleReconcile } from '../workers/reconcile-processor.js';
import { withFailurePolicy } from '../workers/run-job.js';
import { refuseUnsafeRedis, waitForRedis } from './redis-policy.js';
import { createTrustpilotEventProcessor } from '../workers/trustpilot-event-processor.js';
import { createTrustpilotLookup } from '../workers/trustpilot-lookup.js';
import { routeGhlTokens } from './wiring/ghl-tokens.js';
import { createServedLocations } from './wiring/served-locations.js';
import { createTrustpilotPollProcessor } from '../workers/trustpilot-poll-processor.js';
import { createReviewRouter } from '../workers/trustpilot-review-router.js';

export type ProcessMode = 'web' | 'worker' | 'all';

const HTTP_DRAIN_MS = 3_000;

/** One alert per location and UTC day when this share of GHL's daily allowance is used. */
const DAILY_BUDGET_ALERT_SHARE = 0.9;

/** BullMQ's reason for a job whose worker died more than maxStalledCount times while running it. */
const STALLED_TOO_OFTEN = /stalled more than allowable limit/;

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
  /** Closes everything in reverse order of creation; in-flight jobs finish first. */
  close(): Promise<void>;
}

type Closer = { name: string; close: () => Promise<unknown> };

export async function createContainer(options: ContainerOptions): Promise<Container> {
  const closers: Closer[] = [];
  try {
    return await assemble(options, closers);
  } catch (error) {
    // Half-built: release what was opened (Redis reconnects forever otherwise), then report.
    await closeAll(closers, options.logger);
    throw error;
  }
}

async function closeAll(closers: Closer[], logger: Logger): Promise<void> {
  // Reverse order: stop taking requests, let workers finish in-flight jobs, then drop connections.
  for (const closer of [...closers].reverse()) {
    try {
      const started = performance.now();
      await closer.close();
      logger.debug({ resource: closer.name, ms: Math.round(performance.now() - started) }, 'closed');
    } catch (error) {
      logger.warn({ resource: closer.name, err: { message: error instanceof Error ? error.message : String(error) } }, 'close failed');
    }
  }
}

async function assemble(options: ContainerOptions, closers: Closer[]): Promise<Container> {
  const { config, logger, mode } = options;
  const metrics = createMetrics();
  const prefix = config.REDIS_PREFIX;

  const connection = (role: 'producer' | 'worker' | 'state'): RedisClient => {
    const redis = createRedisConnection(config, role, logger);
    closers.push({ name: `redis-${role}`, close: () => redis.quit().catch(() => redis.disconnect()) });
    return redis;
  };

  const mapping = loadMapping(config.MAPPING_FILE);
  const stateRedis = connection('state');
  await refuseUnsafeRedis(stateRedis, logger);
  const facts = createContactFacts(stateRedis, prefix);
  const ledger = createWriteLedger(stateRedis, prefix);
  const fingerprints = createContactFingerprints(stateRedis, prefix);
  const snapshots = createContactSnapshots(stateRedis, prefix, { ttlMs: snapshotTtlMs(config.COALESCE_WINDOW_MS) });
  const cache = createLookupCache(stateRedis, prefix);
  const planned = createPlannedWrites(stateRedis, prefix);
  const budget = createRateBudget(stateRedis, prefix);

  // Producers fail fast (web answers 429 at once); workers' queues wait for Redis to come back.
  const queueRedis = connection(mode === 'worker' ? 'worker' : 'producer');
  // The producer connection refuses commands until connected; queues start using it right away.
  await waitForRedis(queueRedis);
  const flowRedis = mode === 'web' ? queueRedis : connection('worker');
  // Queues that webhooks feed use the fail-fast connection; the rest are fed by workers.
  const ingestQueues = new Set<QueueName>([QUEUE_NAMES.ghlWebhooks, QUEUE_NAMES.trustpilotEvents, QUEUE_NAMES.opinionStageResponses, QUEUE_NAMES.deadLetter]);
  const makeQueue = (name: QueueName) => new Queue(name, { connection: ingestQueues.has(name) ? queueRedis : flowRedis, prefix: queuePrefix(prefix, name, queueRedis) });
  const queues: Record<QueueName, Queue> = {
    [QUEUE_NAMES.ghlWebhooks]: makeQueue(QUEUE_NAMES.ghlWebhooks),
    [QUEUE_NAMES.contactSync]: makeQueue(QUEUE_NAMES.contactSync),
    [QUEUE_NAMES.trustpilotEvents]: makeQueue(QUEUE_NAMES.trustpilotEvents),
    [QUEUE_NAMES.opinionStageResponses]: makeQueue(QUEUE_NAMES.opinionStageResponses),
    [QUEUE_NAMES.trustpilotPoll]: makeQueue(QUEUE_NAMES.trustpilotPoll),
    [QUEUE_NAMES.opinionStagePoll]: makeQueue(QUEUE_NAMES.opinionStagePoll),
    [QUEUE_NAMES.opinionStagePush]: makeQueue(QUEUE_NAMES.opinionStagePush),
    [QUEUE_NAMES.reconcile]: makeQueue(QUEUE_NAMES.reconcile),
    [QUEUE_NAMES.alerts]: makeQueue(QUEUE_NAMES.alerts),
    [QUEUE_NAMES.deadLetter]: makeQueue(QUEUE_NAMES.deadLetter),
  };
  for (const queue of Object.values(queues)) {
    queue.on('error', (error) => logger.warn({ queue: queue.name, err: { message: error.message } }, 'queue error'));
    closers.push({ name: `queue-${queue.name}`, close: () => queue.close() });
  }
  const deadLetters = createDeadLetters(queues[QUEUE_NAMES.deadLetter]);
  // Alerts exist before the breaker, budget and OAuth callbacks that raise them.
  const alerts = createAlerts({ queue: queues[QUEUE_NAMES.alerts], redis: stateRedis, prefix, logger });
  const breaker = createCircuitBreaker({
    redis: stateRedis,
    prefix,
    probeLeaseMs: config.UPSTREAM_TIMEOUT * 2 + 5_000,
    onStateChange: (change) => {
      logger.warn(change, 'circuit state changed');
      if (change.to === 'open') void alerts.raise({ kind: 'circuit-open', system: change.system, message: `calls to ${change.system} paused after repeated failures` });
    },
    onError: (error) => logger.warn({ err: { message: error instanceof Error ? error.message : String(error) } }, 'circuit breaker error'),
  });
  closers.push({ name: 'circuit-breaker', close: () => breaker.flush() });
  const dailyBudgetAlerts = createDailyBudgetAlerts(stateRedis, prefix);
  const alertDailyBudget = async (locationId: string, used: number): Promise<void> => {
    if (!(await dailyBudgetAlerts.firstToday(locationId))) return;
    await alerts.raise({ kind: 'daily-budget', system: 'ghl', locationId, message: `${Math.round(used * 100)} % of the daily GHL budget used; jobs wait for the next day once it is spent` });
  };
  const ghlBudget = createGhlBudget({
    budget,
    limit: { ...config.GHL_RATE_LIMIT, daily: config.GHL_DAILY_LIMIT },
    onDailyUsage: (locationId, used) => {
      if (used >= DAILY_BUDGET_ALERT_SHARE) void alertDailyBudget(locationId, used);
    },
  });
  const producer = createWebhookProducer({
    queues,
    seen: createSeenWebhooks(queueRedis, prefix),
    timeoutMs: options.ingestTimeoutMs ?? 800,
    retryHorizonMs: config.RETRY_HORIZON,
  });

  const observe: ResponseObserver = (info) => {
    breaker.recordExchange(info.system, info.status);
    metrics.upstreamCalls.inc({ system: info.system, status: String(info.status) });
    metrics.upstreamDuration.observe({ system: info.system }, info.durationMs / 1000);
  };
  // Marketplace-app mode: each installed location has its own OAuth tokens (stored encrypted);
  // the private-token location, when configured, keeps being served beside them.
  const privateLocations = config.GHL_PRIVATE_TOKEN && config.GHL_LOCATION_ID ? [config.GHL_LOCATION_ID] : [];
  const staticTokens = privateLocations.length > 0 ? createStaticTokenProvider(config.GHL_LOCATION_ID ?? '', config.GHL_PRIVATE_TOKEN ?? '') : undefined;
  const oauthStore =
    config.GHL_CLIENT_ID && config.GHL_CLIENT_SECRET ? createOAuthTokenStore({ redis: stateRedis, prefix, encryptionKeys: config.ENCRYPTION_KEY }) : undefined;
  const oauth =
    oauthStore && config.GHL_CLIENT_ID && config.GHL_CLIENT_SECRET
      ? createOAuthTokenProvider({
          store: oauthStore,
          clientId: config.GHL_CLIENT_ID,
          clientSecret: config.GHL_CLIENT_SECRET,
          baseUrl: config.GHL_API_BASE_URL,
          timeoutMs: config.UPSTREAM_TIMEOUT,
          version: config.GHL_API_VERSION,
          ...(config.GHL_OAUTH_REDIRECT_URI ? { redirectUri: config.GHL_OAUTH_REDIRECT_URI } : {}),
          onReconnectNeeded: (locationId, reason) => {
            logger.error({ locationId, reason }, 'location needs reconnecting');
            void alerts.raise({ kind: 'oauth-reconnect', system: 'ghl', locationId, message: `reconnect location ${locationId}: GHL refused its refresh token (${reason})` });
          },
        })
      : undefined;
  if (oauth) closers.push({ name: 'ghl-oauth', close: () => oauth.close() });
  const tokens = routeGhlTokens(privateLocations, staticTokens, oauth);
  const served = createServedLocations(privateLocations, oauthStore);
  const servedLocations = served.list;
  const forgetServed = served.forget;
  const ghl = createGhlClient({
    baseUrl: config.GHL_API_BASE_URL,
    version: config.GHL_API_VERSION,
    timeoutMs: config.UPSTREAM_TIMEOUT,
    tokens,
    // An open circuit sends nothing and spends no budget.
    budget: { ...ghlBudget, take: async (locationId: string) => { await breaker.check('ghl'); return ghlBudget.take(locationId); } },
    observe,
  });
  closers.push({ name: 'ghl-client', close: () => ghl.close() });
  const fieldIds = createCustomFieldIds(stateRedis, prefix, ghl);

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
      budget: circuitGuard(breaker, 'trustpilot', budgetFor(budget, 'trustpilot', 'trustpilot:global', config.TRUSTPILOT_RATE_LIMIT)),
      // Shared and encrypted when a key is configured; otherwise each process keeps its own token.
      tokenStore: config.ENCRYPTION_KEY.length > 0 ? createRedisTokenStore(stateRedis, prefix, config.ENCRYPTION_KEY) : createMemoryTokenStore(),
      observe,
    });
    const client = trustpilot;
    closers.push({ name: 'trustpilot-client', close: () => client.close() });
  }
  // The shared index of our unit's reviews needs the business user. It answers lookups unless
  // TRUSTPILOT_INDEX_REFRESH is 0, and routes new and edited reviews unless TRUSTPILOT_POLL_INTERVAL is 0.
  const reviewIndexStore =
    trustpilot?.canReadPrivateReviews && config.TRUSTPILOT_BUSINESS_UNIT_ID && mapping.trustpilot.ownReview.enabled && (config.TRUSTPILOT_INDEX_REFRESH > 0 || config.TRUSTPILOT_POLL_INTERVAL > 0)
      ? createReviewIndexStore(stateRedis, prefix, config.TRUSTPILOT_BUSINESS_UNIT_ID)
      : undefined;
  const reviewIndex =
    trustpilot && reviewIndexStore && config.TRUSTPILOT_BUSINESS_UNIT_ID
      ? createOwnReviewIndex({
          client: trustpilot,
          store: reviewIndexStore,
          businessUnitId: config.TRUSTPILOT_BUSINESS_UNIT_ID,
          refreshMs: config.TRUSTPILOT_INDEX_REFRESH > 0 ? config.TRUSTPILOT_INDEX_REFRESH : config.TRUSTPILOT_POLL_INTERVAL,
          maxPages: config.TRUSTPILOT_INDEX_MAX_PAGES,
          rescanMs: config.TRUSTPILOT_CACHE_TTL,
          logger,
          ...(config.TRUSTPILOT_POLL_INTERVAL > 0
            ? {
                router: createReviewRouter({
                  store: reviewIndexStore,
                  enqueue: async (job, dedupeKey) =>
                    void (await queues[QUEUE_NAMES.trustpilotEvents].add(job.eventName, job, { ...jobOptionsFor(QUEUE_NAMES.trustpilotEvents, config.RETRY_HORIZON), jobId: jobIdFor('tp-poll', dedupeKey) })),
                  logger,
                }),
              }
            : {}),
        })
      : undefined;
  const lookup = trustpilot
    ? createTrustpilotLookup({
        client: trustpilot,
        cache,
        businessUnitId: config.TRUSTPILOT_BUSINESS_UNIT_ID,
        ttlMs: config.TRUSTPILOT_CACHE_TTL,
        mapping: mapping.trustpilot,
        ...(reviewIndex && config.TRUSTPILOT_INDEX_REFRESH > 0 ? { index: reviewIndex } : {}),
      })
    : undefined;
  const syncDeps: ContactSyncDeps = {
    ghl,
    facts,
    fieldIds,
    ledger,
    fingerprints,
    snapshots,
    trustpilot: lookup,
    mapping,
    surveyUrl: config.OPINIONSTAGE_SURVEY_URL,
    apply: { planned, dryRun: config.DRY_RUN, writeMarks: snapshots },
    metrics,
    logger,
  };

  let opinionStage: OpinionStageClient | undefined;
  if (config.OPINIONSTAGE_API_KEY) {
    opinionStage = createOpinionStageClient({
      baseUrl: config.OPINIONSTAGE_API_BASE_URL,
      apiKey: config.OPINIONSTAGE_API_KEY,
      timeoutMs: config.UPSTREAM_TIMEOUT,
      budget: circuitGuard(breaker, 'opinionstage'),
      observe,
    });
    const client = opinionStage;
    closers.push({ name: 'opinionstage-client', close: () => client.close() });
  }
  // Built in every mode, so a bad ALERT_WEBHOOK_URL stops start-up.
  const alertClient = config.ALERT_WEBHOOK_URL
    ? createAlertClient({ url: config.ALERT_WEBHOOK_URL, ...(config.ALERT_WEBHOOK_SECRET ? { secret: config.ALERT_WEBHOOK_SECRET } : {}), timeoutMs: config.UPSTREAM_TIMEOUT, observe })
    : undefined;
  if (alertClient) closers.push({ name: 'alert-client', close: () => alertClient.close() });

  let push: PushClient | undefined;
  if (config.OPINIONSTAGE_PUSH_URL) {
    push = createPushClient({ url: config.OPINIONSTAGE_PUSH_URL, secret: config.OPINIONSTAGE_PUSH_SECRET, timeoutMs: config.UPSTREAM_TIMEOUT, observe });
    const client = push;
    closers.push({ name: 'push-client', close: () => client.close() });
  }

  const workers: Worker[] = [];
  if (mode !== 'web') {
    const policy = { deadLetters, alerts, metrics, logger };
    const syncQueue = queues[QUEUE_NAMES.contactSync];
    const schedule = async (job: ContactSyncJob) => {
      // The coalesced job keeps its first event's data: the newest event's time goes beside it.
      await snapshots.eventReceived(job.locationId, job.contactId, job.triggeredAt);
      await scheduleContactSync(syncQueue, job, config.COALESCE_WINDOW_MS, config.RETRY_HORIZON);
    };
    const pushQueue = queues[QUEUE_NAMES.opinionStagePush];
    const router = createGhlWebhookProcessor({
      facts,
      ledger,
      fingerprints,
      snapshots,
      fieldIds,
      mapping,
      metrics,
      logger,
      scheduleContactSync: schedule,
      ...(oauthStore
        ? {
            onAppUninstall: async (locationId: string) => {
              await oauthStore.delete(locationId);
              forgetServed();
              await scheduleReconcile(queues[QUEUE_NAMES.reconcile], await servedLocations(), config.RECONCILE_INTERVAL);
              logger.info({ locationId }, 'app uninstalled, location no longer served');
            },
          }
        : {}),
      ...(push ? { forward: async (event: PushEvent) => void (await pushQueue.add(event.type, event, { ...jobOptionsFor(QUEUE_NAMES.opinionStagePush, config.RETRY_HORIZON), jobId: jobIdFor('push', event.id) })) } : {}),
    });
    const sync = createContactSyncProcessor(syncDeps);
    const run = (name: QueueName, processor: (job: Job) => Promise<unknown>) =>
      workers.push(startWorker(name, withFailurePolicy(name, processor, policy), config, connection('worker'), logger, policy));
    run(QUEUE_NAMES.ghlWebhooks, router);
    run(QUEUE_NAMES.contactSync, sync);
    run(
      QUEUE_NAMES.opinionStageResponses,
      createOpinionStageResponseProcessor({
        client: opinionStage,
        ghl,
        cache,
        fieldIds,
        ledger,
        mapping,
        locationId: async () => (await servedLocations())[0],
        apply: { planned, dryRun: config.DRY_RUN, writeMarks: snapshots },
        metrics,
        logger,
      }),
    );
    if (push && config.OPINIONSTAGE_PUSH_URL) {
      const pushPath = new URL(config.OPINIONSTAGE_PUSH_URL).pathname;
      run(QUEUE_NAMES.opinionStagePush, createOpinionStagePushProcessor({ push, pushPath, dryRun: config.DRY_RUN, planned, metrics, logger }));
    }
    run(QUEUE_NAMES.alerts, createAlertProcessor({ client: alertClient, logger, redis: stateRedis, prefix }));
    if (config.RECONCILE_INTERVAL > 0) {
      run(
        QUEUE_NAMES.reconcile,
        createReconcileProcessor({
          ghl,
          fieldIds,
          fingerprints,
          mapping,
          scheduleContactSync: schedule,
          redis: stateRedis,
          prefix,
          maxPages: reconcilePageBudget({ rateLimit: config.GHL_RATE_LIMIT, dailyLimit: config.GHL_DAILY_LIMIT, intervalMs: config.RECONCILE_INTERVAL }),
          logger,
        }),
      );
    }
    // An interval of 0 removes the schedules.
    await scheduleReconcile(queues[QUEUE_NAMES.reconcile], await servedLocations(), config.RECONCILE_INTERVAL);
    if (opinionStage && config.opinionStagePollMs > 0) {
      run(
        QUEUE_NAMES.opinionStagePoll,
        createOpinionStagePollProcessor({ client: opinionStage, producer, seen: createOsPollSeen(stateRedis, prefix), itemIds: config.OPINIONSTAGE_ITEM_IDS, logger }),
      );
      await queues[QUEUE_NAMES.opinionStagePoll].upsertJobScheduler('opinionstage-poll', { every: config.opinionStagePollMs }, { name: 'poll', data: {}, opts: DEFAULT_JOB_OPTIONS[QUEUE_NAMES.opinionStagePoll] });
    }
    if (trustpilot && lookup) {
      const events = createTrustpilotEventProcessor({
        trustpilot,
        lookup,
        ghl,
        owners: cache,
        snapshots,
        facts,
        servedLocations,
        scheduleContactSync: schedule,
        metrics,
        logger,
      });
      run(QUEUE_NAMES.trustpilotEvents, events);
    }
    const pollQueue = queues[QUEUE_NAMES.trustpilotPoll];
    if (reviewIndex && reviewIndexStore && config.TRUSTPILOT_POLL_INTERVAL > 0) {
      run(QUEUE_NAMES.trustpilotPoll, createTrustpilotPollProcessor({ index: reviewIndex, logger }));
      // Reviews written from now on are routed; older ones are history (kept from the first start).
      await reviewIndexStore.startRouting(Date.now());
      await pollQueue.upsertJobScheduler('trustpilot-poll', { every: config.TRUSTPILOT_POLL_INTERVAL }, { name: 'poll', data: {}, opts: DEFAULT_JOB_OPTIONS[QUEUE_NAMES.trustpilotPoll] });
    } else {
      await pollQueue.removeJobScheduler('trustpilot-poll');
    }
    for (const worker of workers) closers.push({ name: `worker-${worker.name}`, close: () => worker.close() });
  }

  let app: App | undefined;
  if (mode !== 'worker') {
    const verifier = createGhlSignatureVerifier({
      ed25519PublicKeyPem: config.GHL_WEBHOOK_ED25519_PUBLIC_KEY,
      rsaPublicKeyPem: config.GHL_WEBHOOK_PUBLIC_KEY,
    });
    const systems = (['ghl', 'trustpilot', 'opinionstage', 'push', 'alert-webhook'] as const).filter((system) =>
      system === 'ghl' ? true : system === 'trustpilot' ? trustpilot !== undefined : system === 'opinionstage' ? opinionStage !== undefined : system === 'push' ? push !== undefined : alertClient !== undefined,
    );
    const readinessChecks: ReadinessCheck[] = [
      {
        name: 'redis',
        check: async () => ({ ok: (await stateRedis.ping()) === 'PONG' }),
      },
      ...circuitReadinessChecks(breaker, systems),
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
        isServedLocation: async (locationId) => (await servedLocations()).includes(locationId),
      },
      trustpilotIngest: { producer, secret: config.TRUSTPILOT_WEBHOOK_SECRET },
      ...(oauth && config.GHL_CLIENT_ID && config.GHL_CLIENT_SECRET
        ? {
            oauth: {
              clientId: config.GHL_CLIENT_ID,
              clientSecret: config.GHL_CLIENT_SECRET,
              redirectUri: config.GHL_OAUTH_REDIRECT_URI,
              versionId: config.GHL_APP_VERSION_ID,
              marketplaceUrl: config.GHL_MARKETPLACE_URL,
              allowedCompanyIds: config.GHL_ALLOWED_COMPANY_IDS,
              exchangeCode: (code, allowCompany) => oauth.exchangeCode(code, allowCompany),
              afterInstall: async () => {
                forgetServed();
                await scheduleReconcile(queues[QUEUE_NAMES.reconcile], await servedLocations(), config.RECONCILE_INTERVAL);
              },
            },
          }
        : {}),
      opinionStageIngest: { producer, secret: config.OPINIONSTAGE_WEBHOOK_SECRET },
      admin: {
        adminToken: config.ADMIN_TOKEN,
        viewerToken: config.VIEWER_TOKEN,
        mapping,
        planned,
        queues,
        deadLetters,
        isServedLocation: async (locationId) => (await servedLocations()).includes(locationId),
        syncContact: (locationId, contactId, dryRun) => syncContact({ ...syncDeps, apply: { ...syncDeps.apply, dryRun: dryRun || config.DRY_RUN } }, locationId, contactId),
      },
      dashboard: {
        adminToken: config.ADMIN_TOKEN,
        viewerToken: config.VIEWER_TOKEN,
        queues,
        deadLetters,
        planned,
        recentSyncs: (limit) => facts.recentSyncs(limit),
        locations: await servedLocations(),
        budgetUsage: (locationId) => ghlBudget.usage(locationId),
        circuitSystems: systems,
        circuitState: (system) => breaker.state(system),
        recentAlerts: (limit) => createRecentAlerts(stateRedis, prefix).list(limit),
      },
      bullBoard: { adminToken: config.ADMIN_TOKEN, viewerToken: config.VIEWER_TOKEN, queues: Object.values(queues) },
      ...(options.clusterProcess ? { hostMetrics: joinHostMetrics(metrics.registry) } : {}),
      collectMetrics: async () => {
        await collectQueueMetrics(queues, metrics);
        for (const system of systems) metrics.circuitState.set({ system }, CIRCUIT_STATE_VALUE[(await breaker.state(system)).state]);
      },
    });
    const built = app;
    closers.push({
      name: 'http',
      close: async () => {
        // Requests in flight finish; a keep-alive peer that keeps the server open is cut after a grace period.
        const cut = setTimeout(() => built.server.closeAllConnections(), HTTP_DRAIN_MS);
        try {
          await built.close();
        } finally {
          clearTimeout(cut);
        }
      },
    });
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
    close: () => closeAll(closers, logger),
  };
}

/**
 * Coalescing: a contact's sync waits COALESCE_WINDOW_MS so a burst of events becomes one run, and
 * BullMQ's deduplication keeps at most one run in flight plus one waiting per contact, the waiting
 * one reading the latest state when it starts.
 */
export async function scheduleContactSync(queue: Queue, job: ContactSyncJob, windowMs: number, retryHorizonMs = DEFAULT_RETRY_HORIZON_MS): Promise<void> {
  await queue.add('sync', job, {
    ...jobOptionsFor(QUEUE_NAMES.contactSync, retryHorizonMs),
    delay: windowMs,
    deduplication: { id: `${job.locationId}-${job.contactId}`, keepLastIfActive: true },
  });
}

function startWorker(
  name: QueueName,
  processor: (job: Job, token?: string) => Promise<unknown>,
  config: Config,
  connection: RedisClient,
  logger: Logger,
  failures: { deadLetters: DeadLetters; alerts: Alerts },
): Worker {
  const worker = new Worker(name, processor, {
    connection,
    prefix: queuePrefix(config.REDIS_PREFIX, name, connection),
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
  // A job that crashed its worker too often is failed by BullMQ before our processor runs, so the
  // failure policy never sees it: record and alert it here (recording is keyed by job id, so once).
  worker.on('failed', (job, error) => {
    if (!job || !STALLED_TOO_OFTEN.test(error.message)) return;
    deadLetterJob(failures, name, job, `stalled: ${error.message}`, error).catch((cause: unknown) => logger.error({ queue: name, jobId: job.id, err: { message: cause instanceof Error ? cause.message : String(cause) } }, 'could not dead-letter a stalled job'));
  });
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
