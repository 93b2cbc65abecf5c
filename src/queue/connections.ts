/**
 * Redis connections. Producers (the web process) fail fast so a Redis outage becomes a quick 429,
 * never a hung request; workers wait and reconnect forever, as BullMQ requires.
 *
 * With `REDIS_CLUSTER_NODES` every connection is an ioredis Cluster client on those seed nodes, with
 * the same per-role behaviour; `REDIS_URL` is then ignored.
 */
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import type { RedisNode } from '../config/env.js';
import type { Logger } from '../observability/logger.js';
import type { RedisClient } from '../state/keys.js';

export type ConnectionRole = 'producer' | 'worker' | 'state';

/** Where Redis is: one server (`url`) or the seed nodes of a cluster (which win when set). */
export interface RedisTarget {
  REDIS_URL?: string | undefined;
  REDIS_CLUSTER_NODES?: readonly RedisNode[] | undefined;
}

const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

/** Reconnect quickly at first, then every 2 s; never give up (Redis restarts must heal alone). */
const reconnectDelay = (times: number): number => Math.min(50 * 2 ** times, 2_000);

function roleOptions(role: ConnectionRole): RedisOptions {
  const shared: RedisOptions = { connectionName: `ghl-bridge-${role}`, retryStrategy: reconnectDelay, lazyConnect: false };
  return role === 'worker'
    ? { ...shared, maxRetriesPerRequest: null, enableReadyCheck: true }
    : { ...shared, maxRetriesPerRequest: 1, enableOfflineQueue: false, commandTimeout: 2_000, connectTimeout: 2_000 };
}

/** The one way every process opens Redis: a single server, or a cluster when seed nodes are set. */
export function createRedisConnection(target: RedisTarget | string, role: ConnectionRole, logger: Logger): RedisClient {
  const { REDIS_URL: url, REDIS_CLUSTER_NODES: nodes } = typeof target === 'string' ? { REDIS_URL: target, REDIS_CLUSTER_NODES: undefined } : target;
  const connection: RedisClient = nodes && nodes.length > 0 ? createCluster(nodes, role) : new Redis(url ?? DEFAULT_REDIS_URL, roleOptions(role));
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

function createCluster(nodes: readonly RedisNode[], role: ConnectionRole): Cluster {
  const { enableOfflineQueue, ...redisOptions } = roleOptions(role);
  const options: ClusterOptions = {
    redisOptions,
    clusterRetryStrategy: reconnectDelay,
    // Producers refuse commands while the cluster is unreachable (a quick 429); workers queue them.
    enableOfflineQueue: enableOfflineQueue ?? true,
    // No cluster ready check. While any master is down every node reports cluster_state:fail, and
    // ioredis (5.11) Cluster.connect() then reconnects without ever settling the promise it returned.
    // BullMQ awaits that promise when it renews a worker's blocking connection (after a BZPOPMIN
    // outlives its block time, as it does through CLUSTERDOWN), so the worker would never fetch
    // another job, even on a master that stayed up, and its close() would wait forever. Commands
    // sent while the cluster is down are retried (retryDelayOnClusterDown) and then fail, which
    // BullMQ and the producers already handle.
    enableReadyCheck: false,
    // A master that died is retried until the cluster or the restarted node serves its slots again.
    retryDelayOnClusterDown: 200,
    retryDelayOnFailover: 200,
    retryDelayOnTryAgain: 200,
    slotsRefreshTimeout: 2_000,
    lazyConnect: false,
  };
  return new Cluster(
    nodes.map((node) => ({ host: node.host, port: node.port })),
    options,
  );
}

/** How long a graceful QUIT may take before the connection is dropped: a cluster node that is gone never answers it. */
const QUIT_DEADLINE_MS = 2_000;

/** Closes a connection: QUIT (replies still due arrive first) within a deadline, then drops it whatever happened. */
export async function closeRedis(connection: RedisClient, deadlineMs = QUIT_DEADLINE_MS): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([connection.quit().catch(() => undefined), new Promise((resolve) => (timer = setTimeout(resolve, deadlineMs)))]);
  } finally {
    clearTimeout(timer);
    connection.disconnect();
  }
}

/**
 * BullMQ's key prefix for one queue. Every BullMQ script touches several keys of its queue, so on a
 * cluster the prefix is a hash tag per queue, as BullMQ requires there: `{<prefix>:<queue>}`
 * puts each queue in its own slot, spread over the masters. A single Redis keeps `<prefix>`.
 */
export function queuePrefix(prefix: string, queueName: string, connection: RedisClient): string {
  return connection.isCluster ? `{${prefix}:${queueName}}` : prefix;
}
