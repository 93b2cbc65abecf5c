/**
 * The job catalog: one data schema and default options per queue. Producers validate before `add`,
 * processors re-parse `job.data` (it comes back from Redis, so it is untrusted input).
 * Job data holds ids and facts, never tokens: BullMQ stores it in clear.
 */
import type { JobsOptions } from 'bullmq';
import { attemptsForHorizon, JITTER_BACKOFF } from './backoff.js';
import { z } from 'zod';

export const QUEUE_NAMES = {
  /** Every accepted inbound GHL event, one job per delivery; routed to the flows. */
  ghlWebhooks: 'ghl-webhooks',
  /** One coalesced sync run per contact: read GHL and the sources, plan, write. */
  contactSync: 'contact-sync',
  /** Trustpilot review notifications (and reviews the poll found): re-fetch the review, find the contact, sync it. */
  trustpilotEvents: 'trustpilot-events',
  /** The scheduled read of our business unit's reviews: new and edited ones are routed to their contacts. */
  trustpilotPoll: 'trustpilot-poll',
  /** Opinion Stage responses (webhook or poll): upsert the contact, note, fields, tags, tasks. */
  opinionStageResponses: 'opinionstage-responses',
  /** The scheduled poll of Opinion Stage items for responses webhooks missed. */
  opinionStagePoll: 'opinionstage-poll',
  /** GHL contact, task and note changes forwarded as signed JSON to OPINIONSTAGE_PUSH_URL. */
  opinionStagePush: 'opinionstage-push',
  /** The scheduled poll of each location for contact changes webhooks missed. */
  reconcile: 'reconcile',
  /** Failure alerts on their way to ALERT_WEBHOOK_URL (throttled per cause). */
  alerts: 'alerts',
  /** Jobs that failed for good, with their error history, kept for replay. */
  deadLetter: 'dead-letter',
} as const;

export type QueueName = (typeof QUEUE_NAMES)[keyof typeof QUEUE_NAMES];

/** Every queue, in catalog order. */
export const ALL_QUEUES: QueueName[] = Object.values(QUEUE_NAMES);
/** The queues jobs fail out of: every queue but the dead-letter queue itself. */
export const SOURCE_QUEUES = ALL_QUEUES.filter((name): name is Exclude<QueueName, typeof QUEUE_NAMES.deadLetter> => name !== QUEUE_NAMES.deadLetter);

const id = z.string().min(1).max(128);

export const GhlWebhookJobSchema = z.object({
  source: z.enum(['marketplace', 'workflow']),
  receivedAt: z.number().int().nonnegative(),
  /** The payload as validated at ingest; the processor validates it again. */
  event: z.record(z.string(), z.unknown()),
});
export type GhlWebhookJob = z.infer<typeof GhlWebhookJobSchema>;

export const ContactSyncJobSchema = z.object({
  locationId: id,
  contactId: id,
  reason: z.enum(['webhook', 'reconcile', 'manual', 'backfill', 'trustpilot', 'opinionstage']),
  /** When the triggering event was received, for end-to-end latency figures. */
  triggeredAt: z.number().int().nonnegative(),
  eventType: z.string().max(64).optional(),
});
export type ContactSyncJob = z.infer<typeof ContactSyncJobSchema>;

export const TrustpilotEventJobSchema = z.object({
  eventName: z.string().min(1).max(100),
  reviewId: z.string().min(1).max(128),
  receivedAt: z.number().int().nonnegative(),
  /** The notification's review data: used as is when private reviews cannot be read. */
  eventData: z.record(z.string(), z.unknown()),
  /** `poll`: found by the scheduled listing, and `eventData` is the private review as just read (no re-fetch). */
  source: z.enum(['webhook', 'poll']).optional(),
  /** The location whose own webhook URL (`?location=`) or own poll brought it. */
  webhookLocationId: z.string().min(1).max(128).optional(),
});
export type TrustpilotEventJob = z.infer<typeof TrustpilotEventJobSchema>;

export const OpinionStageResponseJobSchema = z.object({
  source: z.enum(['webhook', 'poll']),
  receivedAt: z.number().int().nonnegative(),
  itemId: z.string().max(256).optional(),
  /** The response object as Opinion Stage returns it; re-validated by the processor. */
  response: z.record(z.string(), z.unknown()),
  /** Flat identity fields a webhook may carry beside the response. */
  flat: z.object({ email: z.string().optional(), name: z.string().optional(), phone: z.string().optional(), contactId: z.string().optional() }).default({}),
  /** The location whose own webhook URL (`?location=`) or own poll brought it. */
  webhookLocationId: z.string().min(1).max(128).optional(),
});
export type OpinionStageResponseJob = z.infer<typeof OpinionStageResponseJobSchema>;

/** Webhook and poll share it: one response id is one job, whichever path brings it first. */
export const opinionStageDedupeKey = (responseId: string) => `response:${responseId}`;
export const OPINIONSTAGE_DEDUPE_TTL_SECONDS = 30 * 86_400;

