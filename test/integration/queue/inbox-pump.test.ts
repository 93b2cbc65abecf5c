/**
 * The inbox pump against a real Redis: what ingest appended becomes exactly one job per delivery,
 * with the catalog's options and no BullMQ deduplication; entries a dead pump had read are taken
 * over; several pumps at once still make one job each; consumers do not pile up; a server that
 * lost BullMQ's add script keeps the entries until they are moved; a Redis restart (AOF) is waited out;
 * a read whose answer was lost with the connection is moved once the reader reconnects, not after the claim time.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, beforeEach, describe, test } from 'node:test';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { jobOptionsFor, QUEUE_NAMES, type QueueName } from '../../../src/queue/catalog.js';
import { INBOX_GROUP, inboxKey } from '../../../src/queue/inbox.js';
import { startInboxPump, type InboxPump } from '../../../src/queue/inbox-pump.js';
import { createWebhookProducer, type IngestRequest, type WebhookProducer } from '../../../src/queue/webhook-producer.js';
import { createLogger } from '../../../src/observability/logger.js';
import { startRedisServer, type RedisServerHandle } from '../../helpers/redis-server.js';
import { waitFor, waitUntil } from '../../helpers/wait.js';

const NAME = QUEUE_NAMES.ghlWebhooks;
/** The name every test pump's reader connection goes by in CLIENT LIST. */
const READER_NAME = 'test-pump-reader';
const logger = createLogger({ level: 'silent' });

