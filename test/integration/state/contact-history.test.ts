/**
 * The per-contact sync timelines, the contact directory behind search, and the per-minute flow
 * series, against a real redis-server.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { createContactFacts } from '../../../src/state/contact-facts.js';
import { bufferedFlowSeries, createFlowSeries, latencyPercentile, type FlowSeries } from '../../../src/state/flow-series.js';
import { startRedisServer, type RedisServerHandle } from '../../helpers/redis-server.js';

let server: RedisServerHandle;
let redis: Redis;

before(async () => {
  server = await startRedisServer();
  redis = new Redis(server.url);
});

after(async () => {
  await redis.quit();
  await server.close();
});

const prefix = () => `test-${randomBytes(4).toString('hex')}`;
const base = { locationId: 'loc1', durationMs: 10, upstreamCalls: 2 } as const;

describe('contact history', () => {
  test('each contact keeps its own runs, newest first, at most 50, with a TTL', async () => {
    const p = prefix();
    const facts = createContactFacts(redis, p);
    for (let i = 0; i < 55; i += 1) await facts.recordSync({ ...base, contactId: 'c1', at: 1_000 + i, outcome: 'synced', trigger: 'webhook' });
    await facts.recordSync({ ...base, contactId: 'c2', at: 5_000, outcome: 'failed', reason: 'GHL 404' });
    const runs = await facts.history.syncs('loc1', 'c1');
    assert.equal(runs.length, 50);
    assert.equal(runs[0]?.at, 1_054);
    assert.equal(runs[0]?.trigger, 'webhook');
    assert.deepEqual((await facts.history.syncs('loc1', 'c2')).map((run) => run.outcome), ['failed']);
    const ttl = await redis.ttl(`${p}:contact-syncs:loc1:c1`);
    assert.ok(ttl > 0 && ttl <= 30 * 86_400);
  });

  test('search finds synced contacts by email, name, phone digits or id, most recent first', async () => {
    const facts = createContactFacts(redis, prefix());
    await facts.recordSync({ ...base, contactId: 'cAda', at: 1, outcome: 'synced', contact: { name: 'Ada Lovelace', email: 'ada@example.com', phone: '+1 (415) 555-0100' } });
    await facts.recordSync({ ...base, contactId: 'cAda2', at: 2, outcome: 'synced', contact: { name: 'Ada King', email: 'king@example.com' } });
    await facts.recordSync({ ...base, contactId: 'cNone', at: 3, outcome: 'skipped' });
    assert.deepEqual((await facts.history.search('ADA@example.com')).map((entry) => entry.contactId), ['cAda']);
    assert.deepEqual((await facts.history.search('ada')).map((entry) => entry.contactId), ['cAda2', 'cAda']);
    assert.deepEqual((await facts.history.search('4155550100')).map((entry) => entry.contactId), ['cAda']);
    assert.deepEqual((await facts.history.search('cada2')).map((entry) => entry.contactId), ['cAda2']);
    assert.deepEqual(await facts.history.search('nobody'), []);
  });

  test('the flow series counts syncs, latency and GHL calls per minute, every minute of the hour present', async () => {
    const facts = createContactFacts(redis, prefix());
    const now = Date.parse('2026-01-01T10:30:30Z');
    await facts.recordSync({ ...base, contactId: 'c1', at: now - 10, durationMs: 10, outcome: 'synced', latencyMs: 300 });
    await facts.recordSync({ ...base, contactId: 'c1', at: now - 10, durationMs: 10, outcome: 'failed' });
    await facts.series.add({ 'webhook:accepted': 3 }, now);
    const hour = await facts.series.read('hour', now);
    assert.equal(hour.length, 60);
    const last = hour.at(-1)?.counts ?? {};
    assert.equal(last['sync:synced'], 1);
    assert.equal(last['sync:failed'], 1);
    assert.equal(last['webhook:accepted'], 3);
    assert.equal(last['ghl-calls:loc1'], 4);
    assert.equal(latencyPercentile(last, 0.5), 500);
    assert.deepEqual(hour[0]?.counts, {});
    const day = await facts.series.read('day', now);
    assert.equal(day.length, 24);
    assert.equal(day.at(-1)?.counts['sync:synced'], 1);
  });

  test('coalesced counts reach Redis in one write per flush, before a read, and when flushed at close', async () => {
    const series = createFlowSeries(redis, prefix());
    let writes = 0;
    const counting: FlowSeries = { add: (counts, at) => (writes++, series.add(counts, at)), read: (range, now) => series.read(range, now) };
    // A flush interval no test waits for: only a read or an explicit flush writes.
    const buffered = bufferedFlowSeries(counting, { flushMs: 3_600_000 });
    const now = Date.parse('2026-01-01T10:30:30Z');
    for (let batch = 0; batch < 50; batch++) await buffered.add({ 'webhook:accepted': 2, 'webhook:duplicate': batch % 2 }, now);
    await buffered.add({ 'webhook:accepted': 1 }, now - 60_000);
    assert.equal(writes, 0, 'nothing written per batch');
    const hour = await buffered.read('hour', now);
    assert.equal(writes, 2, 'one write per minute touched');
    assert.deepEqual(hour.at(-1)?.counts, { 'webhook:accepted': 100, 'webhook:duplicate': 25 });
    assert.deepEqual(hour.at(-2)?.counts, { 'webhook:accepted': 1 });
    await buffered.add({ 'webhook:unavailable': 4 }, now);
    await buffered.flush();
    assert.equal((await series.read('hour', now)).at(-1)?.counts['webhook:unavailable'], 4);
    await buffered.flush();
    assert.equal(writes, 3, 'an empty flush writes nothing');
  });
});