export const OpinionStagePollJobSchema = z.object({}).loose();

/** The forwarded event, exactly as POSTed to OPINIONSTAGE_PUSH_URL. */
export const PushEventSchema = z
  .object({
    id: z.string().min(1).describe('Stable event id: the same event retried keeps it (dedupe on it)'),
    type: z.string().describe('GHL event type: ContactCreate, ContactUpdate, TaskCreate, TaskComplete, TaskDelete, NoteCreate, NoteUpdate'),
    occurredAt: z.string().describe('ISO time of the change (GHL timestamp, else when the bridge received it)'),
    locationId: z.string(),
    data: z.record(z.string(), z.unknown()).describe('The GHL event payload'),
  })
  .meta({ id: 'ForwardedEvent' });
export type PushEvent = z.infer<typeof PushEventSchema>;

export const DeadLetterJobSchema = z.object({
  queue: z.string().min(1),
  jobId: z.string().min(1),
  name: z.string(),
  data: z.unknown(),
  failedReason: z.string(),
  attemptsMade: z.number().int().nonnegative(),
  stacktrace: z.array(z.string()).default([]),
  failedAt: z.number().int().nonnegative(),
});
export type DeadLetterJob = z.infer<typeof DeadLetterJobSchema>;

const DAY_SECONDS = 86_400;

/** How long retryable failures keep retrying before the dead-letter queue (RETRY_HORIZON). */
export const DEFAULT_RETRY_HORIZON_MS = DAY_SECONDS * 1000;

/** First backoff of the queues whose failures retry for the whole horizon. */
const RETRY_BASE_DELAY_MS: Partial<Record<QueueName, number>> = {
  [QUEUE_NAMES.ghlWebhooks]: 1_000,
  [QUEUE_NAMES.contactSync]: 2_000,
  [QUEUE_NAMES.trustpilotEvents]: 2_000,
  [QUEUE_NAMES.opinionStageResponses]: 2_000,
  [QUEUE_NAMES.opinionStagePush]: 2_000,
  [QUEUE_NAMES.alerts]: 5_000,
};

function retrying(queue: QueueName, horizonMs: number): JobsOptions {
  const base = RETRY_BASE_DELAY_MS[queue] ?? 1_000;
  return {
    attempts: attemptsForHorizon(base, horizonMs),
    backoff: { type: JITTER_BACKOFF, delay: base },
    removeOnComplete: { age: 3_600, count: 10_000 },
    removeOnFail: { age: 7 * DAY_SECONDS },
  };
}

/** Scheduled sweeps (polls, reconcile): a few tries, the next tick runs anyway; a short history. */
const SCHEDULED: JobsOptions = {
  attempts: 3,
  backoff: { type: JITTER_BACKOFF, delay: 5_000 },
  removeOnComplete: { count: 100 },
  removeOnFail: { count: 100 },
};

/** Defaults per queue. Completed jobs are dropped quickly; failures are kept for a week. */
export const DEFAULT_JOB_OPTIONS: Record<QueueName, JobsOptions> = {
  [QUEUE_NAMES.ghlWebhooks]: retrying(QUEUE_NAMES.ghlWebhooks, DEFAULT_RETRY_HORIZON_MS),
  [QUEUE_NAMES.contactSync]: retrying(QUEUE_NAMES.contactSync, DEFAULT_RETRY_HORIZON_MS),
  [QUEUE_NAMES.trustpilotEvents]: retrying(QUEUE_NAMES.trustpilotEvents, DEFAULT_RETRY_HORIZON_MS),
  [QUEUE_NAMES.opinionStageResponses]: retrying(QUEUE_NAMES.opinionStageResponses, DEFAULT_RETRY_HORIZON_MS),
  [QUEUE_NAMES.trustpilotPoll]: SCHEDULED,
  [QUEUE_NAMES.opinionStagePoll]: SCHEDULED,
  [QUEUE_NAMES.opinionStagePush]: retrying(QUEUE_NAMES.opinionStagePush, DEFAULT_RETRY_HORIZON_MS),
  [QUEUE_NAMES.reconcile]: SCHEDULED,
  [QUEUE_NAMES.alerts]: { ...retrying(QUEUE_NAMES.alerts, DEFAULT_RETRY_HORIZON_MS), removeOnComplete: { age: 7 * DAY_SECONDS, count: 1_000 } },
  [QUEUE_NAMES.deadLetter]: {
    attempts: 1,
    removeOnComplete: false,
    removeOnFail: false,
  },
};

/** A queue's job options with its retries spread over `retryHorizonMs` instead of the default day. */
export function jobOptionsFor(queue: QueueName, retryHorizonMs: number): JobsOptions {
  const defaults = DEFAULT_JOB_OPTIONS[queue];
  const base = RETRY_BASE_DELAY_MS[queue];
  return base === undefined ? defaults : { ...defaults, attempts: attemptsForHorizon(base, retryHorizonMs) };
}
