/**
 * What every wiring part registers its long-lived resources with: each `add` is closed by `closeAll`
 * in reverse order of creation (stop taking requests, let workers finish in-flight jobs, then drop
 * connections). A close that fails is logged and the rest still close.
 *
 * `closeAll(budgetMs)` keeps to one deadline: each close is told the time left and is left behind
 * when it runs past it (a flush to a Redis that is away would otherwise hold the whole shutdown
 * until the process is killed with exit code 1). What is left behind is only local: accepted work
 * stays in Redis and is taken up by the next process.
 */
import type { Config } from '../../config/env.js';
import type { Logger } from '../../observability/logger.js';
import { closeRedis, createRedisConnection, type ConnectionRole } from '../../queue/connections.js';
import type { RedisClient } from '../../state/keys.js';

/** `remainingMs`: the time left before the shutdown deadline (Infinity without one). */
export type Closer = (remainingMs: number) => Promise<unknown>;

export interface Resources {
  add(name: string, close: Closer): void;
  /** A new Redis connection of this role, closed with the rest. */
  redis(role: ConnectionRole): RedisClient;
  /** Closes everything, all of it within `budgetMs` when given. */
  closeAll(budgetMs?: number): Promise<void>;
}

export function redisUrlOf(config: Config): string {
  return config.REDIS_URL ?? 'redis://127.0.0.1:6379';
}

export function createResources(config: Config, logger: Logger): Resources {
  const closers: { name: string; close: Closer }[] = [];
  const add = (name: string, close: Closer) => void closers.push({ name, close });
  return {
    add,
    redis: (role) => {
      const redis = createRedisConnection(config, role, logger);
      add(`redis-${role}`, () => closeRedis(redis));
      return redis;
    },
    closeAll: async (budgetMs = Number.POSITIVE_INFINITY) => {
      const deadline = performance.now() + budgetMs;
      for (const closer of closers.splice(0).reverse()) {
        const started = performance.now();
        const remainingMs = Math.max(0, deadline - started);
        try {
          const closed = await settlesWithin(closer.close(remainingMs), remainingMs);
          if (closed) logger.debug({ resource: closer.name, ms: Math.round(performance.now() - started) }, 'closed');
          else logger.warn({ resource: closer.name, ms: Math.round(remainingMs) }, 'close ran past the shutdown deadline, left behind');
        } catch (error) {
          logger.warn({ resource: closer.name, err: { message: error instanceof Error ? error.message : String(error) } }, 'close failed');
        }
      }
    },
  };
}

const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * True when `work` settles within `ms` (its rejection passed on), false when the time runs out
 * first; the race keeps a later rejection of work left behind handled.
 */
async function settlesWithin(work: Promise<unknown>, ms: number): Promise<boolean> {
  const settled = work.then(() => true);
  // Longer than a timer can hold (about 24.8 days) is as good as no deadline.
  if (ms > MAX_TIMER_MS) return settled;
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([settled, new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}
