/**
 * Asynchronous, signed webhook delivery. Events about one contact go out one after another in the
 * order they happened; each is retried on non-2xx or transport failure with the same webhookId and the
 * same bytes; non-2xx answers and transport failures are retried with exponential backoff.
 */
import { randomUUID } from 'node:crypto';
import type { DeliveryRecord } from '../shared/delivery-queue.js';
import { createEventEmitter, type EventEmitter } from '../shared/webhook-emitter.js';
import type { GhlEvent } from './events.js';
import type { WebhookSignatureMode, WebhookSigner } from './signing.js';

export interface WebhookDelivery extends DeliveryRecord {
  webhookId: string;
  type: string;
}

export interface WebhookEmitterOptions {
  signer: WebhookSigner;
  signatures: WebhookSignatureMode;
  retry: { attempts: number; baseDelayMs: number };
  appId: string;
  versionId: string;
  url: string | undefined;
  /** Per-attempt deadline; GHL's own is undocumented. */
  timeoutMs?: number;
}

export type WebhookEmitter = EventEmitter<GhlEvent, WebhookDelivery>;

export function createWebhookEmitter(options: WebhookEmitterOptions): WebhookEmitter {
  const core = { url: options.url, retry: options.retry, timeoutMs: options.timeoutMs ?? 10_000 };
  return createEventEmitter<GhlEvent, WebhookDelivery>(core, (event) => {
    const webhookId = randomUUID();
    const text = JSON.stringify({
      ...event.payload,
      appId: options.appId,
      versionId: options.versionId,
      timestamp: new Date().toISOString(),
      webhookId,
    });
    const headers = {
      'content-type': 'application/json',
      'user-agent': 'ghl-sandbox-webhooks',
      ...options.signer.headers(Buffer.from(text, 'utf8'), options.signatures),
    };
    return { delivery: { webhookId, type: event.type, body: text, status: 0, attempts: 0 }, headers, orderingKey: event.orderingKey };
  });
}
