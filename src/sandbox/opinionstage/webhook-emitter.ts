/**
 * Asynchronous webhook delivery: `emit` returns at once, each delivery is retried on non-2xx or
 * transport failure with the same bytes and exponential backoff, and `idle()` waits for all of them.
 * The shared secret travels in `x-webhook-token` (what the bridge's Opinion Stage receiver checks).
 */
import type { DeliveryRecord } from '../shared/delivery-queue.js';
import { createEmitterCore } from '../shared/webhook-emitter.js';

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
  const core = createEmitterCore<WebhookDelivery>({ url: options.url, retry: options.retry, timeoutMs: options.timeoutMs ?? 5_000 });
  let token = options.token;
  return {
    deliveries: core.deliveries,
    url: () => core.url(),
    setUrl: (next) => core.setUrl(next),
    setToken(next) {
      token = next;
    },
    emit(event) {
      core.send(() => ({
        delivery: { responseId: event.responseId, itemId: event.itemId, body: JSON.stringify(event.payload), status: 0, attempts: 0 },
        headers: {
          'content-type': 'application/json',
          'user-agent': 'opinionstage-sandbox-webhooks',
          ...(token === undefined ? {} : { 'x-webhook-token': token }),
        },
      }));
    },
    idle: () => core.idle(),
    close: () => core.close(),
  };
}
