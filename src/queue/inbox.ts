/**
 * The ingest inbox: a Redis Stream per queue (`<prefix>:<queue>:inbox`) that the web process appends
 * verified deliveries to, and that the pump (src/queue/inbox-pump.ts) turns into BullMQ jobs.
 *
 * Appending is one small script per batch: for each delivery `SET <mark> <jobId> NX PX <ttl>` and,
 * if the mark was new, `XADD` of `{id, name, data}`; a mark that was there already names the job the
 * delivery was first queued as. Both happen in one atomic step, so a delivery is never marked without
 * being in the inbox, nor in the inbox without its mark. The mark is BullMQ's deduplication key
 * (`<prefix>:<queue>:de:<jobId>`), so marks written when ingest added jobs directly still count.
 * The job data arrives in three parts that the script joins, so a GHL event accepted exactly as sent
 * goes to Redis as its verified bytes, never decoded and encoded again (src/http/routes/webhooks-ghl.ts).
 * Each delivery travels as one argument (packDelivery): ioredis turns every string argument into
 * protocol text of its own, and six per delivery were the largest single allocation a webhook made
 * beyond the ingest floor (bench/ANALYSIS.md, note 1j).
 * Every key the script touches starts with the queue's prefix, which on a cluster is the queue's hash
 * tag (src/queue/connections.ts): one slot, valid on a Redis Cluster.
 */
import { createHash } from 'node:crypto';
import type { Queue } from 'bullmq';
import { Cluster, Redis } from 'ioredis';
import { QUEUE_NAMES } from './catalog.js';
import { isMissingScript } from './transaction-scripts.js';

/** The queues ingest writes to, each with an inbox and a pump. */
export const INBOX_QUEUES = [QUEUE_NAMES.ghlWebhooks, QUEUE_NAMES.trustpilotEvents, QUEUE_NAMES.opinionStageResponses] as const;
export type InboxQueue = (typeof INBOX_QUEUES)[number];

export function isInboxQueue(name: string): name is InboxQueue {
  return (INBOX_QUEUES as readonly string[]).includes(name);
}

/** A queue's connection as the ioredis client it is (src/queue/connections.ts opens every one). */
export async function connectionOf(queue: Queue): Promise<Redis | Cluster> {
  const client: unknown = await queue.client;
  if (client instanceof Redis || client instanceof Cluster) return client;
  throw new Error(`queue ${queue.name} is not on an ioredis connection`);
}

/** The consumer group every pump reads the inbox with. */
export const INBOX_GROUP = 'pump';

export function inboxKey(queue: Queue): string {
  return queue.toKey('inbox');
}

/** The redelivery mark of a job: BullMQ's deduplication key for it. */
export function markKey(queue: Queue, jobId: string): string {
  return `${queue.keys.de ?? queue.toKey('de')}:${jobId}`;
}

/** Serialized job data (JSON) as parts joined in order: `head`, then `middle` (text or UTF-8 bytes), then `tail`. */
export type JsonParts = readonly [head: string, middle: string | Buffer, tail: string];

export interface InboxDelivery {
  jobId: string;
  name: string;
  data: JsonParts;
  ttlMs: number;
}

/** Per delivery: `accepted` (appended) or the job id its mark names (a redelivery). */
export type AppendOutcome = { status: 'accepted' } | { status: 'duplicate'; id: string };

/**
 * ARGV[n] is the n-th delivery, packed: `<jobId bytes> <name bytes> <ttl ms>\n<jobId><name><data>`.
 * Lengths rather than separators, so no id, name or data can be misread whatever bytes it holds.
 */
