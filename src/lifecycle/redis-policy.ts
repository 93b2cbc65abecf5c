/**
 * Start-up check of the Redis the queues live in. BullMQ requires `maxmemory-policy noeviction`: any
 * other policy lets Redis drop job keys (or their locks) under memory pressure, and an accepted
 * webhook would be lost without a trace. AOF settings only warn: durability across a Redis restart is
 * the operator's choice (docker-compose.yml and scripts/lib/ensure-redis.mjs turn AOF on). Managed Redis often disables CONFIG: then nothing can
 * be checked, which is a warning, not a refusal.
 */
import { z } from 'zod';
import { BridgeError } from '../observability/errors.js';

export type RedisPolicyResult = { ok: true; warnings: string[] } | { ok: false; problem: string };

/** What the check needs of an ioredis client (Redis or Cluster). */
export interface RedisCommander {
  call(command: string, ...args: string[]): Promise<unknown>;
}

/** What waiting for readiness needs of an ioredis client (Redis or Cluster). */
export interface ReadyWatch {
  readonly status: string;
  once(event: 'ready', listener: () => void): unknown;
  off(event: 'ready', listener: () => void): unknown;
}

/** A cluster client: the policy is checked on each of its masters, since each holds part of the keys. */
interface ClusterMasters {
  readonly isCluster: boolean;
  nodes?(role: 'master'): RedisCommander[];
}

export class RedisPolicyError extends BridgeError<'REDIS_EVICTION_POLICY'> {
  constructor(problem: string) {
    super('REDIS_EVICTION_POLICY', problem);
  }
}

const ConfigReplySchema = z.array(z.string());
/** Replies of a Redis that refuses CONFIG: ACL (NOPERM), renamed or disabled command (managed services). */
const CONFIG_REFUSED = /NOPERM|unknown command|not allowed|disabled|unsupported|no permissions/i;

export async function checkRedisPolicy(redis: RedisCommander): Promise<RedisPolicyResult> {
  const policy = await configGet(redis, 'maxmemory-policy');
  if (policy.kind === 'refused') {
    return { ok: true, warnings: [`cannot read Redis settings (CONFIG GET refused: ${policy.reason}); make sure maxmemory-policy is noeviction and AOF is on`] };
  }
  if (policy.kind === 'value' && policy.value !== 'noeviction') {
    return {
      ok: false,
      problem:
        `Redis maxmemory-policy is "${policy.value}", which can evict queued jobs; BullMQ needs "noeviction": ` +
        'run `redis-cli CONFIG SET maxmemory-policy noeviction` (and `CONFIG REWRITE`), or start redis-server with `--maxmemory-policy noeviction` as docker-compose.yml does',
    };
  }
  const warnings: string[] = [];
  if (policy.kind === 'missing') warnings.push('Redis did not report maxmemory-policy; make sure it is noeviction');
  const appendonly = await configGet(redis, 'appendonly');
  if (appendonly.kind === 'value' && appendonly.value !== 'yes') {
    warnings.push('Redis AOF is off (appendonly no): a Redis restart loses jobs written since the last snapshot; run redis-server with `--appendonly yes --appendfsync everysec`');
  } else if (appendonly.kind === 'value') {
    const fsync = await configGet(redis, 'appendfsync');
    if (fsync.kind === 'value' && fsync.value === 'no') {
      warnings.push('Redis appendfsync is "no": the OS decides when the AOF reaches disk, so a power loss can lose more than a second of jobs; use `--appendfsync everysec`');
    }
  }
  return { ok: true, warnings };
}

/** For start-up: resolves with the warnings, or throws RedisPolicyError with the one-line problem. */
export async function ensureRedisPolicy(redis: RedisCommander): Promise<string[]> {
  const result = await checkRedisPolicy(redis);
  if (!result.ok) throw new RedisPolicyError(result.problem);
  return result.warnings;
}

type ConfigValue = { kind: 'value'; value: string } | { kind: 'missing' } | { kind: 'refused'; reason: string };

async function configGet(redis: RedisCommander, name: string): Promise<ConfigValue> {
  let reply: unknown;
  try {
    reply = await redis.call('CONFIG', 'GET', name);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (CONFIG_REFUSED.test(message)) return { kind: 'refused', reason: message.split('\n')[0]?.slice(0, 120) ?? 'refused' };
    throw error;
  }
  const parsed = ConfigReplySchema.safeParse(reply);
  if (!parsed.success) return { kind: 'missing' };
  // CONFIG GET answers [name, value] pairs; match the name rather than trust the position.
  for (let i = 0; i + 1 < parsed.data.length; i += 2) {
    if (parsed.data[i]?.toLowerCase() === name) return { kind: 'value', value: parsed.data[i + 1]?.toLowerCase() ?? '' };
  }
  return { kind: 'missing' };
}

const READY_TIMEOUT_MS = 10_000;

/**
 * Start-up gate: waits for Redis (bounded), then refuses an eviction policy that can drop jobs and
 * logs the durability warnings. Throws RedisPolicyError (or a plain "not reachable" error) to stop.
 */
/** Whether a connection becomes ready within `timeoutMs` (never throws). */
export async function redisReadyWithin(redis: ReadyWatch, timeoutMs: number): Promise<boolean> {
  if (redis.status === 'ready') return true;
  let timer: NodeJS.Timeout | undefined;
  let onReady: (() => void) | undefined;
  try {
    return await new Promise<boolean>((resolve) => {
      onReady = () => resolve(true);
      redis.once('ready', onReady);
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
  } finally {
    clearTimeout(timer);
    if (onReady) redis.off('ready', onReady);
  }
}

/** Waits (bounded) until a connection is ready; a Redis that never answers stops start-up clearly. */
export async function waitForRedis(redis: ReadyWatch): Promise<void> {
  if (!(await redisReadyWithin(redis, READY_TIMEOUT_MS))) {
    throw new Error(`Redis is not reachable after ${READY_TIMEOUT_MS / 1000} s: check REDIS_URL (or REDIS_CLUSTER_NODES) and that redis-server runs`);
  }
}

export async function refuseUnsafeRedis(redis: RedisCommander & ReadyWatch & ClusterMasters, logger: { warn(object: object, message: string): void }): Promise<void> {
  await waitForRedis(redis);
  const policy = await checkRedisPolicyEverywhere(redis);
  if (!policy.ok) throw new RedisPolicyError(policy.problem);
  for (const warning of policy.warnings) logger.warn({ warning }, 'redis durability warning');
}

/**
 * `checkRedisPolicy` for a single Redis, or for every master of a cluster (CONFIG GET answers for one
 * node only, and any master that evicts can drop the jobs in its slots). Problems and warnings name the node.
 */
export async function checkRedisPolicyEverywhere(redis: RedisCommander & ClusterMasters): Promise<RedisPolicyResult> {
  const masters = redis.isCluster && redis.nodes ? redis.nodes('master') : [];
  if (masters.length === 0) return checkRedisPolicy(redis);
  const warnings: string[] = [];
  for (const master of masters) {
    const name = nodeName(master);
    const result = await checkRedisPolicy(master);
    if (!result.ok) return { ok: false, problem: `cluster node ${name}: ${result.problem}` };
    warnings.push(...result.warnings.map((warning) => `cluster node ${name}: ${warning}`));
  }
  return { ok: true, warnings };
}

function nodeName(node: RedisCommander): string {
  const options: unknown = 'options' in node ? node.options : undefined;
  const parsed = z.object({ host: z.string(), port: z.number() }).safeParse(options);
  return parsed.success ? `${parsed.data.host}:${parsed.data.port}` : 'unknown';
}
