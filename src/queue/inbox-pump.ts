/**
 * The inbox pump: turns a queue's inbox entries (src/queue/inbox.ts) into BullMQ jobs. Runs in the
 * worker processes (and in `all` mode); several may run at once.
 *
 * Pumps read the inbox through one consumer group, each as its own consumer, with a blocking
 * XREADGROUP on a connection of their own. Each batch is moved in ONE transaction: BullMQ's add for
 * every entry (under the entry's job id, without BullMQ's deduplication: the mark already exists),
 * then a small script that acknowledges and deletes each entry whose job now exists. So a crash
 * can neither add twice nor drop: either the transaction ran (jobs stored, entries gone) or it did
 * not (entries still pending). The script's check also keeps an entry whose add failed inside the
 * transaction (a server that lost BullMQ's script answers NOSCRIPT there, see
 * src/queue/transaction-scripts.ts), where an unconditional XDEL would drop it. A job id that
 * exists already makes BullMQ's add a no-op.
 *
 * Entries a pump read but never moved (it died, or its process was killed) stay pending in the
 * group; any pump claims them (XAUTOCLAIM) once they have been idle `claimIdleMs`. A pump that
 * fails to move a batch keeps it and retries with a growing pause; Redis restarts are waited out
 * by the connections, which reconnect on their own. A read that Redis answered while the connection
 * dropped leaves its entries pending to the live pump itself, which never sees that answer (ioredis
 * sends the read again after reconnecting, and it finds only newer entries): so after every
 * reconnection or failure a pump first reads its own pending entries, and moves them at once
 * rather than after `claimIdleMs`.
 *
 * Every process start is a new consumer in the group, so consumers are removed once they can hold
 * nothing: a pump that stops removes itself when it has nothing pending, and the pumps' claim pass
 * removes consumers with nothing pending that have not read for `forgetIdleMs` (a killed process's).
 * A consumer holding entries is never removed (that would drop them from the group's pending list);
 * one removed while still alive is simply made again by its next read.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { Job, type JobsOptions, type Queue } from 'bullmq';
import type { Logger } from '../observability/logger.js';
import type { RedisClient } from '../state/keys.js';
import { connectionOf, INBOX_GROUP, inboxKey } from './inbox.js';
import { isMissingScript, reloadScripts } from './transaction-scripts.js';

export interface InboxPumpOptions {
  queue: Queue;
  /** Its own connection (worker role), for the blocking reads. */
  reader: RedisClient;
  jobOptions: JobsOptions;
  logger: Logger;
  /** Entries per read and per transaction. */
  batchSize?: number;
  /** How long one blocking read waits for new entries. */
  blockMs?: number;
  /** Entries pending this long (their pump died, or is stuck) are claimed by another pump. */
  claimIdleMs?: number;
  /** Consumers with nothing pending that have not read for this long are removed (default: 10 × claimIdleMs). */
  forgetIdleMs?: number;
}

export interface InboxPump {
  /** Stops: a blocking read is cut off at once; a batch being moved finishes first, within `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

interface Entry {
  /** The stream entry's id. */
  entryId: string;
  jobId: string;
  name: string;
  data: string;
}

const SETTLE_SCRIPT = `
local settled = 0
for i = 2, #KEYS do
  if redis.call('EXISTS', KEYS[i]) == 1 then
    redis.call('XACK', KEYS[1], ARGV[1], ARGV[i])
    redis.call('XDEL', KEYS[1], ARGV[i])
    settled = settled + 1
  end
end
return settled
`;

/** From the start, so entries appended before any pump ran are read too. */
const CREATE_GROUP_SCRIPT = `
local ok, failure = pcall(redis.call, 'XGROUP', 'CREATE', KEYS[1], ARGV[1], '0', 'MKSTREAM')
if ok then return 1 end
local message = type(failure) == 'table' and failure.err or tostring(failure)
if string.find(message, 'BUSYGROUP', 1, true) then return 0 end
return redis.error_reply(message)
`;