const APPEND_SCRIPT = `
local outcomes = {}
for i = 2, #KEYS do
  local packed = ARGV[i - 1]
  local idBytes, nameBytes, ttl, at = string.match(packed, '^(%d+) (%d+) (%d+)\\n()')
  if not at then return redis.error_reply('ERR malformed inbox delivery') end
  local nameAt = at + tonumber(idBytes)
  local dataAt = nameAt + tonumber(nameBytes)
  local jobId = string.sub(packed, at, nameAt - 1)
  if redis.call('SET', KEYS[i], jobId, 'NX', 'PX', ttl) then
    redis.call('XADD', KEYS[1], '*', 'id', jobId, 'name', string.sub(packed, nameAt, dataAt - 1), 'data', string.sub(packed, dataAt))
    outcomes[i - 1] = 1
  else
    outcomes[i - 1] = redis.call('GET', KEYS[i]) or ''
  end
end
return outcomes
`;
const APPEND_SHA = createHash('sha1').update(APPEND_SCRIPT).digest('hex');

/** What every append to one queue's inbox needs, worked out at its first append. */
interface InboxTarget {
  client: Redis | Cluster;
  inbox: string;
  /** The mark key of a job is this plus its id (markKey). */
  markPrefix: string;
}

const targets = new WeakMap<Queue, Promise<InboxTarget>>();

function targetOf(queue: Queue): Promise<InboxTarget> {
  let target = targets.get(queue);
  if (target === undefined) {
    target = connectionOf(queue).then((client) => ({ client, inbox: inboxKey(queue), markPrefix: markKey(queue, '') }));
    // A queue whose connection could not be resolved is tried again next time.
    target.catch(() => targets.delete(queue));
    targets.set(queue, target);
  }
  return target;
}

/** Appends a batch of one queue's deliveries in one round trip (EVALSHA; EVAL when the server lacks the script). */
export async function appendToInbox(queue: Queue, deliveries: InboxDelivery[]): Promise<AppendOutcome[]> {
  const { client, inbox, markPrefix } = await targetOf(queue);
  const keys = [inbox];
  for (const delivery of deliveries) keys.push(markPrefix + delivery.jobId);
  const args = deliveries.map(packDelivery);
  let replies: unknown;
  try {
    replies = await client.evalsha(APPEND_SHA, keys.length, ...keys, ...args);
  } catch (error) {
    if (!isMissingScript(error)) throw error;
    replies = await client.eval(APPEND_SCRIPT, keys.length, ...keys, ...args);
  }
  if (!Array.isArray(replies) || replies.length !== deliveries.length) throw new Error('the inbox answered an unexpected reply');
  return replies.map((reply: unknown, index) => {
    if (reply === 1) return { status: 'accepted' };
    // An empty mark cannot name a job: name the delivery's own (deterministic) id.
    return { status: 'duplicate', id: typeof reply === 'string' && reply !== '' ? reply : (deliveries[index]?.jobId ?? '') };
  });
}

/** One delivery as the append script reads it (APPEND_SCRIPT): a header of byte lengths, then the id, the name and the data. */
function packDelivery({ jobId, name, data, ttlMs }: InboxDelivery): Buffer {
  const idBytes = Buffer.byteLength(jobId);
  const nameBytes = Buffer.byteLength(name);
  const header = `${idBytes} ${nameBytes} ${Math.round(ttlMs)}\n`;
  const parts = [header, jobId, name, data[0], data[1], data[2]] as const;
  let size = 0;
  for (const part of parts) size += typeof part === 'string' ? Buffer.byteLength(part) : part.length;
  // One buffer (from Node's pool when small), each part written into it in place: no joined strings.
  const packed = Buffer.allocUnsafe(size);
  let at = 0;
  for (const part of parts) at += typeof part === 'string' ? packed.write(part, at) : part.copy(packed, at);
  return packed;
}

/** How many entries wait in a queue's inbox (appended, not yet moved into the queue). */
export async function inboxDepth(queue: Queue): Promise<number> {
  const { client, inbox } = await targetOf(queue);
  return client.xlen(inbox);
}

/** When the oldest entry still in a queue's inbox was appended (epoch ms, from its stream id), or undefined when none is. */
export async function oldestInboxEntryAt(queue: Queue): Promise<number | undefined> {
  const { client, inbox } = await targetOf(queue);
  const [first] = await client.xrange(inbox, '-', '+', 'COUNT', 1);
  return first ? Number(first[0].split('-')[0]) : undefined;
}
