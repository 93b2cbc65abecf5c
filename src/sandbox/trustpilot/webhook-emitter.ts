/**
 * Review-event notifications: one event per POST, wrapped in `{ events: [...] }`,
 * content-type application/json, no signature (the receiver's own token travels in its URL).
 * Delivery is asynchronous and never blocks the API; events about one review go out in order; a
 * non-2xx answer or transport failure is retried a few times with short, doubling delays, same bytes.
 */
import type { DeliveryRecord } from '../shared/delivery-queue.js';
import { createEventEmitter, type EventEmitter } from '../shared/webhook-emitter.js';

export const REVIEW_EVENT_NAMES = ['service-review-created', 'service-review-updated', 'service-review-deleted'] as const;
export type ReviewEventName = (typeof REVIEW_EVENT_NAMES)[number];

export interface ReviewEvent {
  eventName: ReviewEventName;
  /** Deliveries about one review keep their order. */
  reviewId: string;
  /** The reviewed unit: its account's webhook subscription receives the event. */
  businessUnitId: string;
  eventData: Record<string, unknown>;
}

export interface WebhookDelivery extends DeliveryRecord {
  eventName: ReviewEventName;
}

export interface WebhookEmitterOptions {
  url: string | undefined;
  retry: { attempts: number; baseDelayMs: number };
  /** Per-attempt deadline; Trustpilot's own is undocumented. */
  timeoutMs?: number;
}

export type WebhookEmitter = EventEmitter<ReviewEvent, WebhookDelivery>;

export function createWebhookEmitter(options: WebhookEmitterOptions): WebhookEmitter {
  const core = { url: options.url, retry: options.retry, timeoutMs: options.timeoutMs ?? 10_000 };
  return createEventEmitter<ReviewEvent, WebhookDelivery>(core, (event) => {
    // Serialised now: the payload shows the review as it was when the event happened.
    const text = JSON.stringify({ events: [{ eventName: event.eventName, version: '1', eventData: event.eventData }] });
    return {
      delivery: { eventName: event.eventName, body: text, status: 0, attempts: 0 },
      headers: { 'content-type': 'application/json', 'user-agent': 'trustpilot-sandbox-webhooks' },
      orderingKey: event.reviewId,
    };
  });
}
