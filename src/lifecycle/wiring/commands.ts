/**
 * What the one-shot commands share: their resources close when the command ends, and a Redis that
 * does not answer within a few seconds is reported as one line instead of waited for.
 */
import type { Redis } from 'ioredis';
import type { Config } from '../../config/env.js';
import type { Logger } from '../../observability/logger.js';
import type { ConnectionRole } from '../../queue/connections.js';
import { redisReadyWithin } from '../redis-policy.js';
import { createResources, redisUrlOf, type Resources } from './resources.js';

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
export async function commandRedis(resources: Resources, config: Config, command: string, io: CommandIo, role: ConnectionRole = 'producer'): Promise<Redis | undefined> {
  const redis = resources.redis(role);
  if (await redisReadyWithin(redis, REDIS_READY_TIMEOUT_MS)) return redis;
  io.err(`ghl-bridge ${command}: cannot reach Redis at ${safeRedisUrl(redisUrlOf(config))} within ${REDIS_READY_TIMEOUT_MS / 1000} s`);
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
