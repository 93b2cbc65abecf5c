/**
 * Webhook delivery for the simulators: asynchronous (the API never waits for it), in order per
 * ordering key, retried on non-2xx or transport failure with the same bytes and doubling delays, and
 * `idle()` resolves once nothing is pending.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, request } from 'undici';

/** What a simulator records of each delivery; the queue updates status and attempts. */
export interface DeliveryRecord {
  /** The exact bytes sent, as UTF-8 text. */
  body: string;
  /** Last HTTP status; 0 while the first attempt is pending; 'error' after a transport failure. */
  status: number | 'error';
  attempts: number;
}

export interface DeliveryQueueOptions {
  retry: { attempts: number; baseDelayMs: number };
  /** Per-attempt deadline. */
  timeoutMs: number;
}

export interface DeliveryQueue {
  readonly closed: boolean;
  /** Sends `record.body` to `url`, after earlier deliveries with the same ordering key (if any). */
  send(url: string, record: DeliveryRecord, headers: Record<string, string>, orderingKey?: string): void;
  idle(): Promise<void>;
  close(): Promise<void>;
}

export function createDeliveryQueue(options: DeliveryQueueOptions): DeliveryQueue {
  const chains = new Map<string, Promise<void>>();
  const running = new Set<Promise<void>>();
  const idleWaiters: (() => void)[] = [];
  const shutdown = new AbortController();
  const agent = new Agent({ connections: 16 });
  const attempts = Math.max(1, options.retry.attempts);

  async function attempt(url: string, record: DeliveryRecord, headers: Record<string, string>, body: Buffer): Promise<boolean> {
    record.attempts += 1;
    try {
      const response = await request(url, {
        method: 'POST',
        body,
        headers,
        dispatcher: agent,
        signal: AbortSignal.any([shutdown.signal, AbortSignal.timeout(options.timeoutMs)]),
      });
      await response.body.dump();
      record.status = response.statusCode;
      return response.statusCode >= 200 && response.statusCode < 300;
    } catch {
      record.status = 'error';
      return false;
    }
  }

  async function deliver(url: string, record: DeliveryRecord, headers: Record<string, string>): Promise<void> {
    const body = Buffer.from(record.body, 'utf8');
    for (let n = 1; n <= attempts; n += 1) {
      if (shutdown.signal.aborted) return;
      if (await attempt(url, record, headers, body)) return;
      if (n === attempts) return;
      try {
        await sleep(options.retry.baseDelayMs * 2 ** (n - 1), undefined, { signal: shutdown.signal });
      } catch {
        return;
      }
    }
  }

  return {
    get closed() {
      return shutdown.signal.aborted;
    },
    send(url, record, headers, orderingKey) {
      if (shutdown.signal.aborted) return;
      const previous = (orderingKey === undefined ? undefined : chains.get(orderingKey)) ?? Promise.resolve();
      const next: Promise<void> = previous
        .then(() => deliver(url, record, headers))
        .finally(() => {
          running.delete(next);
          if (orderingKey !== undefined && chains.get(orderingKey) === next) chains.delete(orderingKey);
          if (running.size === 0) for (const resolve of idleWaiters.splice(0)) resolve();
        });
      running.add(next);
      if (orderingKey !== undefined) chains.set(orderingKey, next);
    },
    idle() {
      if (running.size === 0) return Promise.resolve();
      return new Promise((resolve) => idleWaiters.push(resolve));
    },
    async close() {
      shutdown.abort();
      await Promise.allSettled([...running]);
      await agent.destroy();
    },
  };
}
