/**
 * Review-event notifications (NOTES A6): one event per POST, wrapped in `{ events: [...] }`,
 * content-type application/json, no signature (the receiver's own token travels in its URL).
 * Delivery is asynchronous and never blocks the API; events about one review go out in order; a
 * non-2xx answer or transport failure is retried a few times with short, doubling delays, same bytes.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, request } from 'undici';

export const REVIEW_EVENT_NAMES = ['service-review-created', 'service-review-updated', 'service-review-deleted'] as const;
export type ReviewEventName = (typeof REVIEW_EVENT_NAMES)[number];

export interface ReviewEvent {
  eventName: ReviewEventName;
  /** Deliveries about one review keep their order. */
  reviewId: string;
  eventData: Record<string, unknown>;
}

export interface WebhookDelivery {
  eventName: ReviewEventName;
  /** The exact bytes sent, as UTF-8 text. */
  body: string;
  /** Last HTTP status; 0 while the first attempt is pending; 'error' after a transport failure. */
  status: number | 'error';
  attempts: number;
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
        headers: { 'content-type': 'application/json', 'user-agent': 'trustpilot-sandbox-webhooks' },
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
    const attempts = Math.max(1, options.retry.attempts);
    for (let n = 1; n <= attempts; n += 1) {
      if (shutdown.signal.aborted) return;
      if (await attempt(target, delivery, body)) return;
      if (n < attempts) {
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
      // Serialised now: the payload shows the review as it was when the event happened.
      const text = JSON.stringify({ events: [{ eventName: event.eventName, version: '1', eventData: event.eventData }] });
      const delivery: WebhookDelivery = { eventName: event.eventName, body: text, status: 0, attempts: 0 };
      deliveries.push(delivery);
      pending += 1;
      const body = Buffer.from(text, 'utf8');
      const previous = chains.get(event.reviewId) ?? Promise.resolve();
      const next = previous.then(() => deliver(target, delivery, body)).finally(settle);
      chains.set(event.reviewId, next);
      void next.finally(() => {
        if (chains.get(event.reviewId) === next) chains.delete(event.reviewId);
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
