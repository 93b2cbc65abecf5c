/**
 * What every wiring part registers its long-lived resources with: each `add` is closed by `closeAll`
 * in reverse order of creation (stop taking requests, let workers finish in-flight jobs, then drop
 * connections). A close that fails is logged and the rest still close.
 */
import type { Config } from '../../config/env.js';
import type { Logger } from '../../observability/logger.js';
import { closeRedis, createRedisConnection, type ConnectionRole } from '../../queue/connections.js';
import type { RedisClient } from '../../state/keys.js';

export interface Resources {
  add(name: string, close: () => Promise<unknown>): void;
  /** A new Redis connection of this role, closed with the rest. */
  redis(role: ConnectionRole): RedisClient;
  closeAll(): Promise<void>;
}

export function redisUrlOf(config: Config): string {
  return config.REDIS_URL ?? 'redis://127.0.0.1:6379';
}

export function createResources(config: Config, logger: Logger): Resources {
  const closers: { name: string; close: () => Promise<unknown> }[] = [];
  const add = (name: string, close: () => Promise<unknown>) => void closers.push({ name, close });
  return {
    add,
    redis: (role) => {
      const redis = createRedisConnection(config, role, logger);
      add(`redis-${role}`, () => closeRedis(redis));
      return redis;
    },
    closeAll: async () => {
      for (const closer of closers.splice(0).reverse()) {
        try {
          const started = performance.now();
          await closer.close();
          logger.debug({ resource: closer.name, ms: Math.round(performance.now() - started) }, 'closed');
        } catch (error) {
          logger.warn({ resource: closer.name, err: { message: error instanceof Error ? error.message : String(error) } }, 'close failed');
        }
      }
    },
  };
}
