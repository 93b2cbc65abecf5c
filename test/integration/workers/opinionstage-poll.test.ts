/**
 * The Opinion Stage poll against the simulator listing responses newest first and oldest first (and
 * switching between polls), with a real Redis, real BullMQ queues and the real producer: every
 * response created after the first poll is queued exactly once, whatever the order and however many
 * pages; a quiet poll reads one or two pages; records with null attributes or answers are queued.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { Queue, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { createOpinionStageClient, type OpinionStageClient } from '../../../src/clients/opinionstage/opinionstage-client.js';
import { createLogger } from '../../../src/observability/logger.js';
import { QUEUE_NAMES, type QueueName } from '../../../src/queue/catalog.js';
import { createWebhookProducer } from '../../../src/queue/webhook-producer.js';
import { inboxEntries } from '../../helpers/inbox.js';
import { startOpinionStageSimulator, type OpinionStageSimulator, type ResponseOrder } from '../../../src/sandbox/opinionstage/simulator.js';
import { createOsPollSeen } from '../../../src/state/opinionstage-poll-seen.js';
import { createOpinionStagePollProcessor, type PollOutcome } from '../../../src/workers/opinionstage-poll-processor.js';
import { startRedisServer, type RedisServerHandle } from '../../helpers/redis-server.js';

const API_KEY = 'os-poll-it-key-0123456789';
const MINUTE = 60_000;
/** Responses five minutes apart: fewer than a page of them fall within the poll's hour of slack. */
const STEP = 5 * MINUTE;

