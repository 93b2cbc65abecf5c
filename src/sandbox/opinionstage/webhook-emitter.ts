/**
 * Asynchronous webhook delivery: `emit` returns at once, each delivery is retried on non-2xx or
 * transport failure with the same bytes and exponential backoff, and `idle()` waits for all of them.
 * The shared secret travels in `x-webhook-token` (the bridge's receiver contract, NOTES §B9 item 1).
 */
import { createDeliveryQueue, type DeliveryRecord } from '../shared/delivery-queue.js';

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

export interface WebhookEmitter {
  readonly deliveries: WebhookDelivery[];
  url(): string | undefined;
  setUrl(url: string | undefined): void;
  setToken(token: string | undefined): void;
  emit(event: { responseId: string; itemId: string; payload: Record<string, unknown> }): void;
  idle(): Promise<void>;
  close(): Promise<void>;
}

export function createWebhookEmitter(options: WebhookEmitterOptions): WebhookEmitter {
  const deliveries: WebhookDelivery[] = [];
  const queue = createDeliveryQueue({ retry: options.retry, timeoutMs: options.timeoutMs ?? 5_000 });
  let url = options.url;
  let token = options.token;
  return {
    deliveries,
    url: () => url,
    setUrl(next) {
      url = next;
    },
    setToken(next) {
      token = next;
    },
    emit(event) {
      const target = url;
      if (target === undefined || queue.closed) return;
      const text = JSON.stringify(event.payload);
      const delivery: WebhookDelivery = { responseId: event.responseId, itemId: event.itemId, body: text, status: 0, attempts: 0 };
      deliveries.push(delivery);
      const headers: Record<string, string> = {
        'content-type': 'application/json',
        'user-agent': 'opinionstage-sandbox-webhooks',
        ...(token === undefined ? {} : { 'x-webhook-token': token }),
      };
      queue.send(target, delivery, headers);
    },
    idle: () => queue.idle(),
    close: () => queue.close(),
  };
}