/** Removes the group's consumers (ARGV[2] excepted) that hold nothing and have not read for ARGV[3] ms. */
const FORGET_IDLE_SCRIPT = `
local removed = 0
for _, consumer in ipairs(redis.call('XINFO', 'CONSUMERS', KEYS[1], ARGV[1])) do
  local info = {}
  for i = 1, #consumer, 2 do info[consumer[i]] = consumer[i + 1] end
  if info['name'] ~= ARGV[2] and tonumber(info['pending']) == 0 and tonumber(info['idle']) > tonumber(ARGV[3]) then
    redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], info['name'])
    removed = removed + 1
  end
end
return removed
`;

/** Removes consumer ARGV[2] unless it holds entries. */
const LEAVE_SCRIPT = `
if #redis.call('XPENDING', KEYS[1], ARGV[1], '-', '+', 1, ARGV[2]) == 0 then
  return redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], ARGV[2])
end
return -1
`;

const MAX_PAUSE_MS = 2_000;
/** How long a stopping pump tries to leave its group before leaving that to the claim pass. */
const LEAVE_DEADLINE_MS = 1_000;

/** What one pump works with. */
interface PumpContext {
  queue: Queue;
  reader: RedisClient;
  jobOptions: JobsOptions;
  logger: Logger;
  key: string;
  consumer: string;
  batchSize: number;
  blockMs: number;
  claimIdleMs: number;
  forgetIdleMs: number;
}

/** A pump's settings with their defaults, and its own consumer name (new at every start). */
function pumpContext(options: InboxPumpOptions): PumpContext {
  const claimIdleMs = options.claimIdleMs ?? 30_000;
  return {
    ...options,
    key: inboxKey(options.queue),
    consumer: `${hostname()}-${process.pid}-${randomBytes(4).toString('hex')}`,
    batchSize: options.batchSize ?? 100,
    blockMs: options.blockMs ?? 1_000,
    claimIdleMs,
    forgetIdleMs: options.forgetIdleMs ?? 10 * claimIdleMs,
  };
}

export function startInboxPump(options: InboxPumpOptions): InboxPump {
  const context = pumpContext(options);
  const { reader, logger, queue } = context;
  const claims = { cursor: '0-0', nextAt: 0 };
  let stopping = false;
  /** A blocking read is in flight: stopping ends it by closing the reader. */
  let reading = false;
  let wake: (() => void) | undefined;
  let lastError = '';
  /** Where the next read of this pump's own pending entries starts; undefined when none are due. */
  const own: { from: string | undefined } = { from: '0-0' };
  const readOwnAgain = () => {
    own.from = '0-0';
  };
  // A single Redis says `ready` after every reconnection; a cluster client says `+node` for each node connection it makes.
  reader.on('ready', readOwnAgain);
  reader.on('+node', readOwnAgain);

  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });

  async function run(): Promise<void> {
    let groupReady = false;
    let failures = 0;
    let held: Entry[] = [];
    while (!stopping) {
      try {
        if (!groupReady) {
          // Creates the group (and the inbox) unless there; a script, so a cluster client routes it by its key.
          await reader.eval(CREATE_GROUP_SCRIPT, 1, context.key, INBOX_GROUP);
          groupReady = true;
        }
        if (held.length === 0) held = await claim(context, claims);
        if (held.length === 0 && own.from !== undefined) held = await readOwnPending(context, own);
        if (held.length === 0) {
          reading = true;
          held = await read(context).finally(() => (reading = false));
        }
        if (held.length > 0) {
          await move(context, held);
          held = [];
        }
        failures = 0;
        if (lastError) logger.info({ queue: queue.name }, 'inbox pump moving again');
        lastError = '';
      } catch (error) {
        if (stopping) break;
        const message = error instanceof Error ? error.message : String(error);
        // The inbox (and its group) can vanish, e.g. a Redis restarted without its data.
        if (message.startsWith('NOGROUP')) groupReady = false;
        if (message !== lastError) logger.warn({ queue: queue.name, held: held.length, err: { message } }, 'inbox pump failed, retrying');
        lastError = message;
        // The failure may have been a read whose answer was lost.
        readOwnAgain();
        await pause(Math.min(MAX_PAUSE_MS, 100 * 2 ** Math.min(failures++, 5)));
      }
    }
  }

  const running = run();
  return {
    async stop(graceMs = 2_000) {
      stopping = true;
      wake?.();
      reader.off('ready', readOwnAgain);
      reader.off('+node', readOwnAgain);
      // Entries a cut-off read had been handed stay pending and are claimed later: nothing is lost.
      if (reading) reader.disconnect();
      let timer: NodeJS.Timeout | undefined;
      const finished = await Promise.race([running.then(() => true), new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), graceMs)))]);
      clearTimeout(timer);
      if (finished) {
        // Housekeeping, bounded: a consumer that could not leave (Redis away) is forgotten by a later claim pass.
        await Promise.race([leave(context).catch(() => undefined), new Promise((resolve) => (timer = setTimeout(resolve, LEAVE_DEADLINE_MS)))]);
        clearTimeout(timer);
        return;
      }
      // A transaction still waiting on a Redis that is away is either run by the server or not at
      // all, and its entries then stay pending.
      reader.disconnect();
      await Promise.race([running, new Promise((resolve) => (timer = setTimeout(resolve, 1_000)))]);
      clearTimeout(timer);
    },
  };
}

