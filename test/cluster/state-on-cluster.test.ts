/**
 * The Redis operations that touch several keys at once, on a real three-master cluster through the
 * bridge's own connection factory: each must keep its keys in one slot (no CROSSSLOT), and start-up
 * must refuse a cluster any of whose masters may evict keys. (Ingest's dedupe marks are BullMQ's
 * deduplication keys, under each queue's own hash tag: test/cluster/spine.test.ts covers them.)
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Queue } from 'bullmq';
import type { Cluster } from 'ioredis';
import { loadConfig } from '../../src/config/env.js';
import { refuseUnsafeRedis, RedisPolicyError } from '../../src/lifecycle/redis-policy.js';
import { createLogger } from '../../src/observability/logger.js';
import { createRedisConnection, queuePrefix } from '../../src/queue/connections.js';
import { createContactFacts } from '../../src/state/contact-facts.js';
import { createContactFingerprints } from '../../src/state/contact-fingerprint.js';
import type { RedisClient } from '../../src/state/keys.js';
import { createOAuthTokenStore } from '../../src/state/oauth-token-store.js';
import { createRateBudget } from '../../src/state/rate-budget.js';
import { createReviewIndexStore } from '../../src/state/review-index.js';
import { createWriteLedger } from '../../src/state/write-ledger.js';
import { startRedisCluster, type RedisClusterHandle } from '../helpers/redis-cluster.js';

const logger = createLogger({ level: 'silent' });
let cluster: RedisClusterHandle;
let redis: RedisClient;
let admin: Cluster;

before(async () => {
  cluster = await startRedisCluster();
  const config = loadConfig({ REDIS_CLUSTER_NODES: cluster.nodes, REDIS_URL: 'redis://127.0.0.1:1' });
  redis = createRedisConnection(config, 'worker', logger);
  admin = cluster.client();
  await refuseUnsafeRedis(redis, logger);
});

after(async () => {
  await redis.quit();
  await admin.quit();
  await cluster.close();
});

describe('multi-key operations on a Redis Cluster', () => {
  test('REDIS_CLUSTER_NODES gives a cluster client, and the URL is ignored', () => {
    assert.equal(redis.isCluster, true);
  });

  test('the rate-budget script, the write ledger, fingerprints, the review index and OAuth tokens keep their keys in one slot', async () => {
    const prefix = `t${randomUUID().slice(0, 8)}`;
    const budget = createRateBudget(redis, prefix);
    const limit = { max: 2, windowMs: 10_000, daily: 100 };
    assert.equal((await budget.take('ghl:locA', limit)).ok, true);
    assert.equal((await budget.take('ghl:locA', limit)).ok, true);
    assert.equal((await budget.take('ghl:locA', limit)).ok, false);
    assert.deepEqual({ ...(await budget.usage('ghl:locA', limit)), blockedUntil: undefined }, { window: 2, day: 2, blockedUntil: undefined });

    const ledger = createWriteLedger(redis, prefix);
    await ledger.recordTask('locA', 'c1', 'tp-review:1:follow-up', 'task-1', 'open', '2026-12-24');
    assert.equal(await ledger.taskChanged('locA', 'task-1', 'completed'), true);

    const fingerprints = createContactFingerprints(redis, prefix);
    await fingerprints.remember('locA', 'c1', 'now', ['between']);
    assert.equal(await fingerprints.isKnown('locA', 'c1', 'between'), true);

    // The review index's lookup reads its state and its keys in one pipeline: one slot, the business unit's.
    const reviews = createReviewIndexStore(redis, prefix, 'bu_cluster');
    await reviews.upsert([{ facts: { id: 'r1', stars: 5, title: 't', text: 'x', createdAt: '2026-01-01T00:00:00.000Z', url: 'https://www.trustpilot.com/reviews/r1' }, createdAtMs: 1, referenceId: 'c1', referralEmail: 'ann@example.com' }]);
    await reviews.commit({ highWater: 1, complete: true, refreshedAt: 2, listedAt: 2 });
    const found = await reviews.lookup([{ kind: 'referenceId', value: 'nobody' }, { kind: 'email', value: 'ann@example.com' }]);
    assert.deepEqual({ id: found.review?.id, listedAt: found.meta.listedAt }, { id: 'r1', listedAt: 2 });

    const tokens = createOAuthTokenStore({ redis, prefix, encryptionKeys: [Buffer.alloc(32, 3)] });
    const token = { accessToken: 'a', refreshToken: 'r', expiresAt: Date.now() + 3_600_000, scope: 'contacts.readonly', userType: 'Location' as const };
    await tokens.set('locA', token);
    await tokens.set('locB', { ...token, accessToken: 'b' });
    assert.deepEqual(await tokens.listLocations(), ['locA', 'locB']);
    assert.equal((await tokens.get('locB'))?.accessToken, 'b');
    await tokens.delete('locA');
    assert.deepEqual(await tokens.listLocations(), ['locB']);
  });

  test('contact timelines, the directory behind search and the chart series work across slots', async () => {
    const facts = createContactFacts(redis, `t${randomUUID().slice(0, 8)}`);
    const base = { durationMs: 10, upstreamCalls: 2, outcome: 'synced', latencyMs: 120 } as const;
    for (const [i, locationId] of ['locA', 'locB', 'locC'].entries()) {
      await facts.recordSync({ ...base, locationId, contactId: `c${i}`, at: Date.now(), contact: { name: `Ada ${i}`, email: `ada${i}@example.com` } });
      await facts.recordSync({ ...base, locationId, contactId: `n${i}`, at: Date.now() });
    }
    assert.equal((await facts.history.syncs('locB', 'c1')).length, 1);
    assert.deepEqual((await facts.history.search('ada')).map((entry) => entry.contactId).sort(), ['c0', 'c1', 'c2']);
    assert.equal((await facts.history.identity('locC', 'c2'))?.email, 'ada2@example.com');
    const hour = await facts.series.read('hour');
    assert.equal(hour.length, 60);
    assert.equal(hour.reduce((sum, point) => sum + (point.counts['sync:synced'] ?? 0), 0), 6);
  });

  test('each BullMQ queue has its own hash-tagged prefix and works', async () => {
    const prefix = `t${randomUUID().slice(0, 8)}`;
    assert.equal(queuePrefix(prefix, 'ghl-webhooks', redis), `{${prefix}:ghl-webhooks}`);
    const queue = new Queue('ghl-webhooks', { connection: redis, prefix: queuePrefix(prefix, 'ghl-webhooks', redis) });
    await queue.addBulk([{ name: 'a', data: {}, opts: { jobId: 'one' } }, { name: 'b', data: {}, opts: { jobId: 'two' } }]);
    assert.equal(await queue.count(), 2);
    await queue.close();
  });

  test('start-up refuses the cluster when one master may evict keys, naming that node', async () => {
    const port = cluster.ports[1] ?? 0;
    const node = admin.nodes('master').find((master) => master.options.port === port);
    assert.ok(node);
    await node.call('CONFIG', 'SET', 'maxmemory-policy', 'allkeys-lru');
    try {
      await assert.rejects(refuseUnsafeRedis(redis, logger), (error: unknown) => error instanceof RedisPolicyError && error.message.includes(`127.0.0.1:${port}`) && error.message.includes('allkeys-lru'));
    } finally {
      await node.call('CONFIG', 'SET', 'maxmemory-policy', 'noeviction');
    }
  });
});
