/**
 * The worker side (`worker` and `all` modes): one worker per queue this configuration feeds, and the
 * repeatable schedules (reconcile, Opinion Stage poll, Trustpilot poll), which an interval of 0 removes.
 */
import type { Worker } from 'bullmq';
import type { AlertClient } from '../../clients/alert-webhook/alert-client.js';
import type { OpinionStageClient } from '../../clients/opinionstage/opinionstage-client.js';
import type { PushClient } from '../../clients/push/push-client.js';
import { ghlAppId, type Config } from '../../config/env.js';
import type { Mapping } from '../../config/mapping.js';
import type { Logger } from '../../observability/logger.js';
import type { Metrics } from '../../observability/metrics.js';
import { redactCredentialUrl } from '../../observability/redact-url.js';
import { DEFAULT_JOB_OPTIONS, jobOptionsFor, QUEUE_NAMES, type ContactSyncJob, type PushEvent } from '../../queue/catalog.js';
import { jobIdFor, type WebhookProducer } from '../../queue/webhook-producer.js';
import type { CustomFieldIds } from '../../state/custom-field-ids.js';
import { createAlertProcessor } from '../../workers/alert-processor.js';
import { createContactSyncProcessor, type ContactSyncDeps } from '../../workers/contact-sync-processor.js';
import { createGhlWebhookProcessor } from '../../workers/ghl-webhook-processor.js';
import { createOpinionStagePollProcessor } from '../../workers/opinionstage-poll-processor.js';
import { createOpinionStagePushProcessor } from '../../workers/opinionstage-push-processor.js';
import { createOpinionStageResponseProcessor } from '../../workers/opinionstage-response-processor.js';
import { createReconcileMarks } from '../../state/reconcile-marks.js';
import { createReconcileProcessor, reconcilePageBudget } from '../../workers/reconcile-processor.js';
import { createTrustpilotEventProcessor } from '../../workers/trustpilot-event-processor.js';
import { createTrustpilotPollProcessor } from '../../workers/trustpilot-poll-processor.js';
import type { GhlAccess } from './ghl.js';
import type { ConnectionsAccess } from './location-connections.js';
import { itemLocationsOf, opinionStageConnectionItemLocations, trustpilotLocations } from './location-routing.js';
import { scheduleContactSync, type Queues } from './queues.js';
import type { Stores } from './state.js';
import type { TrustpilotAccess } from './trustpilot.js';
import type { WorkerFactory } from './worker-factory.js';
import type { ConnectionClients } from './connection-clients.js';
import { locationOpinionStagePoll, locationTrustpilotEvents, locationTrustpilotPoll } from './connection-workers.js';

export interface WorkerParts {
  config: Config;
  logger: Logger;
  metrics: Metrics;
  mapping: Mapping;
  stores: Stores;
  queues: Queues;
  producer: WebhookProducer;
  ghl: GhlAccess;
  fieldIds: CustomFieldIds;
  syncDeps: ContactSyncDeps;
  trustpilot: TrustpilotAccess;
  opinionStage: OpinionStageClient | undefined;
  push: PushClient | undefined;
  alertClient: AlertClient | undefined;
  /** Re-reads the served locations and re-schedules their reconcile runs (after an install or uninstall). */
  servedChanged: () => Promise<void>;
  factory: WorkerFactory;
  /** Per-location clients; present when connections can be stored (ENCRYPTION_KEY). */
  connectionClients?: ConnectionClients | undefined;
  /** Per-location connections, for routing reviews and responses to their location. */
  connections?: ConnectionsAccess | undefined;
}

export async function startWorkers(parts: WorkerParts): Promise<Worker[]> {
  const { config, queues, factory } = parts;
  const workers: Worker[] = [];
  const run = (...args: Parameters<WorkerFactory['start']>) => void workers.push(factory.start(...args));
  const schedule = async (job: ContactSyncJob) => {
    // The coalesced job keeps its first event's data: the newest event's time goes beside it.
    await parts.stores.snapshots.eventReceived(job.locationId, job.contactId, job.triggeredAt);
    await scheduleContactSync(queues[QUEUE_NAMES.contactSync], job, config.COALESCE_WINDOW_MS, config.RETRY_HORIZON);
  };
  run(QUEUE_NAMES.ghlWebhooks, ghlWebhookProcessor(parts, schedule));
  run(QUEUE_NAMES.contactSync, createContactSyncProcessor(parts.syncDeps));
  run(QUEUE_NAMES.opinionStageResponses, opinionStageResponseProcessor(parts));
  if (parts.push && config.OPINIONSTAGE_PUSH_URL) {
    const pushPath = redactCredentialUrl(config.OPINIONSTAGE_PUSH_URL);
    run(QUEUE_NAMES.opinionStagePush, createOpinionStagePushProcessor({ push: parts.push, pushPath, dryRun: config.DRY_RUN, planned: parts.stores.planned, metrics: parts.metrics, logger: parts.logger }));
  }
  run(QUEUE_NAMES.alerts, createAlertProcessor({ client: parts.alertClient, logger: parts.logger, redis: parts.stores.redis, prefix: parts.stores.prefix }));
  if (config.RECONCILE_INTERVAL > 0) run(QUEUE_NAMES.reconcile, reconcileProcessor(parts, schedule));
  // An interval of 0 removes the schedules.
  await parts.servedChanged();
  await startPolls(parts, run, schedule);
  return workers;
}