/** New entries for this pump, waiting up to `blockMs` for some. */
async function read({ reader, consumer, batchSize, blockMs, key }: PumpContext): Promise<Entry[]> {
  const reply = await reader.call('XREADGROUP', 'GROUP', INBOX_GROUP, consumer, 'COUNT', batchSize, 'BLOCK', blockMs, 'STREAMS', key, '>');
  if (!Array.isArray(reply)) return [];
  const stream: unknown = reply[0];
  return Array.isArray(stream) ? entriesOf(stream[1]) : [];
}

/**
 * This pump's own pending entries after `own.from`, a batch at a time (no blocking: a read with an id
 * answers from the pending list at once). The cursor moves past every id answered, deleted entries
 * (answered without fields) included, and is cleared once a read answers fewer than a batch.
 */
async function readOwnPending({ reader, consumer, batchSize, key }: PumpContext, own: { from: string | undefined }): Promise<Entry[]> {
  const reply = await reader.call('XREADGROUP', 'GROUP', INBOX_GROUP, consumer, 'COUNT', batchSize, 'STREAMS', key, own.from ?? '0-0');
  const stream: unknown = Array.isArray(reply) ? reply[0] : undefined;
  const items: unknown = Array.isArray(stream) ? stream[1] : undefined;
  const answered = Array.isArray(items) ? items : [];
  const last: unknown = answered.at(-1);
  own.from = answered.length < batchSize ? undefined : Array.isArray(last) && typeof last[0] === 'string' ? last[0] : undefined;
  return entriesOf(answered);
}

/** Entries pending longer than `claimIdleMs` (a dead pump's), taken over; the whole group is looked over every half of that. */
async function claim({ queue, key, consumer, claimIdleMs, forgetIdleMs, batchSize }: PumpContext, claims: { cursor: string; nextAt: number }): Promise<Entry[]> {
  if (Date.now() < claims.nextAt) return [];
  const client = await connectionOf(queue);
  const reply = await client.call('XAUTOCLAIM', key, INBOX_GROUP, consumer, claimIdleMs, claims.cursor, 'COUNT', batchSize);
  const [cursor, entries] = Array.isArray(reply) ? reply : [];
  claims.cursor = typeof cursor === 'string' ? cursor : '0-0';
  // Back to the start of the group's pending entries: look again later, and forget consumers gone for good.
  if (claims.cursor === '0-0') {
    claims.nextAt = Date.now() + Math.max(200, Math.round(claimIdleMs / 2));
    // Housekeeping only: a server that refuses it (e.g. a managed Redis limiting XINFO) must not stop the pump.
    await client.eval(FORGET_IDLE_SCRIPT, 1, key, INBOX_GROUP, consumer, forgetIdleMs).catch(() => undefined);
  }
  return entriesOf(entries);
}

