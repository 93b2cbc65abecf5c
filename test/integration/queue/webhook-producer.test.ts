/**
 * The micro-batching webhook producer against a real Redis: a batch stores each delivery once in its
 * queue's inbox (copies within a batch and redeliveries after it are `duplicate` with the stored
 * job's id, also once the job itself is gone), flushes on size, on time, at the end of the event-loop
 * turn or when the batch before it is stored, and a failed batch fails every request in it with
 * QueueUnavailableError; the redelivery then stores each delivery once. A server that lost the inbox
 * script still accepts. (The pump that turns the inbox into jobs: inbox-pump.test.ts.)
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, beforeEach, describe, test } from 'node:test';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { QUEUE_NAMES, type QueueName } from '../../../src/queue/catalog.js';
import { createWebhookProducer, jobIdFor, QueueUnavailableError, type IngestRequest, type IngestResult, type ProducerBatching } from '../../../src/queue/webhook-producer.js';
import { startRedisServer, type RedisServerHandle } from '../../helpers/redis-server.js';
import { countQueuedOrInbox, queuedOrInbox } from '../../helpers/inbox.js';

const LOCATION = 'locProducerTest000001';

function queuesOn(connection: Redis, prefix: string): Record<QueueName, Queue> {
  const make = (name: QueueName) => new Queue(name, { connection, prefix });
  const names = QUEUE_NAMES;
  return {
    [names.ghlWebhooks]: make(names.ghlWebhooks),
    [names.contactSync]: make(names.contactSync),
    [names.trustpilotEvents]: make(names.trustpilotEvents),
    [names.trustpilotPoll]: make(names.trustpilotPoll),
    [names.opinionStageResponses]: make(names.opinionStageResponses),
    [names.opinionStagePoll]: make(names.opinionStagePoll),
    [names.opinionStagePush]: make(names.opinionStagePush),
    [names.reconcile]: make(names.reconcile),
    [names.alerts]: make(names.alerts),
    [names.deadLetter]: make(names.deadLetter),
  };
}

describe('webhook producer (micro-batched)', () => {
  let server: RedisServerHandle;
  let redis: Redis;
  let prefix: string;
  let queues: Record<QueueName, Queue>;
  /** Queues of earlier tests, closed before the next one and at the end. */
  const opened: Queue[] = [];
  /** Every batch stored: how many requests it answered. */
  let bulkSizes: number[];

  before(async () => {
    server = await startRedisServer();
    redis = new Redis(server.url, { maxRetriesPerRequest: 1 });
  });

  after(async () => {
    await Promise.all(opened.splice(0).map((queue) => queue.close()));
    await redis.quit();
    await server.close();
  });

  beforeEach(async () => {
    await Promise.all(opened.splice(0).map((queue) => queue.close()));
    prefix = `test-producer-${randomBytes(4).toString('hex')}`;
    queues = queuesOn(redis, prefix);
    opened.push(...Object.values(queues));
    bulkSizes = [];
  });

  const delivery = (webhookId: string): IngestRequest => ({
    queue: QUEUE_NAMES.ghlWebhooks,
    jobName: 'ContactUpdate',
    data: { source: 'marketplace', receivedAt: 1, event: { type: 'ContactUpdate', webhookId } },
    scope: LOCATION,
    dedupeKey: `id:${webhookId}`,
    ttlSeconds: 60,
  });

  const producer = (batching: ProducerBatching = { maxItems: 100, maxWaitMs: 1 }, overrides: Partial<Record<QueueName, Queue>> = {}) =>
    createWebhookProducer({
      queues: { ...queues, ...overrides },
      timeoutMs: 2_000,
      batching,
      onBatch: (counts) => bulkSizes.push((counts['webhook:accepted'] ?? 0) + (counts['webhook:duplicate'] ?? 0)),
    });

  /** Deliveries stored: no pump runs here, so they wait in the inbox. */
  const storedJobs = () => countQueuedOrInbox(queues[QUEUE_NAMES.ghlWebhooks]);

  test('one batch stores each delivery once; copies in the batch are duplicates of the stored job', async () => {
    const ingest = producer();
    const requests = [delivery('a'), delivery('b'), delivery('a'), delivery('c'), delivery('a')];
    const results = await Promise.all(requests.map((request) => ingest.enqueue(request)));
    assert.deepEqual(bulkSizes, [5], 'one batch');
    assert.deepEqual(
      results.map((result) => result.status),
      ['accepted', 'accepted', 'duplicate', 'accepted', 'duplicate'],
    );
    assert.equal(results[2]?.id, results[0]?.id);
    assert.equal(results[4]?.id, results[0]?.id);
    assert.equal(new Set(results.map((result) => result.id)).size, 3);
    assert.equal(await storedJobs(), 3);
    for (const result of results) assert.ok(await queuedOrInbox(queues[QUEUE_NAMES.ghlWebhooks], result.id), `delivery ${result.id} is stored`);
  });

  test('every delivery reads back exactly as sent, whatever bytes its name and data hold (newlines, digits and spaces, multi-byte UTF-8, verified bytes)', async () => {
    const ingest = producer();
    const awkward = '12 34 5\n\n{"x":"ü 🙂 \\n"}\r\n';
    const verified = Buffer.from(JSON.stringify({ type: 'ContactUpdate', note: awkward, emoji: '🙂' }), 'utf8');
    const target = (webhookId: string) => ({ queue: QUEUE_NAMES.ghlWebhooks, scope: LOCATION, dedupeKey: `id:${webhookId}`, ttlSeconds: 60 });
    const requests: IngestRequest[] = [
      { ...target('plain'), jobName: `Name ${awkward}`, data: { source: 'marketplace', receivedAt: 7, event: { type: 'ContactUpdate', note: awkward } } },
      { ...target('bytes'), jobName: 'ContactUpdate', json: ['{"source":"marketplace","receivedAt":8,"event":', verified, '}'] },
      { ...target('empty'), jobName: '', json: ['', '""', ''] },
    ];
    const results = await Promise.all(requests.map((request) => ingest.enqueue(request)));
    assert.deepEqual(results.map((result) => result.status), ['accepted', 'accepted', 'accepted']);
    const queue = queues[QUEUE_NAMES.ghlWebhooks];
    assert.deepEqual(await queuedOrInbox(queue, results[0]?.id ?? ''), { name: `Name ${awkward}`, data: { source: 'marketplace', receivedAt: 7, event: { type: 'ContactUpdate', note: awkward } }, where: 'inbox' });
    assert.deepEqual(await queuedOrInbox(queue, results[1]?.id ?? ''), { name: 'ContactUpdate', data: { source: 'marketplace', receivedAt: 8, event: JSON.parse(verified.toString('utf8')) as unknown }, where: 'inbox' });
    assert.deepEqual(await queuedOrInbox(queue, results[2]?.id ?? ''), { name: '', data: '', where: 'inbox' });
  });

  test('a redelivery after the batch is a duplicate naming the first job', async () => {
    const ingest = producer();
    const first = await ingest.enqueue(delivery('again'));
    const second = await ingest.enqueue(delivery('again'));
    assert.deepEqual(second, { status: 'duplicate', id: first.id });
    assert.equal(await storedJobs(), 1);
  });

  test('a batch is stored when it is full, and the rest after the wait', async () => {
    const ingest = producer({ maxItems: 3, maxWaitMs: 5 });
    const results = await Promise.all(Array.from({ length: 7 }, (_, index) => ingest.enqueue(delivery(`size-${index}`))));
    assert.ok(results.every((result) => result.status === 'accepted'));
    assert.deepEqual(bulkSizes, [3, 3, 1]);
    assert.equal(await storedJobs(), 7);
  });

  test('with maxWaitMs 0 a batch is what arrived in the same event-loop turn', async () => {
    const ingest = producer({ maxItems: 100, maxWaitMs: 0 });
    const results = await Promise.all(Array.from({ length: 4 }, (_, index) => ingest.enqueue(delivery(`turn-${index}`))));
    assert.ok(results.every((result) => result.status === 'accepted'));
    assert.deepEqual(bulkSizes, [4]);
  });

  test('a mark written by BullMQ\'s deduplication (ingest before the inbox) still makes a redelivery a duplicate', async () => {
    const request = delivery('old-mark');
    const jobId = jobIdFor(QUEUE_NAMES.ghlWebhooks, `${request.scope}\n${request.dedupeKey}`);
    await redis.set(`${prefix}:${QUEUE_NAMES.ghlWebhooks}:de:${jobId}`, jobId, 'PX', 60_000);
    assert.deepEqual(await producer().enqueue(request), { status: 'duplicate', id: jobId });
    assert.equal(await storedJobs(), 0, 'nothing appended');
  });

  test('a redelivery after its job is gone (done and removed by retention) is still a duplicate within the TTL', async () => {
    const first = await producer().enqueue(delivery('gone'));
    // As after the pump moved it and retention removed the finished job: the inbox entry and the job go, the mark stays.
    await redis.del(`${prefix}:${QUEUE_NAMES.ghlWebhooks}:inbox`);
    assert.equal(await storedJobs(), 0);
    assert.deepEqual(await producer().enqueue(delivery('gone')), { status: 'duplicate', id: first.id });
    assert.equal(await storedJobs(), 0, 'not queued again');
  });

  test('with natural batching, requests arriving while a batch is stored go out together when it is done', async () => {
    const ingest = producer({ maxItems: 100, maxWaitMs: 0 });
    const first = ingest.enqueue(delivery('n0'));
    // The first batch leaves at the end of this turn; these arrive while it is in flight.
    await new Promise((resolve) => setImmediate(resolve));
    const rest = Array.from({ length: 3 }, (_, index) => ingest.enqueue(delivery(`n${index + 1}`)));
    const results = await Promise.all([first, ...rest]);
    assert.ok(results.every((result) => result.status === 'accepted'));
    assert.deepEqual(bulkSizes, [1, 3]);
  });

  test('a batch whose transaction fails fails every request in it with QueueUnavailableError; the redelivery stores each once', async () => {
    const broken = new Queue(QUEUE_NAMES.ghlWebhooks, { connection: redis, prefix });
    Object.defineProperty(broken, 'client', { get: () => Promise.reject(new Error('Connection is closed.')) });
    try {
      const requests = ['x', 'y', 'z'].map((id) => delivery(id));
      const outcomes = await Promise.allSettled(requests.map((request) => producer(undefined, { [QUEUE_NAMES.ghlWebhooks]: broken }).enqueue(request)));
      for (const outcome of outcomes) {
        assert.equal(outcome.status, 'rejected');
        assert.ok(outcome.reason instanceof QueueUnavailableError, 'answered with the 429 path');
      }
      assert.equal(await storedJobs(), 0);
      // GHL redelivers on 429: each is accepted once.
      const redelivered: IngestResult[] = await Promise.all(requests.map((request) => producer().enqueue(request)));
      assert.ok(redelivered.every((result) => result.status === 'accepted'));
      assert.equal(await storedJobs(), 3);
    } finally {
      await broken.close();
    }
  });

  test('a server that lost the inbox script (a restart without it) still accepts: EVALSHA falls back to EVAL', async () => {
    const ingest = producer();
    assert.equal((await ingest.enqueue(delivery('s1'))).status, 'accepted');
    await redis.script('FLUSH');
    assert.equal((await ingest.enqueue(delivery('s2'))).status, 'accepted');
    assert.equal((await ingest.enqueue(delivery('s3'))).status, 'accepted');
    assert.equal((await ingest.enqueue(delivery('s2'))).status, 'duplicate');
    assert.equal(await storedJobs(), 3);
  });

  test('a Redis that does not answer fails the batch by the deadline', async () => {
    const frozen = new Redis(server.url, { maxRetriesPerRequest: 1, enableOfflineQueue: false, commandTimeout: 5_000 });
    await new Promise<void>((resolve) => frozen.once('ready', () => resolve()));
    const frozenQueues = queuesOn(frozen, prefix);
    const ingest = createWebhookProducer({ queues: frozenQueues, timeoutMs: 300 });
    server.freeze();
    try {
      const outcomes = await Promise.allSettled([delivery('f1'), delivery('f2'), delivery('f3')].map((request) => ingest.enqueue(request)));
      for (const outcome of outcomes) assert.ok(outcome.status === 'rejected' && outcome.reason instanceof QueueUnavailableError);
      // Behind the batch still in flight: one request, answered by its deadline; then one more, which
      // must get a deadline of its own rather than join the batch whose deadline has passed.
      for (const id of ['f4', 'f5']) {
        await assert.rejects(ingest.enqueue(delivery(id)), (error: unknown) => error instanceof QueueUnavailableError && /no answer within 300 ms/.test(error.message), id);
      }
    } finally {
      server.thaw();
      await Promise.all(Object.values(frozenQueues).map((queue) => queue.close()));
      await frozen.quit();
    }
  });
});