describe('inbox pump', () => {
  let server: RedisServerHandle;
  /** Test's own patient connection (worker-like: waits through restarts). */
  let redis: Redis;
  let prefix: string;
  let queue: Queue;
  let ingest: WebhookProducer;
  const cleanups: (() => Promise<unknown>)[] = [];

  before(async () => {
    server = await startRedisServer();
    redis = new Redis(server.url, { maxRetriesPerRequest: null });
  });

  after(async () => {
    await redis.quit();
    await server.close();
  });

  beforeEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    prefix = `test-pump-${randomBytes(4).toString('hex')}`;
    queue = new Queue(NAME, { connection: redis, prefix });
    cleanups.push(() => queue.close());
    const queues = Object.fromEntries(Object.values(QUEUE_NAMES).map((name) => [name, queue])) as Record<QueueName, Queue>;
    ingest = createWebhookProducer({ queues, timeoutMs: 10_000 });
  });

  after(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  const delivery = (webhookId: string): IngestRequest => ({
    queue: NAME,
    jobName: 'ContactUpdate',
    data: { source: 'marketplace', receivedAt: 1, event: { type: 'ContactUpdate', webhookId } },
    scope: 'locPumpTest',
    dedupeKey: `id:${webhookId}`,
    ttlSeconds: 60,
  });

  function pump(claimIdleMs = 30_000, forgetIdleMs?: number): InboxPump {
    const reader = new Redis(server.url, { maxRetriesPerRequest: null, connectionName: READER_NAME });
    const started = startInboxPump({ queue, reader, jobOptions: jobOptionsFor(NAME, 3_600_000), logger, claimIdleMs, blockMs: 200, batchSize: 20, ...(forgetIdleMs ? { forgetIdleMs } : {}) });
    cleanups.push(async () => {
      await started.stop();
      reader.disconnect();
    });
    return started;
  }

  async function jobCount(): Promise<number> {
    const counts = await queue.getJobCounts('waiting', 'delayed', 'active', 'completed', 'failed', 'prioritized');
    return Object.values(counts).reduce((sum, count) => sum + count, 0);
  }

  /** Resolves once the inbox is empty and nothing is pending in the group. */
  async function drained(what: string): Promise<void> {
    await waitUntil(
      async () => {
        const length = await redis.xlen(inboxKey(queue));
        // No group yet (its pump is still starting): not drained.
        const pending = (await redis.call('XPENDING', inboxKey(queue), INBOX_GROUP).catch(() => [-1])) as [number, ...unknown[]];
        return length === 0 && pending[0] === 0;
      },
      what,
      20_000,
      25,
    );
  }

  test('each accepted delivery becomes one job under the answered id, with the catalog options and no deduplication', async () => {
    pump();
    const results = await Promise.all(['a', 'b', 'a', 'c'].map((id) => ingest.enqueue(delivery(id))));
    await drained('the inbox to be moved');
    assert.equal(await jobCount(), 3);
    for (const result of results) {
      const job = await waitFor(() => queue.getJob(result.id), 5_000, `job ${result.id}`);
      assert.equal(job.name, 'ContactUpdate');
      assert.equal(job.opts.attempts, jobOptionsFor(NAME, 3_600_000).attempts);
      assert.equal(job.opts.deduplication, undefined, 'the mark is ingest\'s own, not a BullMQ deduplication');
    }
    // The mark outlives the move: a redelivery is a duplicate and adds nothing.
    assert.deepEqual(await ingest.enqueue(delivery('a')), { status: 'duplicate', id: results[0]?.id });
    await drained('nothing more to move');
    assert.equal(await jobCount(), 3);
  });

  test('a pump that died between reading and moving: its entries are taken over, each becomes exactly one job', async () => {
    const ids = (await Promise.all(Array.from({ length: 30 }, (_, index) => ingest.enqueue(delivery(`dead-${index}`))))).map((result) => result.id);
    // A pump that read everything and was killed before its transaction.
    await redis.call('XGROUP', 'CREATE', inboxKey(queue), INBOX_GROUP, '0', 'MKSTREAM');
    const read = (await redis.call('XREADGROUP', 'GROUP', INBOX_GROUP, 'dead-pump', 'COUNT', 100, 'STREAMS', inboxKey(queue), '>')) as [string, unknown[]][];
    assert.equal(read[0]?.[1].length, 30);
    pump(300);
    pump(300);
    await drained('the dead pump\'s entries to be taken over');
    assert.equal(await jobCount(), 30);
    for (const id of ids) assert.ok(await queue.getJob(id), `job ${id}`);
  });

  /** The group's consumers by name, with what each holds. */
  async function consumers(): Promise<Map<string, number>> {
    const rows = (await redis.call('XINFO', 'CONSUMERS', inboxKey(queue), INBOX_GROUP)) as unknown[][];
    return new Map(rows.map((row) => [String(row[row.indexOf('name') + 1]), Number(row[row.indexOf('pending') + 1])]));
  }

  test('consumers do not pile up: a stopping pump leaves the group, a dead one is forgotten once its entries are taken over', async () => {
    const first = pump();
    await ingest.enqueue(delivery('leave-1'));
    await drained('the first delivery to be moved');
    assert.equal((await consumers()).size, 1, 'the pump that read it');
    await first.stop();
    assert.equal((await consumers()).size, 0, 'a pump that stopped holding nothing leaves');

    // A killed pump's consumer, holding entries: kept until they are taken over, then forgotten.
    await Promise.all(['leave-2', 'leave-3'].map((id) => ingest.enqueue(delivery(id))));
    await redis.call('XREADGROUP', 'GROUP', INBOX_GROUP, 'killed-pump', 'COUNT', 10, 'STREAMS', inboxKey(queue), '>');
    assert.equal((await consumers()).get('killed-pump'), 2);
    pump(300, 600);
    await drained('the killed pump\'s entries to be taken over');
    await waitUntil(async () => !(await consumers()).has('killed-pump'), 'the killed pump to be forgotten', 10_000, 50);
    assert.equal(await jobCount(), 3);
    // The pump left in the group still moves what comes next.
    await ingest.enqueue(delivery('leave-4'));
    await drained('a later delivery to be moved');
    assert.equal(await jobCount(), 4);
  });

  test('several pumps at once make one job per delivery', async () => {
    pump();
    pump();
    pump();
    const results = await Promise.all(Array.from({ length: 120 }, (_, index) => ingest.enqueue(delivery(`many-${index}`))));
    await drained('every delivery to be moved');
    assert.equal(await jobCount(), 120);
    assert.equal(new Set(results.map((result) => result.id)).size, 120);
  });

  test('a server that lost BullMQ\'s add script (NOSCRIPT inside the transaction) keeps the entries until they are moved', async () => {
    pump();
    await ingest.enqueue(delivery('ns-1'));
    await drained('the first delivery to be moved');
    // The connection believes the add script is loaded; the server has none (src/queue/transaction-scripts.ts).
    await redis.script('FLUSH');
    await Promise.all(['ns-2', 'ns-3'].map((id) => ingest.enqueue(delivery(id))));
    await drained('the later deliveries to be moved after the reload');
    assert.equal(await jobCount(), 3);
  });

  test('a Redis restart is waited out: entries appended before and after it become jobs', async () => {
    const running = pump();
    await ingest.enqueue(delivery('r-1'));
    await drained('the first delivery to be moved');
    await server.restart();
    await waitFor(async () => ((await ingest.enqueue(delivery('r-2')).catch(() => undefined)) ? true : undefined), 20_000, 'ingest to accept after the restart');
    await drained('the delivery after the restart to be moved');
    assert.equal(await jobCount(), 2);
    await running.stop();
  });

  test('entries handed to a read whose answer was lost with the connection are moved once the reader reconnects, not after the claim time', async () => {
    // Claims come only after 10 minutes: whatever moves the entries below, it is not a claim.
    pump(600_000);
    // A first delivery, moved as usual, makes the pump's consumer known in the group.
    await ingest.enqueue(delivery('lost-0'));
    await drained('the first delivery to be moved');
    const [consumer] = [...(await consumers()).keys()];
    assert.ok(consumer, 'the pump is a consumer of the group');
    // The entries are appended and handed to the pump's consumer in one step, as Redis does for a
    // read it answered: the pump's own blocked read, served after the transaction, finds nothing newer.
    const envelope = (id: string) => JSON.stringify({ source: 'marketplace', receivedAt: 1, event: { type: 'ContactUpdate', webhookId: id } });
    const transaction = redis.multi();
    for (const id of ['lost-1', 'lost-2']) transaction.xadd(inboxKey(queue), '*', 'id', `job-${id}`, 'name', 'ContactUpdate', 'data', envelope(id));
    transaction.call('XREADGROUP', 'GROUP', INBOX_GROUP, consumer, 'COUNT', 10, 'STREAMS', inboxKey(queue), '>');
    await transaction.exec();
    assert.equal((await consumers()).get(consumer), 2, 'the entries wait, pending to the live pump');
    // The connection drops: the answer is lost, and ioredis reconnects and sends the read again.
    const clients = await redis.client('LIST');
    const readerId = /id=(\d+) [^\n]*name=test-pump-reader [^\n]*cmd=xreadgroup/.exec(String(clients))?.[1];
    assert.ok(readerId, `the pump's blocked read in CLIENT LIST:\n${String(clients)}`);
    await redis.client('KILL', 'ID', readerId);
    await drained('the entries to be moved after the reconnection');
    for (const id of ['lost-1', 'lost-2']) assert.ok(await queue.getJob(`job-${id}`), `job-${id}`);
  });
});