/** A stopping pump's last word: it leaves the group unless it still holds entries (claimed later by others). */
async function leave({ queue, key, consumer }: PumpContext): Promise<void> {
  const client = await connectionOf(queue);
  await client.eval(LEAVE_SCRIPT, 1, key, INBOX_GROUP, consumer);
}

/** Moves a batch in one transaction: the adds, then the settle script; throws (entries kept) unless every job is stored. */
async function move({ queue, jobOptions, logger, key }: PumpContext, entries: Entry[]): Promise<void> {
  const client = await queue.client;
  const transaction = client.multi();
  if (!canCall(transaction)) throw new Error('the queue connection cannot send commands in a transaction');
  let added = 0;
  const jobKeys: string[] = [];
  for (const entry of entries) {
    const data = dataOf(entry);
    if (data === undefined) {
      logger.error({ queue: queue.name, entryId: entry.entryId, jobId: entry.jobId }, 'inbox entry with unreadable data, dropped');
      // Settled against the inbox key itself, which exists.
      jobKeys.push(key);
      continue;
    }
    jobKeys.push(queue.toKey(entry.jobId));
    added++;
    const job = new Job(queue, entry.name, data.value, { ...jobOptions, jobId: entry.jobId }, entry.jobId);
    // Its outcome is read from the transaction's replies below.
    job.addJob(transaction).catch(() => undefined);
  }
  transaction.call('EVAL', SETTLE_SCRIPT, 1 + entries.length, key, ...jobKeys, INBOX_GROUP, ...entries.map((entry) => entry.entryId));
  const replies = await transaction.exec();
  if (replies === null) throw new Error('the transaction was discarded');
  const missingScript = replies.find(([error]) => isMissingScript(error));
  if (missingScript) {
    await reloadScripts(client).catch(() => undefined);
    throw missingScript[0];
  }
  const failed = replies.slice(0, added).find(([error, reply]) => error !== null || typeof reply !== 'string');
  if (failed) throw failed[0] ?? new Error(`a job was not stored (${String(failed[1])})`);
  const [settleError] = replies[added] ?? [new Error('no reply')];
  if (settleError) throw settleError;
}

/** An entry's job data, or undefined when it has no job id or its data is not JSON (no entry ingest writes). */
function dataOf(entry: Entry): { value: unknown } | undefined {
  if (entry.jobId === '') return undefined;
  try {
    return { value: JSON.parse(entry.data) as unknown };
  } catch {
    return undefined;
  }
}

/** Stream entries as XREADGROUP and XAUTOCLAIM answer them: `[id, [field, value, ...]]`; deleted ones have no fields. */
function entriesOf(reply: unknown): Entry[] {
  if (!Array.isArray(reply)) return [];
  const entries: Entry[] = [];
  for (const item of reply) {
    if (!Array.isArray(item) || typeof item[0] !== 'string' || !Array.isArray(item[1])) continue;
    const fields = item[1] as unknown[];
    const entry: Entry = { entryId: item[0], jobId: '', name: '', data: '' };
    for (let index = 0; index + 1 < fields.length; index += 2) {
      const value = fields[index + 1];
      if (typeof value !== 'string') continue;
      if (fields[index] === 'id') entry.jobId = value;
      else if (fields[index] === 'name') entry.name = value;
      else if (fields[index] === 'data') entry.data = value;
    }
    entries.push(entry);
  }
  return entries;
}

type Transaction = ReturnType<Awaited<Queue['client']>['multi']>;

/** BullMQ types its transactions with the commands it uses itself; the ioredis one under it has them all. */
function canCall(transaction: Transaction): transaction is Transaction & { call(command: string, ...args: (string | number)[]): unknown } {
  return 'call' in transaction && typeof transaction.call === 'function';
}
