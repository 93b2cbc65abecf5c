/**
 * Redis connections. Producers (the web process) fail fast so a Redis outage becomes a quick 429,
 * never a hung request; workers wait and reconnect forever, as BullMQ requires.
 */
import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from '../observability/logger.js';

export type ConnectionRole = 'producer' | 'worker' | 'state';

export function createRedisConnection(url: string, role: ConnectionRole, logger: Logger): Redis {
  const shared: RedisOptions = {
    connectionName: `ghl-bridge-${role}`,
    // Reconnect quickly at first, then every 2 s; never give up (Redis restarts must heal alone).
    retryStrategy: (times) => Math.min(50 * 2 ** times, 2_000),
    lazyConnect: false,
  };
  const options: RedisOptions =
    role === 'worker'
      ? { ...shared, maxRetriesPerRequest: null, enableReadyCheck: true }
      : { ...shared, maxRetriesPerRequest: 1, enableOfflineQueue: false, commandTimeout: 2_000, connectTimeout: 2_000 };
  const connection = new Redis(url, options);
  let lastError = '';
  connection.on('error', (error: Error) => {
    // ioredis repeats the same error on every reconnect attempt; log each distinct one once.
    if (error.message === lastError) return;
    lastError = error.message;
    logger.warn({ role, err: { name: error.name, message: error.message } }, 'redis connection error');
  });
  connection.on('ready', () => {
    if (lastError) logger.info({ role }, 'redis connection restored');
    lastError = '';
  });
  return connection;
}
