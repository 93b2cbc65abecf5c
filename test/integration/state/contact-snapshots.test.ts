/**
 * The contact snapshot store against a real redis-server: newest observation wins (also against one
 * already taken), a snapshot is taken once, one observed before the bridge's own last contact write
 * (or during a write run that never finished) is refused, expiry, and a bad stored shape.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import type { ContactSnapshot } from '../../../src/domain/plan.js';
import { createContactSnapshots, judgeSnapshot, SNAPSHOT_CLOCK_SKEW_MS, snapshotTtlMs, WRITE_LEASE_MS } from '../../../src/state/contact-snapshots.js';
import { startRedisServer, type RedisServerHandle } from '../../helpers/redis-server.js';

const LOCATION = 'locSnapshots0001';
const TTL_MS = 60_000;

let server: RedisServerHandle;
let redis: Redis;

before(async () => {
  server = await startRedisServer();
  redis = new Redis(server.url, { maxRetriesPerRequest: 1 });
  redis.on('error', () => undefined);
});

after(async () => {
  await redis.quit();
  await server.close();
});

function contact(id: string, firstName: string, tags: string[] = []): ContactSnapshot {
  return { id, locationId: LOCATION, firstName, email: `${id}@example.com`, tags, customFields: [{ id: 'cf1', value: firstName }] };
}

/** A store on its own prefix with a clock the test moves. */
function store() {
  const clock = { now: 1_800_000_000_000 };
  const prefix = `test-${randomUUID().slice(0, 8)}`;
  return { clock, prefix, snapshots: createContactSnapshots(redis, prefix, { ttlMs: TTL_MS, now: () => clock.now }) };
}

describe('contact snapshots', () => {
  test('the newest observation wins, whatever order the puts come in', async () => {
    const { clock, snapshots } = store();
    assert.equal(await snapshots.put(contact('c1', 'second'), clock.now - 100, 'webhook'), true);
    assert.equal(await snapshots.put(contact('c1', 'first'), clock.now - 200, 'webhook'), false, 'an older observation is refused');
    assert.equal(await snapshots.put(contact('c1', 'third', ['vip']), clock.now - 50, 'search'), true);
    const taken = await snapshots.take(LOCATION, 'c1');
    assert.ok(taken.snapshot);
    assert.equal(taken.snapshot.firstName, 'third');
    assert.deepEqual(taken.snapshot.tags, ['vip']);
    assert.equal(taken.source, 'search');
    assert.equal(taken.observedAt, clock.now - 50);
  });

  test('a snapshot is taken once; an older one arriving after the take is not stored', async () => {
    const { clock, snapshots } = store();
    await snapshots.put(contact('c2', 'latest'), clock.now - 100, 'webhook');
    assert.equal((await snapshots.take(LOCATION, 'c2')).snapshot?.firstName, 'latest');
    assert.deepEqual(await snapshots.take(LOCATION, 'c2'), { snapshot: undefined, reason: 'none' });
    // Processed late (router concurrency, a redelivery): must not be planned from.
    assert.equal(await snapshots.put(contact('c2', 'older'), clock.now - 500, 'webhook'), false);
    assert.deepEqual(await snapshots.take(LOCATION, 'c2'), { snapshot: undefined, reason: 'none' });
    assert.equal(await snapshots.put(contact('c2', 'newer'), clock.now - 10, 'webhook'), true);
    assert.equal((await snapshots.take(LOCATION, 'c2')).snapshot?.firstName, 'newer');
  });

  test('contacts and locations do not share snapshots', async () => {
    const { clock, snapshots } = store();
    await snapshots.put(contact('c3', 'three'), clock.now, 'webhook');
    assert.deepEqual(await snapshots.take(LOCATION, 'c4'), { snapshot: undefined, reason: 'none' });
    assert.deepEqual(await snapshots.take('locOther0001', 'c3'), { snapshot: undefined, reason: 'none' });
    assert.equal((await snapshots.take(LOCATION, 'c3')).snapshot?.firstName, 'three');
  });

  test("a snapshot observed before the bridge's last contact write is refused (and consumed)", async () => {
    const { clock, snapshots } = store();
    const observed = clock.now;
    await snapshots.put(contact('c5', 'before-write'), observed, 'webhook');
    clock.now += 50;
    await snapshots.writeStarted(LOCATION, 'c5');
    clock.now += 20;
    await snapshots.writeFinished(LOCATION, 'c5');
    assert.deepEqual(await snapshots.take(LOCATION, 'c5'), { snapshot: undefined, reason: 'stale' });
    assert.deepEqual(await snapshots.take(LOCATION, 'c5'), { snapshot: undefined, reason: 'none' }, 'refused means gone too');
    // Within the clock-skew allowance after the write: still refused.
    await snapshots.put(contact('c5', 'just-after'), clock.now + SNAPSHOT_CLOCK_SKEW_MS - 1, 'webhook');
    clock.now += SNAPSHOT_CLOCK_SKEW_MS + 10;
    assert.equal((await snapshots.take(LOCATION, 'c5')).snapshot, undefined);
    // Clearly after the write: used.
    await snapshots.put(contact('c5', 'after-write'), clock.now, 'webhook');
    assert.equal((await snapshots.take(LOCATION, 'c5')).snapshot?.firstName, 'after-write');
  });

  test('a write run that started and never finished makes snapshots stale for its lease', async () => {
    const { clock, snapshots } = store();
    await snapshots.writeStarted(LOCATION, 'c6');
    clock.now += 1_000;
    await snapshots.put(contact('c6', 'mid-run'), clock.now, 'webhook');
    assert.deepEqual(await snapshots.take(LOCATION, 'c6'), { snapshot: undefined, reason: 'stale' });
    clock.now += WRITE_LEASE_MS;
    await snapshots.put(contact('c6', 'after-lease'), clock.now, 'webhook');
    assert.equal((await snapshots.take(LOCATION, 'c6')).snapshot?.firstName, 'after-lease');
  });

  test('write marks only move forward', async () => {
    const { clock, snapshots } = store();
    await snapshots.writeStarted(LOCATION, 'c7');
    await snapshots.writeFinished(LOCATION, 'c7');
    const finishedAt = clock.now;
    clock.now -= 10_000; // a second process with a slower clock
    await snapshots.writeFinished(LOCATION, 'c7');
    clock.now = finishedAt + 100;
    await snapshots.put(contact('c7', 'close-after'), finishedAt + 100, 'webhook');
    assert.equal((await snapshots.take(LOCATION, 'c7')).snapshot, undefined, 'the later finish still counts');
  });

  test('an observation older than the store keeps snapshots is expired; keys carry a TTL', async () => {
    const { clock, prefix, snapshots } = store();
    await snapshots.put(contact('c8', 'old'), clock.now - TTL_MS - 6 * 60_000, 'webhook');
    assert.deepEqual(await snapshots.take(LOCATION, 'c8'), { snapshot: undefined, reason: 'expired' });
    await snapshots.put(contact('c9', 'kept'), clock.now, 'webhook');
    const ttl = await redis.pttl(`${prefix}:contact-snapshot:${LOCATION}:c9`);
    assert.ok(ttl > 0 && ttl <= TTL_MS, `ttl ${ttl}`);
    await snapshots.writeFinished(LOCATION, 'c9');
    assert.ok((await redis.pttl(`${prefix}:contact-snapshot:${LOCATION}:c9`)) > TTL_MS, 'write marks outlive any snapshot');
  });

  test('forget drops the snapshot; a stored shape that no longer validates is no snapshot', async () => {
    const { clock, prefix, snapshots } = store();
    await snapshots.put(contact('c10', 'deleted'), clock.now, 'webhook');
    await snapshots.forget(LOCATION, 'c10');
    assert.deepEqual(await snapshots.take(LOCATION, 'c10'), { snapshot: undefined, reason: 'none' });
    await redis.hset(`${prefix}:contact-snapshot:${LOCATION}:c11`, 'at', String(clock.now), 'data', JSON.stringify({ source: 'webhook', contact: { id: 'c11' } }));
    assert.deepEqual(await snapshots.take(LOCATION, 'c11'), { snapshot: undefined, reason: 'none' });
    await redis.hset(`${prefix}:contact-snapshot:${LOCATION}:c12`, 'at', String(clock.now), 'data', 'not json');
    assert.deepEqual(await snapshots.take(LOCATION, 'c12'), { snapshot: undefined, reason: 'none' });
  });
});

