/**
 * What the one-shot commands share: their resources close when the command ends, and a Redis that
 * does not answer within a few seconds is reported as one line instead of waited for.
 */
import type { Config } from '../../config/env.js';
import type { Logger } from '../../observability/logger.js';
import type { ConnectionRole } from '../../queue/connections.js';
import type { RedisClient } from '../../state/keys.js';
import { redisReadyWithin } from '../redis-policy.js';
import { createResources, type Resources } from './resources.js';

export interface CommandIo {
  out(line: string): void;
  err(line: string): void;
}

const REDIS_READY_TIMEOUT_MS = 5_000;

/** Runs `work` with its own resources, closed afterwards whatever happens. */
export async function withResources<T>(config: Config, logger: Logger, work: (resources: Resources) => Promise<T>): Promise<T> {
  const resources = createResources(config, logger);
  try {
    return await work(resources);
  } finally {
    await resources.closeAll();
  }
}

/** A ready Redis connection, or undefined after telling the user it could not be reached. */
export async function commandRedis(resources: Resources, config: Config, command: string, io: CommandIo, role: ConnectionRole = 'producer'): Promise<RedisClient | undefined> {
  const redis = resources.redis(role);
  if (await redisReadyWithin(redis, REDIS_READY_TIMEOUT_MS)) return redis;
  io.err(`ghl-bridge ${command}: cannot reach ${redisTarget(config)} within ${REDIS_READY_TIMEOUT_MS / 1000} s`);
  return undefined;
}

/** The URL without its password, for an error line. */
export function safeRedisUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(invalid REDIS_URL)';
  }
}

/**
 * The Redis this process uses, for a message: `the Redis Cluster at <seed nodes>` when
 * REDIS_CLUSTER_NODES is set (REDIS_URL is then ignored), else `Redis at <url without password>`.
 */
export function redisTarget(config: Pick<Config, 'REDIS_URL' | 'REDIS_CLUSTER_NODES'>): string {
  return redisVariable(config) === 'REDIS_URL' ? `Redis at ${redisAddress(config)}` : `the Redis Cluster at ${redisAddress(config)}`;
}

/** The URL without its password, or the cluster's seed nodes `host:port,…`. */
export function redisAddress(config: Pick<Config, 'REDIS_URL' | 'REDIS_CLUSTER_NODES'>): string {
  const nodes = config.REDIS_CLUSTER_NODES ?? [];
  if (nodes.length > 0) return nodes.map((node) => (node.host.includes(':') ? `[${node.host}]:${node.port}` : `${node.host}:${node.port}`)).join(',');
  return safeRedisUrl(config.REDIS_URL ?? 'redis://127.0.0.1:6379');
}

/** The variable that names the Redis in use, for a fix hint. */
export function redisVariable(config: Pick<Config, 'REDIS_CLUSTER_NODES'>): 'REDIS_URL' | 'REDIS_CLUSTER_NODES' {
  return config.REDIS_CLUSTER_NODES && config.REDIS_CLUSTER_NODES.length > 0 ? 'REDIS_CLUSTER_NODES' : 'REDIS_URL';
}
