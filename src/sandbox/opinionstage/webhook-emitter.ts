/**
 * Asynchronous webhook delivery: `emit` returns at once, each delivery is retried on non-2xx or
 * transport failure with the same bytes and exponential backoff, and `idle()` waits for all of them.
 * The shared secret travels in `x-webhook-token` (the bridge's receiver contract, NOTES §B9 item 1).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, request } from 'undici';

export interface WebhookDelivery {
  responseId: string;
  itemId: string;
  /** The exact bytes sent, as UTF-8 text. */
  body: string;
  /** Last HTTP status; 0 while the first attempt is pending; 'error' after a transport failure. */
  status: number | 'error';
  attempts: number;
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
  const inFlight = new Set<Promise<void>>();
  const idleWaiters: (() => void)[] = [];
  const shutdown = new AbortController();
  const agent = new Agent({ connections: 16 });
  const timeoutMs = options.timeoutMs ?? 5_000;
  const attempts = Math.max(1, options.retry.attempts);
  let url = options.url;
  let token = options.token;

  async function attempt(target: string, headers: Record<string, string>, delivery: WebhookDelivery, body: Buffer): Promise<boolean> {
    delivery.attempts += 1;
    try {
      const response = await request(target, {
        method: 'POST',
        body,
        headers,
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

  async function deliver(target: string, headers: Record<string, string>, delivery: WebhookDelivery, body: Buffer): Promise<void> {
    for (let n = 1; n <= attempts; n += 1) {
      if (shutdown.signal.aborted) return;
      if (await attempt(target, headers, delivery, body)) return;
      if (n === attempts) return;
      try {
        await sleep(options.retry.baseDelayMs * 2 ** (n - 1), undefined, { signal: shutdown.signal });
      } catch {
        return;
      }
    }
  }

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
      if (target === undefined || shutdown.signal.aborted) return;
      const text = JSON.stringify(event.payload);
      const delivery: WebhookDelivery = { responseId: event.responseId, itemId: event.itemId, body: text, status: 0, attempts: 0 };
      deliveries.push(delivery);
      const headers: Record<string, string> = {
        'content-type': 'application/json',
        'user-agent': 'opinionstage-sandbox-webhooks',
        ...(token === undefined ? {} : { 'x-webhook-token': token }),
      };
      const running = deliver(target, headers, delivery, Buffer.from(text, 'utf8')).finally(() => {
        inFlight.delete(running);
        if (inFlight.size === 0) for (const resolve of idleWaiters.splice(0)) resolve();
      });
      inFlight.add(running);
    },
    idle() {
      if (inFlight.size === 0) return Promise.resolve();
      return new Promise((resolve) => idleWaiters.push(resolve));
    },
    async close() {
      shutdown.abort();
      await Promise.allSettled([...inFlight]);
      await agent.destroy();
    },
  };
}
