/**
 * test/integration/queue/inbox-pump.test.ts's lost read on a three-master cluster, through the
 * bridge's own cluster connections: entries handed to the pump's blocked read, whose connection then
 * drops, are moved once the cluster client has reconnected to that master, not after the claim time.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { Queue } from 'bullmq';
import { Redis, type Cluster } from 'ioredis';
import { loadConfig } from '../../src/config/env.js';
import { createLogger } from '../../src/observability/logger.js';
import { jobOptionsFor, QUEUE_NAMES, type QueueName } from '../../src/queue/catalog.js';
import { closeRedis, createRedisConnection, queuePrefix } from '../../src/queue/connections.js';
import { INBOX_GROUP, inboxKey } from '../../src/queue/inbox.js';
import { startInboxPump } from '../../src/queue/inbox-pump.js';
import { createWebhookProducer } from '../../src/queue/webhook-producer.js';
import { startRedisCluster, type RedisClusterHandle } from '../helpers/redis-cluster.js';
import { waitFor, waitUntil } from '../helpers/wait.js';

const NAME = QUEUE_NAMES.ghlWebhooks;
const logger = createLogger({ level: 'silent' });
let cluster: RedisClusterHandle;
let admin: Cluster;

before(async () => {
  cluster = await startRedisCluster();
  admin = cluster.client();
});

after(async () => {
  await admin.quit();
  await cluster.close();
});

test('on a cluster, entries handed to a read whose answer was lost are moved once the reader reconnects, not after the claim time', async () => {
  const config = loadConfig({ REDIS_CLUSTER_NODES: cluster.nodes });
  const connection = createRedisConnection(config, 'worker', logger);
  const reader = createRedisConnection(config, 'worker', logger);
  const queue = new Queue(NAME, { connection, prefix: queuePrefix(`test-lost-${randomBytes(4).toString('hex')}`, NAME, connection) });
  const queues = Object.fromEntries(Object.values(QUEUE_NAMES).map((name) => [name, queue])) as Record<QueueName, Queue>;
  const ingest = createWebhookProducer({ queues, timeoutMs: 10_000 });
  // Claims come only after 10 minutes: whatever moves the entries below, it is not a claim.
  const pump = startInboxPump({ queue, reader, jobOptions: jobOptionsFor(NAME, 3_600_000), logger, claimIdleMs: 600_000, blockMs: 200, batchSize: 20 });
  const key = inboxKey(queue);
  const pending = async () => ((await admin.call('XPENDING', key, INBOX_GROUP)) as [number])[0];
  try {
    // A first delivery, moved as usual, makes the pump's consumer known in the group.
    const first = await ingest.enqueue({ queue: NAME, jobName: 'ContactUpdate', data: { source: 'marketplace', receivedAt: 1, event: { type: 'ContactUpdate', webhookId: 'first' } }, scope: 'locLost', dedupeKey: 'id:first', ttlSeconds: 60 });
    await waitFor(() => queue.getJob(first.id), 10_000, 'the first delivery to become a job');
    const rows = (await admin.call('XINFO', 'CONSUMERS', key, INBOX_GROUP)) as unknown[][];
    const consumer = String(rows[0]?.[rows[0].indexOf('name') + 1]);

    // Appended and handed to the pump's consumer in one step, as Redis does for a read it answered.
    const envelope = (id: string) => JSON.stringify({ source: 'marketplace', receivedAt: 1, event: { type: 'ContactUpdate', webhookId: id } });
    const transaction = admin.multi();
    for (const id of ['lost-1', 'lost-2']) transaction.xadd(key, '*', 'id', `job-${id}`, 'name', 'ContactUpdate', 'data', envelope(id));
    transaction.call('XREADGROUP', 'GROUP', INBOX_GROUP, consumer, 'COUNT', 10, 'STREAMS', key, '>');
    await transaction.exec();
    assert.equal(await pending(), 2, 'the entries wait, pending to the live pump');

    // The master holding the inbox drops the pump's blocked read.
    const owner = new Redis(cluster.ports[await cluster.ownerOf(key)] ?? 0, '127.0.0.1');
    try {
      const clients = String(await owner.client('LIST'));
      const readerId = /id=(\d+) [^\n]*cmd=xreadgroup/.exec(clients)?.[1];
      assert.ok(readerId, `the pump's blocked read in CLIENT LIST:\n${clients}`);
      await owner.client('KILL', 'ID', readerId);
    } finally {
      owner.disconnect();
    }
    await waitUntil(async () => (await pending()) === 0 && (await admin.xlen(key)) === 0, 'the entries to be moved after the reconnection', 20_000, 50);
    for (const id of ['lost-1', 'lost-2']) assert.ok(await queue.getJob(`job-${id}`), `job-${id}`);
  } finally {
    await pump.stop();
    await queue.close();
    await closeRedis(reader);
    await closeRedis(connection);
  }
});
