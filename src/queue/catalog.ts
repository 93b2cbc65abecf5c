/**
 * The job catalog: one data schema and default options per queue. Producers validate before `add`,
 * processors re-parse `job.data` (it comes back from Redis, so it is untrusted input).
 * Job data holds ids and facts, never tokens: BullMQ stores it in clear.
 */
import type { JobsOptions } from 'bullmq';
import { z } from 'zod';

export const QUEUE_NAMES = {
  /** Every accepted inbound GHL event, one job per delivery; routed to the flows. */
  ghlWebhooks: 'ghl-webhooks',
  /** One coalesced sync run per contact: read GHL and the sources, plan, write. */
  contactSync: 'contact-sync',
  /** Trustpilot review notifications: re-fetch the review, find the contact, sync it. */
  trustpilotEvents: 'trustpilot-events',
  /** Jobs that failed for good, with their error history, kept for replay. */
  deadLetter: 'dead-letter',
} as const;

export type QueueName = (typeof QUEUE_NAMES)[keyof typeof QUEUE_NAMES];

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
});
export type TrustpilotEventJob = z.infer<typeof TrustpilotEventJobSchema>;

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

/** Defaults per queue. Completed jobs are dropped quickly; failures are kept for a week. */
export const DEFAULT_JOB_OPTIONS: Record<QueueName, JobsOptions> = {
  [QUEUE_NAMES.ghlWebhooks]: {
    attempts: 10,
    backoff: { type: 'jitter-exponential', delay: 1_000 },
    removeOnComplete: { age: 3_600, count: 10_000 },
    removeOnFail: { age: 7 * DAY_SECONDS },
  },
  [QUEUE_NAMES.contactSync]: {
    attempts: 20,
    backoff: { type: 'jitter-exponential', delay: 2_000 },
    removeOnComplete: { age: 3_600, count: 10_000 },
    removeOnFail: { age: 7 * DAY_SECONDS },
  },
  [QUEUE_NAMES.trustpilotEvents]: {
    attempts: 20,
    backoff: { type: 'jitter-exponential', delay: 2_000 },
    removeOnComplete: { age: 3_600, count: 10_000 },
    removeOnFail: { age: 7 * DAY_SECONDS },
  },
  [QUEUE_NAMES.deadLetter]: {
    attempts: 1,
    removeOnComplete: false,
    removeOnFail: false,
  },
};