describe('Opinion Stage poll, whatever the order', () => {
  let server: RedisServerHandle;
  let redis: Redis;
  let sim: OpinionStageSimulator;
  let client: OpinionStageClient;
  const queues: Queue[] = [];

  before(async () => {
    server = await startRedisServer();
    redis = new Redis(server.url, { maxRetriesPerRequest: 1 });
    sim = await startOpinionStageSimulator({ apiKey: API_KEY });
    client = createOpinionStageClient({ baseUrl: sim.apiBaseUrl, apiKey: API_KEY, timeoutMs: 5_000 });
  });

  after(async () => {
    await Promise.all(queues.map((queue) => queue.close()));
    await client.close();
    await sim.close();
    await redis.quit();
    await server.close();
  });

  function setup(itemId: string) {
    const prefix = `test-os-poll-${randomBytes(4).toString('hex')}`;
    const all = Object.fromEntries(Object.values(QUEUE_NAMES).map((name) => [name, new Queue(name, { connection: redis, prefix })])) as Record<QueueName, Queue>;
    queues.push(...Object.values(all));
    const logs: string[] = [];
    const logger = createLogger({ level: 'info', destination: new Writable({ write: (chunk: Buffer, _encoding, done) => void (logs.push(chunk.toString('utf8')), done()) }) });
    const producer = createWebhookProducer({ queues: all, timeoutMs: 5_000 });
    const processor = createOpinionStagePollProcessor({ client, producer, seen: createOsPollSeen(redis, prefix), itemIds: [itemId], logger });
    const poll = (): Promise<PollOutcome> => processor({} as Job);
    /** Response id → how many jobs carry it. */
    const queued = async (): Promise<Map<string, number>> => {
      const queue = all[QUEUE_NAMES.opinionStageResponses];
      // No pump runs here: what the producer accepted waits in the queue's inbox.
      const jobs = [...(await queue.getJobs(['waiting', 'delayed', 'prioritized', 'active', 'completed', 'failed'])), ...(await inboxEntries(queue))];
      const counts = new Map<string, number>();
      for (const job of jobs) {
        const id = (job.data as { response: { id: string } }).response.id;
        counts.set(id, (counts.get(id) ?? 0) + 1);
      }
      return counts;
    };
    return { poll, queued, logs };
  }

  /** Adds `count` responses created STEP apart from `from`, none sent as a webhook. */
  function addResponses(itemId: string, tag: string, from: number, count: number, extra: { nulls?: 'attributes' | 'answers' } = {}): string[] {
    return Array.from({ length: count }, (_, i) => {
      const id = `${tag}-${i}`;
      sim.addResponse(itemId, { id, answers: { 'q-email': `${id}@example.com` }, createdAt: new Date(from + i * STEP).toISOString(), sendWebhook: false, ...extra });
      return id;
    });
  }

  for (const firstOrder of ['newest-first', 'oldest-first'] as const satisfies readonly ResponseOrder[]) {
    const otherOrder: ResponseOrder = firstOrder === 'newest-first' ? 'oldest-first' : 'newest-first';

    test(`starting ${firstOrder}, then ${otherOrder}: every new response is queued once, none skipped`, async () => {
      sim.setResponseOrder(firstOrder);
      const item = sim.addItem({ title: `Poll ${firstOrder}`, type: 'survey', questions: [{ id: 'q-email', title: 'Email', kind: 'email' }] });
      const { poll, queued } = setup(item.id);
      const start = Date.now() - 30 * 86_400_000;

      // History before the first poll: 70 responses, more than one page of 50.
      const history = addResponses(item.id, `${firstOrder}-old`, start, 70);
      const first = await poll();
      const afterFirst = await queued();
      assert.ok(afterFirst.size > 0 && afterFirst.size <= 50, `the first poll takes the newest page only (${afterFirst.size})`);
      const taken = history.filter((id) => afterFirst.has(id));
      const cut = history.length - taken.length;
      assert.deepEqual(taken, history.slice(cut), 'and that page is the newest responses');
      assert.ok(first.pages <= 2);

      // 120 new responses (three pages), then a quiet poll, then a switch of order and more.
      const batch1 = addResponses(item.id, `${firstOrder}-b1`, start + 100 * STEP, 120);
      assert.equal((await poll()).queued, 120);
      const quiet = await poll();
      assert.equal(quiet.queued, 0);
      assert.ok(quiet.pages <= 2, `a quiet poll reads at most two pages (${quiet.pages})`);
      assert.equal(quiet.pages, firstOrder === 'newest-first' ? 1 : 2, 'newest first: page 1; oldest first: page 1 and the last');

      sim.setResponseOrder(otherOrder);
      const batch2 = addResponses(item.id, `${firstOrder}-b2`, start + 300 * STEP, 55);
      const nulls = [
        ...addResponses(item.id, `${firstOrder}-null-attr`, start + 400 * STEP, 1, { nulls: 'attributes' }),
        ...addResponses(item.id, `${firstOrder}-null-answers`, start + 401 * STEP, 1, { nulls: 'answers' }),
      ];
      assert.equal((await poll()).queued, 55 + 2);
      // Listed only now, though created half an hour before the newest response the last poll saw.
      const late = addResponses(item.id, `${firstOrder}-late`, start + 401 * STEP - 30 * MINUTE, 1);
      assert.equal((await poll()).queued, 1, 'a response listed late, within the slack, is still queued');
      assert.equal((await poll()).queued, 0);
      sim.setResponseOrder(firstOrder);
      assert.equal((await poll()).queued, 0, 'switching back finds nothing new');

      const counts = await queued();
      const expected = [...taken, ...batch1, ...batch2, ...late, ...nulls];
      assert.deepEqual([...counts.entries()].filter(([, n]) => n !== 1), [], 'no response queued twice');
      assert.deepEqual(expected.filter((id) => !counts.has(id)), [], 'no new response skipped');
      assert.equal(counts.size, expected.length, 'nothing from before the first poll beyond its newest page');
    });
  }

  test('an unreadable record is logged with its reason and skipped; the rest of its page is queued', async () => {
    sim.setResponseOrder('newest-first');
    const item = sim.addItem({ title: 'Poll unreadable', type: 'survey', questions: [{ id: 'q-email', title: 'Email', kind: 'email' }] });
    const { poll, queued, logs } = setup(item.id);
    await poll();
    const created = (minutes: number) => new Date(Date.now() - minutes * MINUTE).toISOString();
    const page = {
      data: [
        { id: 'readable-1', type: 'response', attributes: { answers: [], timestamps: { created: created(3) } } },
        { id: 'broken-1', type: 'response', attributes: { answers: 'not a list', timestamps: { created: created(2) } } },
        { id: 'readable-2', type: 'response', attributes: null },
      ],
      meta: { page: { current: 1, total: 1 } },
      links: { self: `${sim.apiBaseUrl}/items/${item.id}/responses`, next: null },
    };
    const clear = sim.injectFault({ fault: { kind: 'status', status: 200, body: page }, method: 'GET', path: new RegExp(`/items/${item.id}/responses$`), times: 1 });
    try {
      const outcome = await poll();
      assert.equal(outcome.unreadable, 1);
      assert.equal(outcome.queued, 2);
    } finally {
      clear();
    }
    assert.deepEqual([...(await queued()).keys()].sort(), ['readable-1', 'readable-2']);
    const line = logs.find((entry) => entry.includes('opinion stage response unreadable, skipped'));
    assert.ok(line, 'the skip is logged');
    assert.match(line, /"responseId":"broken-1"/);
    assert.match(line, /attributes\.answers/);
  });

  test('responses listed with null answers are queued, even while their item\'s questions answer 404', async () => {
    sim.setResponseOrder('newest-first');
    const item = sim.addItem({ title: 'Poll faults', type: 'survey', questions: [{ id: 'q-email', title: 'Email', kind: 'email' }] });
    sim.hideQuestions(item.id);
    const { poll, queued } = setup(item.id);
    await poll();
    const ids = addResponses(item.id, 'faults', Date.now() - 30 * MINUTE, 3, { nulls: 'answers' });
    assert.equal((await poll()).queued, 3);
    assert.deepEqual([...(await queued()).keys()].sort(), [...ids].sort());
  });
});