describe('judgeSnapshot', () => {
  const now = 1_800_000_000_000;
  const maxAge = 60_000;
  test('fresh without any write mark', () => assert.equal(judgeSnapshot(now - 10, {}, now, maxAge), 'fresh'));
  test('stale before a finished write and within the skew after it', () => {
    assert.equal(judgeSnapshot(now - 1_000, { started: now - 600, finished: now - 500 }, now, maxAge), 'stale');
    assert.equal(judgeSnapshot(now - 500 + SNAPSHOT_CLOCK_SKEW_MS - 1, { started: now - 600, finished: now - 500 }, now + 5_000, maxAge), 'stale');
    assert.equal(judgeSnapshot(now - 500 + SNAPSHOT_CLOCK_SKEW_MS, { started: now - 600, finished: now - 500 }, now + 5_000, maxAge), 'fresh');
  });
  test('stale while an unfinished run is within its lease', () => {
    assert.equal(judgeSnapshot(now, { started: now - 1_000, finished: now - 5_000 }, now, maxAge), 'stale');
    assert.equal(judgeSnapshot(now, { started: now - WRITE_LEASE_MS - 1 }, now, WRITE_LEASE_MS * 2), 'fresh');
  });
  test('expired past the maximum age, or when the time is not a number', () => {
    assert.equal(judgeSnapshot(now - maxAge - 1, {}, now, maxAge), 'expired');
    assert.equal(judgeSnapshot(Number.NaN, {}, now, maxAge), 'expired');
  });
  test('the TTL grows with the coalesce window', () => {
    assert.ok(snapshotTtlMs(2_000) > snapshotTtlMs(0));
    assert.ok(snapshotTtlMs(0) >= 60_000);
  });
});
