/**
 * `ghl-bridge replay [--all | --id ID ... | --queue NAME]`: re-runs dead-lettered jobs as new jobs
 * with fresh attempts (the same logic as POST /admin/dead-letter/replay). Needs only Redis: the
 * workers of a running bridge pick the jobs up. Safe to repeat: every job's effects are idempotent.
 */
import { parseArgs } from 'node:util';
import { Queue } from 'bullmq';
import type { Config } from '../../config/env.js';
import type { Logger } from '../../observability/logger.js';
import { QUEUE_NAMES, type QueueName } from '../../queue/catalog.js';
import { createRedisConnection, queuePrefix } from '../../queue/connections.js';
import { createDeadLetters, type ReplayFilter, type ReplayTarget } from '../../queue/dead-letters.js';
import { redisReadyWithin } from '../redis-policy.js';

export interface CommandIo {
  out(line: string): void;
  err(line: string): void;
}

export const REPLAY_USAGE = 'usage: ghl-bridge replay --all | --id DEAD_LETTER_ID [--id ...] | --queue NAME';
const REDIS_READY_TIMEOUT_MS = 5_000;

const SOURCE_QUEUES: QueueName[] = Object.values(QUEUE_NAMES).filter((name) => name !== QUEUE_NAMES.deadLetter);

/** Returns the process exit code: 0 done (also when nothing matched), 1 Redis unreachable, 2 bad usage. */
export async function runReplay(args: string[], config: Config, logger: Logger, io: CommandIo): Promise<number> {
  let filter: ReplayFilter;
  try {
    filter = parseReplayArgs(args);
  } catch (error) {
    io.err(`ghl-bridge replay: ${error instanceof Error ? error.message : String(error)}`);
    io.err(REPLAY_USAGE);
    return 2;
  }

  const redisUrl = config.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const redis = createRedisConnection(config, 'producer', logger);
  const queues: Queue[] = [];
  try {
    if (!(await redisReadyWithin(redis, REDIS_READY_TIMEOUT_MS))) {
      io.err(`ghl-bridge replay: cannot reach Redis at ${safeRedisUrl(redisUrl)} within ${REDIS_READY_TIMEOUT_MS / 1000} s`);
      return 1;
    }
    const open = (name: QueueName): Queue => {
      const queue = new Queue(name, { connection: redis, prefix: queuePrefix(config.REDIS_PREFIX, name, redis) });
      queue.on('error', (error) => logger.warn({ queue: name, err: { message: error.message } }, 'queue error'));
      queues.push(queue);
      return queue;
    };
    const deadLetters = createDeadLetters(open(QUEUE_NAMES.deadLetter));
    const targets: Record<string, ReplayTarget> = Object.fromEntries(SOURCE_QUEUES.map((name) => [name, open(name)]));
    const result = await deadLetters.replay(filter, targets);

    for (const item of result.replayed) io.out(`replayed ${item.deadLetterId} -> ${item.queue} job ${item.jobId}`);
    for (const id of result.missing) io.err(`no dead letter ${id}`);
    for (const item of result.skipped) io.err(`skipped ${item.id}: ${item.reason}`);
    io.out(result.replayed.length === 0 ? 'nothing to replay' : `replayed ${result.replayed.length} dead letter${result.replayed.length === 1 ? '' : 's'}`);
    return 0;
  } finally {
    for (const queue of queues) await queue.close().catch(() => undefined);
    await redis.quit().catch(() => redis.disconnect());
  }
}

export function parseReplayArgs(args: string[]): ReplayFilter {
  const { values, positionals } = parseArgs({
    args,
    options: { all: { type: 'boolean' }, id: { type: 'string', multiple: true }, queue: { type: 'string' } },
    allowPositionals: true,
    strict: true,
  });
  if (positionals.length > 0) throw new Error(`unexpected argument "${positionals[0]}"`);
  const queue = values.queue;
  if (queue !== undefined && !SOURCE_QUEUES.some((name) => name === queue)) {
    throw new Error(`unknown queue "${queue}" (one of: ${SOURCE_QUEUES.join(', ')})`);
  }
  const ids = values.id ?? [];
  if (!values.all && ids.length === 0 && queue === undefined) throw new Error('say which dead letters to replay');
  return { ...(ids.length > 0 ? { ids } : {}), ...(queue !== undefined ? { queue } : {}), ...(values.all ? { all: true } : {}) };
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
