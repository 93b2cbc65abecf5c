/**
 * Asynchronous, signed webhook delivery. Events about one contact go out one after another in the
 * order they happened; each is retried on non-2xx or transport failure with the same webhookId and the
 * same bytes (GUIDE-2026: non-2xx and transport failures are retried with exponential backoff).
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, request } from 'undici';
import type { GhlEvent } from './events.js';
import type { WebhookSignatureMode, WebhookSigner } from './signing.js';

export interface WebhookDelivery {
  webhookId: string;
  type: string;
  /** The exact bytes sent (and signed), as UTF-8 text. */
  body: string;
  /** Last HTTP status; 0 while the first attempt is pending; 'error' after a transport failure. */
  status: number | 'error';
  attempts: number;
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

export interface WebhookEmitter {
  readonly deliveries: WebhookDelivery[];
  setUrl(url: string | undefined): void;
  emit(event: GhlEvent): void;
  idle(): Promise<void>;
  close(): Promise<void>;
}

export function createWebhookEmitter(options: WebhookEmitterOptions): WebhookEmitter {
  const deliveries: WebhookDelivery[] = [];
  const chains = new Map<string, Promise<void>>();
  const idleWaiters: (() => void)[] = [];
  const shutdown = new AbortController();
  const agent = new Agent({ connections: 16 });
  const timeoutMs = options.timeoutMs ?? 10_000;
  let url = options.url;
  let pending = 0;

  function settle(): void {
    pending -= 1;
    if (pending === 0) for (const resolve of idleWaiters.splice(0)) resolve();
  }

  async function attempt(target: string, delivery: WebhookDelivery, body: Buffer): Promise<boolean> {
    delivery.attempts += 1;
    try {
      const response = await request(target, {
        method: 'POST',
        body,
        headers: {
          'content-type': 'application/json',
          'user-agent': 'ghl-sandbox-webhooks',
          ...options.signer.headers(body, options.signatures),
        },
        dispatcher: agent,
        signal: AbortSignal.any([shutdown.signal, AbortSignal.timeout(timeoutMs)]),
      });
      await response.body.dump();
      delivery.status = response.statusCode;
      return response.statusCode >= 200 && response.statusCode < 300;
    } catch {
      delivery.status = 'error';
      return false;
    }
  }

  async function deliver(target: string, delivery: WebhookDelivery, body: Buffer): Promise<void> {
    for (let n = 1; n <= Math.max(1, options.retry.attempts); n += 1) {
      if (shutdown.signal.aborted) return;
      if (await attempt(target, delivery, body)) return;
      if (n < options.retry.attempts) {
        try {
          await sleep(options.retry.baseDelayMs * 2 ** (n - 1), undefined, { signal: shutdown.signal });
        } catch {
          return;
        }
      }
    }
  }

  return {
    deliveries,
    setUrl(next) {
      url = next;
    },
    emit(event) {
      const target = url;
      if (target === undefined || shutdown.signal.aborted) return;
      const webhookId = randomUUID();
      const text = JSON.stringify({
        ...event.payload,
        appId: options.appId,
        versionId: options.versionId,
        timestamp: new Date().toISOString(),
        webhookId,
      });
      const delivery: WebhookDelivery = { webhookId, type: event.type, body: text, status: 0, attempts: 0 };
      deliveries.push(delivery);
      pending += 1;
      const body = Buffer.from(text, 'utf8');
      const previous = chains.get(event.orderingKey) ?? Promise.resolve();
      const next = previous.then(() => deliver(target, delivery, body)).finally(settle);
      chains.set(event.orderingKey, next);
      void next.finally(() => {
        if (chains.get(event.orderingKey) === next) chains.delete(event.orderingKey);
      });
    },
    idle() {
      if (pending === 0) return Promise.resolve();
      return new Promise((resolve) => idleWaiters.push(resolve));
    },
    async close() {
      shutdown.abort();
      await Promise.allSettled([...chains.values()]);
      await agent.destroy();
    },
  };
}