type Run = (...args: Parameters<WorkerFactory['start']>) => void;
type Schedule = (job: ContactSyncJob) => Promise<void>;

async function startPolls(parts: WorkerParts, run: Run, schedule: Schedule): Promise<void> {
  const { config, queues, logger } = parts;
  const own = parts.connectionClients;
  const seen = parts.stores.osPollSeen;
  const envOsPoll = parts.opinionStage ? createOpinionStagePollProcessor({ client: parts.opinionStage, producer: parts.producer, seen, itemIds: config.OPINIONSTAGE_ITEM_IDS, logger }) : undefined;
  const osPoll = own ? locationOpinionStagePoll(own, envOsPoll, { producer: parts.producer, seen, logger }) : envOsPoll;
  if (osPoll && config.opinionStagePollMs > 0) {
    run(QUEUE_NAMES.opinionStagePoll, osPoll);
    await queues[QUEUE_NAMES.opinionStagePoll].upsertJobScheduler('opinionstage-poll', { every: config.opinionStagePollMs }, { name: 'poll', data: {}, opts: DEFAULT_JOB_OPTIONS[QUEUE_NAMES.opinionStagePoll] });
  }
  const { client, lookup, poll } = parts.trustpilot;
  const { ghl, stores } = parts;
  const eventDeps = { ghl: ghl.ghl, owners: stores.cache, snapshots: stores.snapshots, facts: stores.facts, servedLocations: ghl.served.list, locationsFor: trustpilotLocations(config, parts.connections), scheduleContactSync: schedule, metrics: parts.metrics, logger };
  const envEvents = client && lookup ? createTrustpilotEventProcessor({ ...eventDeps, trustpilot: client, lookup }) : undefined;
  const events = own ? locationTrustpilotEvents(own, envEvents, eventDeps) : envEvents;
  if (events) run(QUEUE_NAMES.trustpilotEvents, events);
  const pollQueue = queues[QUEUE_NAMES.trustpilotPoll];
  const envPoll = poll ? createTrustpilotPollProcessor({ index: poll.index, logger }) : undefined;
  const tpPoll = own && config.TRUSTPILOT_POLL_INTERVAL > 0 ? locationTrustpilotPoll(own, envPoll, logger) : envPoll;
  if (tpPoll) {
    run(QUEUE_NAMES.trustpilotPoll, tpPoll);
    // Reviews written from now on are routed; older ones are history (kept from the first start).
    if (poll) await poll.store.startRouting(Date.now());
    await pollQueue.upsertJobScheduler('trustpilot-poll', { every: config.TRUSTPILOT_POLL_INTERVAL }, { name: 'poll', data: {}, opts: DEFAULT_JOB_OPTIONS[QUEUE_NAMES.trustpilotPoll] });
  } else {
    await pollQueue.removeJobScheduler('trustpilot-poll');
  }
}

function ghlWebhookProcessor(parts: WorkerParts, schedule: Schedule) {
  const { config, stores, queues, logger } = parts;
  const oauthStore = parts.ghl.oauth?.store;
  const pushQueue = queues[QUEUE_NAMES.opinionStagePush];
  return createGhlWebhookProcessor({
    facts: stores.facts,
    ledger: stores.ledger,
    fingerprints: stores.fingerprints,
    snapshots: stores.snapshots,
    fieldIds: parts.fieldIds,
    mapping: parts.mapping,
    appId: ghlAppId(config),
    metrics: parts.metrics,
    logger,
    ports: {
    scheduleContactSync: schedule,
    ...(oauthStore
      ? {
          appUninstalled: async (locationId: string) => {
            await oauthStore.delete(locationId);
            await parts.servedChanged();
            logger.info({ locationId }, 'app uninstalled, location no longer served');
          },
        }
      : {}),
    ...(parts.push ? { forward: async (event: PushEvent) => void (await pushQueue.add(event.type, event, { ...jobOptionsFor(QUEUE_NAMES.opinionStagePush, config.RETRY_HORIZON), jobId: jobIdFor('push', event.id) })) } : {}),
    },
  });
}

function opinionStageResponseProcessor(parts: WorkerParts) {
  const { config, stores } = parts;
  return createOpinionStageResponseProcessor({
    client: parts.opinionStage,
    ...(parts.connectionClients ? { clientFor: parts.connectionClients.opinionStageFor } : {}),
    ghl: parts.ghl.ghl,
    cache: stores.cache,
    fieldIds: parts.fieldIds,
    ledger: stores.ledger,
    mapping: parts.mapping,
    servedLocations: parts.ghl.served.list,
    itemLocations: itemLocationsOf(config),
    connectionItemLocations: () => opinionStageConnectionItemLocations(parts.connections),
    apply: { planned: stores.planned, dryRun: config.DRY_RUN, writeMarks: stores.snapshots },
    metrics: parts.metrics,
    logger: parts.logger,
  });
}

function reconcileProcessor(parts: WorkerParts, schedule: Schedule) {
  const { config, stores } = parts;
  return createReconcileProcessor({
    ghl: parts.ghl.ghl,
    fieldIds: parts.fieldIds,
    fingerprints: stores.fingerprints,
    mapping: parts.mapping,
    scheduleContactSync: schedule,
    marks: createReconcileMarks(stores.redis, stores.prefix),
    maxPages: reconcilePageBudget({ rateLimit: config.GHL_RATE_LIMIT, dailyLimit: config.GHL_DAILY_LIMIT, intervalMs: config.RECONCILE_INTERVAL }),
    logger: parts.logger,
  });
}
