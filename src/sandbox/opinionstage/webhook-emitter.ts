/**
 * Asynchronous webhook delivery: `emit` returns at once, each delivery is retried on non-2xx or
 * transport failure with the same bytes and exponential backoff, and `idle()` waits for all of them.
 * The shared secret travels in `x-webhook-token` (what the bridge's Opinion Stage receiver checks).
 */
import type { DeliveryRecord } from '../shared/delivery-queue.js';
import { createEventEmitter, type EventEmitter } from '../shared/webhook-emitter.js';

export interface WebhookDelivery extends DeliveryRecord {
  responseId: string;
  itemId: string;
}

export interface WebhookEmitterOptions {
  url: string | undefined;
  token: string | undefined;
  retry: { attempts: number; baseDelayMs: number };
  /** Per-attempt deadline. */
  timeoutMs?: number;
}

export interface OpinionStageEvent {
  responseId: string;
  itemId: string;
  payload: Record<string, unknown>;
}

export interface WebhookEmitter extends EventEmitter<OpinionStageEvent, WebhookDelivery> {
  setToken(token: string | undefined): void;
}

export function createWebhookEmitter(options: WebhookEmitterOptions): WebhookEmitter {
  let token = options.token;
  const core = { url: options.url, retry: options.retry, timeoutMs: options.timeoutMs ?? 5_000 };
  const emitter = createEventEmitter<OpinionStageEvent, WebhookDelivery>(core, (event) => ({
    delivery: { responseId: event.responseId, itemId: event.itemId, body: JSON.stringify(event.payload), status: 0, attempts: 0 },
    headers: {
      'content-type': 'application/json',
      'user-agent': 'opinionstage-sandbox-webhooks',
      ...(token === undefined ? {} : { 'x-webhook-token': token }),
    },
  }));
  return {
    ...emitter,
    setToken(next) {
      token = next;
    },
  };
}
