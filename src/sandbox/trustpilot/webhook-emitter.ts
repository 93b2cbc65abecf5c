/**
 * Review-event notifications (NOTES A6): one event per POST, wrapped in `{ events: [...] }`,
 * content-type application/json, no signature (the receiver's own token travels in its URL).
 * Delivery is asynchronous and never blocks the API; events about one review go out in order; a
 * non-2xx answer or transport failure is retried a few times with short, doubling delays, same bytes.
 */
import { createDeliveryQueue, type DeliveryRecord } from '../shared/delivery-queue.js';

export const REVIEW_EVENT_NAMES = ['service-review-created', 'service-review-updated', 'service-review-deleted'] as const;
export type ReviewEventName = (typeof REVIEW_EVENT_NAMES)[number];

export interface ReviewEvent {
  eventName: ReviewEventName;
  /** Deliveries about one review keep their order. */
  reviewId: string;
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

export interface WebhookEmitter {
  readonly deliveries: WebhookDelivery[];
  setUrl(url: string | undefined): void;
  emit(event: ReviewEvent): void;
  idle(): Promise<void>;
  close(): Promise<void>;
}

export function createWebhookEmitter(options: WebhookEmitterOptions): WebhookEmitter {
  const deliveries: WebhookDelivery[] = [];
  const queue = createDeliveryQueue({ retry: options.retry, timeoutMs: options.timeoutMs ?? 10_000 });
  let url = options.url;
  return {
    deliveries,
    setUrl(next) {
      url = next;
    },
    emit(event) {
      const target = url;
      if (target === undefined || queue.closed) return;
      // Serialised now: the payload shows the review as it was when the event happened.
      const text = JSON.stringify({ events: [{ eventName: event.eventName, version: '1', eventData: event.eventData }] });
      const delivery: WebhookDelivery = { eventName: event.eventName, body: text, status: 0, attempts: 0 };
      deliveries.push(delivery);
      queue.send(target, delivery, { 'content-type': 'application/json', 'user-agent': 'trustpilot-sandbox-webhooks' }, event.reviewId);
    },
    idle: () => queue.idle(),
    close: () => queue.close(),
  };
}
