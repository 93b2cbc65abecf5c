/**
 * `ghl-bridge replay [--all | --id ID ... | --queue NAME]`: re-runs dead-lettered jobs as new jobs
 * with fresh attempts (the same logic as POST /admin/dead-letter/replay). Needs only Redis: the
 * workers of a running bridge pick the jobs up. Safe to repeat: every job's effects are idempotent.
 */
import { parseArgs } from 'node:util';
import type { Config } from '../../config/env.js';
import type { Logger } from '../../observability/logger.js';
import { QUEUE_NAMES, SOURCE_QUEUES, type QueueName } from '../../queue/catalog.js';
import { createDeadLetters, type ReplayFilter, type ReplayTarget } from '../../queue/dead-letters.js';
import { commandRedis, withResources, type CommandIo } from '../wiring/commands.js';
import { openQueue } from '../wiring/queues.js';

export const REPLAY_USAGE = 'usage: ghl-bridge replay --all | --id DEAD_LETTER_ID [--id ...] | --queue NAME';


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

  return withResources(config, logger, async (resources) => {
    const redis = await commandRedis(resources, config, 'replay', io);
    if (!redis) return 1;
    const open = (name: QueueName) => openQueue(resources, name, redis, config.REDIS_PREFIX, logger);
    const deadLetters = createDeadLetters(open(QUEUE_NAMES.deadLetter));
    const targets: Record<string, ReplayTarget> = Object.fromEntries(SOURCE_QUEUES.map((name) => [name, open(name)]));
    const result = await deadLetters.replay(filter, targets);

    for (const item of result.replayed) io.out(`replayed ${item.deadLetterId} -> ${item.queue} job ${item.jobId}`);
    for (const id of result.missing) io.err(`no dead letter ${id}`);
    for (const item of result.skipped) io.err(`skipped ${item.id}: ${item.reason}`);
    io.out(result.replayed.length === 0 ? 'nothing to replay' : `replayed ${result.replayed.length} dead letter${result.replayed.length === 1 ? '' : 's'}`);
    return 0;
  });
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

