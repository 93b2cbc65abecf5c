/**
 * Trustpilot service-review notifications: the payload shape, and what each event becomes. Trustpilot
 * does not sign them (a shared token authenticates the sender, see shared-secret.ts); the payload is
 * only a hint: the worker re-fetches the review before anything is written.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';

const EVENT_NAMES = ['service-review-created', 'service-review-updated', 'service-review-deleted'] as const;
export type TrustpilotEventName = (typeof EVENT_NAMES)[number];

/**
 * Trustpilot notifications carry no delivery id, and an update (a company reply) can repeat the
 * previous update's payload byte for byte. So only identical events within the same 5 minutes are
 * taken as a redelivery; processing one twice is harmless (the review is re-fetched, writes are
 * idempotent), missing one is not.
 */
const DEDUPE_BUCKET_MS = 5 * 60_000;
export const TRUSTPILOT_DEDUPE_TTL_SECONDS = 10 * 60;

const TrustpilotEventSchema = z.looseObject({
  eventName: z.string().max(100),
  version: z.string().max(20).optional(),
  eventData: z.looseObject({
    id: z.string().regex(/^[A-Za-z0-9_-]{1,128}$/, 'expected a review id'),
    updatedAt: z.string().max(64).nullish(),
    createdAt: z.string().max(64).nullish(),
  }),
});
export type TrustpilotEvent = z.infer<typeof TrustpilotEventSchema>;

export const TrustpilotNotificationSchema = z
  .looseObject({ events: z.array(TrustpilotEventSchema).min(1).max(100) })
  .describe('Trustpilot service-review notification: `{ events: [{ eventName, version, eventData }] }`')
  .meta({ id: 'TrustpilotNotification' });

export type TrustpilotReviewEvent =
  | { kind: 'ignored'; reason: string }
  | { kind: 'review'; eventName: TrustpilotEventName; reviewId: string; eventData: TrustpilotEvent['eventData']; dedupeKey: string };

function isEventName(name: string): name is TrustpilotEventName {
  return (EVENT_NAMES as readonly string[]).includes(name);
}

/** One notification event, as the queue takes it: a review event with its redelivery key, or ignored. */
export function readTrustpilotEvent(event: TrustpilotEvent, now: number): TrustpilotReviewEvent {
  if (!isEventName(event.eventName)) return { kind: 'ignored', reason: 'unknown event name' };
  const bucket = Math.floor(now / DEDUPE_BUCKET_MS);
  const hash = createHash('sha256').update(JSON.stringify(event.eventData)).digest('hex');
  return {
    kind: 'review',
    eventName: event.eventName,
    reviewId: event.eventData.id,
    eventData: event.eventData,
    dedupeKey: `${event.eventName}:${event.eventData.id}:${hash}:${bucket}`,
  };
}
