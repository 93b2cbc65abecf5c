/**
 * The Redis index of our business unit's reviews against a real redis-server: lookups by id,
 * referenceId and referral email (any case), the newest review per key, removal, the refresh state,
 * and the refresh lock between two connections.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { createReviewIndexStore, type IndexedReview, type ReviewIndexStore, type ReviewKey } from '../../../src/state/review-index.js';
import { startRedisServer, type RedisServerHandle } from '../../helpers/redis-server.js';
import { waitUntil } from '../../helpers/wait.js';

let server: RedisServerHandle;
let redisA: Redis;
let redisB: Redis;

const BU = 'bu_index_test';
const freshStore = (redis: Redis = redisA, prefix = `ri-test-${randomBytes(4).toString('hex')}`): ReviewIndexStore => createReviewIndexStore(redis, prefix, BU);

/** The review one key leads to, through the store's only read. */
async function find(store: ReviewIndexStore, kind: ReviewKey, value: string) {
  return (await store.lookup([{ kind, value }])).review;
}

function review(id: string, createdAt: string, keys: { referenceId?: string; referralEmail?: string } = {}, stars = 4): IndexedReview {
  return {
    facts: { id, stars, title: `Title ${id}`, text: `Text ${id}`, createdAt, url: `https://www.trustpilot.com/reviews/${id}` },
    createdAtMs: Date.parse(createdAt),
    ...keys,
  };
}

before(async () => {
  server = await startRedisServer();
  redisA = new Redis(server.url);
  redisB = new Redis(server.url);
});

after(async () => {
  await redisA.quit();
  await redisB.quit();
  await server.close();
});

describe('lookups', () => {
  test('finds a review by id, by referenceId and by referral email whatever its case; unknown keys miss', async () => {
    const store = freshStore();
    await store.upsert([review('r1', '2026-01-01T10:00:00.000Z', { referenceId: 'contact-1', referralEmail: 'Ann@Example.COM' })]);
    assert.equal((await find(store, 'reviewId', 'r1'))?.id, 'r1');
    assert.equal((await find(store, 'referenceId', 'contact-1'))?.id, 'r1');
    assert.equal((await find(store, 'email', 'ann@example.com'))?.id, 'r1');
    assert.equal((await find(store, 'email', '  ANN@example.com '))?.id, 'r1');
    assert.equal(await find(store, 'referenceId', 'CONTACT-1'), undefined, 'referenceId is exact');
    assert.equal(await find(store, 'reviewId', 'r2'), undefined);
    assert.equal(await find(store, 'email', 'bob@example.com'), undefined);
    assert.equal(await find(store, 'email', ''), undefined);
  });

  test('lookup: the index state and the first key with a review, keys in order, empty ones skipped', async () => {
    const store = freshStore();
    await store.upsert([
      review('by-ref', '2026-01-01T10:00:00.000Z', { referenceId: 'contact-1' }),
      review('by-mail', '2026-01-02T10:00:00.000Z', { referralEmail: 'ann@example.com' }),
    ]);
    await store.commit({ highWater: 5, complete: true, refreshedAt: 7, listedAt: 6 });
    const both = await store.lookup([{ kind: 'email', value: ' ' }, { kind: 'referenceId', value: 'contact-1' }, { kind: 'email', value: 'ANN@example.com' }]);
    assert.equal(both.review?.id, 'by-ref', 'the first key that has one');
    assert.deepEqual({ complete: both.meta.complete, ok: both.meta.ok, listedAt: both.meta.listedAt, highWater: both.meta.highWater }, { complete: true, ok: true, listedAt: 6, highWater: 5 });
    assert.equal((await store.lookup([{ kind: 'referenceId', value: 'nobody' }, { kind: 'email', value: 'ann@example.com' }])).review?.id, 'by-mail');
    assert.equal((await store.lookup([{ kind: 'reviewId', value: 'by-mail' }])).review?.id, 'by-mail');
    const miss = await store.lookup([{ kind: 'referenceId', value: 'nobody' }]);
    assert.equal(miss.review, undefined);
    assert.equal(miss.meta.listedAt, 6);
    const empty = await freshStore().lookup([]);
    assert.deepEqual({ review: empty.review, complete: empty.meta.complete, listedAt: empty.meta.listedAt }, { review: undefined, complete: false, listedAt: undefined });
  });

  test('the newest review wins for a key, whatever the order it was indexed in; an update replaces the facts', async () => {
    const store = freshStore();
    await store.upsert([review('new', '2026-02-01T00:00:00.000Z', { referralEmail: 'x@example.com' })]);
    await store.upsert([review('old', '2026-01-01T00:00:00.000Z', { referralEmail: 'X@example.com', referenceId: 'c1' })]);
    assert.equal((await find(store, 'email', 'x@example.com'))?.id, 'new');
    assert.equal((await find(store, 'referenceId', 'c1'))?.id, 'old');
    await store.upsert([review('new', '2026-02-01T00:00:00.000Z', { referralEmail: 'x@example.com' }, 1)]);
    const found = await find(store, 'email', 'x@example.com');
    assert.equal(found?.id, 'new');
    assert.equal(found?.stars, 1);
  });

  test('removing the newest review makes the next newest the answer; removing the last clears the key', async () => {
    const store = freshStore();
    await store.upsert([
      review('a', '2026-01-01T00:00:00.000Z', { referralEmail: 'y@example.com', referenceId: 'c2' }),
      review('b', '2026-01-02T00:00:00.000Z', { referralEmail: 'y@example.com' }),
    ]);
    await store.remove('b');
    assert.equal((await find(store, 'email', 'y@example.com'))?.id, 'a');
    assert.equal(await find(store, 'reviewId', 'b'), undefined);
    await store.remove('a');
    assert.equal(await find(store, 'email', 'y@example.com'), undefined);
    assert.equal(await find(store, 'referenceId', 'c2'), undefined);
    await store.remove('never-indexed');
  });

  test('a review whose referral email changes is no longer found under the old one', async () => {
    const store = freshStore();
    await store.upsert([review('m', '2026-01-01T00:00:00.000Z', { referralEmail: 'before@example.com' })]);
    await store.upsert([review('m', '2026-01-01T00:00:00.000Z', { referralEmail: 'after@example.com' })]);
    assert.equal(await find(store, 'email', 'before@example.com'), undefined);
    assert.equal((await find(store, 'email', 'after@example.com'))?.id, 'm');
  });

  test('a damaged entry is a miss, not an error', async () => {
    const prefix = `ri-test-${randomBytes(4).toString('hex')}`;
    const store = freshStore(redisA, prefix);
    await store.upsert([review('d', '2026-01-01T00:00:00.000Z', { referenceId: 'c3' })]);
    await redisA.hset(`${prefix}:tp-review-index:${BU}:reviews`, 'd', '{"not":"an entry"}');
    assert.equal(await find(store, 'referenceId', 'c3'), undefined);
    assert.equal(await find(store, 'reviewId', 'd'), undefined);
  });

  test('indexes are per prefix and business unit', async () => {
    const prefix = `ri-test-${randomBytes(4).toString('hex')}`;
    await createReviewIndexStore(redisA, prefix, 'bu_one').upsert([review('p', '2026-01-01T00:00:00.000Z', { referenceId: 'c4' })]);
    assert.equal(await find(createReviewIndexStore(redisA, prefix, 'bu_two'), 'referenceId', 'c4'), undefined);
    assert.equal(await find(freshStore(), 'referenceId', 'c4'), undefined);
  });
});

describe('refresh state', () => {
  test('starts empty; a commit records mark, completeness, listing start and times; a failure clears ok only; routing starts once', async () => {
    const store = freshStore();
    assert.deepEqual(await store.meta(), { highWater: undefined, complete: false, ok: false, refreshedAt: undefined, listedAt: undefined, routeSince: undefined, attemptedAt: undefined, scannedAt: undefined });
    await store.markAttempt(1_000);
    await store.commit({ highWater: 900, complete: true, refreshedAt: 1_100, listedAt: 1_000, scannedAt: 1_000 });
    assert.deepEqual(await store.meta(), { highWater: 900, complete: true, ok: true, refreshedAt: 1_100, listedAt: 1_000, routeSince: undefined, attemptedAt: 1_000, scannedAt: 1_000 });
    await store.markAttempt(2_000);
    await store.markFailed();
    assert.deepEqual(await store.meta(), { highWater: 900, complete: true, ok: false, refreshedAt: 1_100, listedAt: 1_000, routeSince: undefined, attemptedAt: 2_000, scannedAt: 1_000 });
    // A later commit without a scan keeps the last scan time.
    await store.commit({ highWater: 950, complete: false, refreshedAt: 3_000 });
    assert.deepEqual(await store.meta(), { highWater: 950, complete: false, ok: true, refreshedAt: 3_000, listedAt: 1_000, routeSince: undefined, attemptedAt: 2_000, scannedAt: 1_000 });
    await store.startRouting(5_000);
    await store.startRouting(6_000);
    assert.equal((await store.meta()).routeSince, 5_000, 'the first start stays');
  });

  test('routed versions: unknown ids answer undefined; a mark replaces the previous version', async () => {
    const store = freshStore();
    assert.deepEqual(await store.routedVersions([]), []);
    assert.deepEqual(await store.routedVersions(['r1', 'r2']), [undefined, undefined]);
    await store.markRouted([{ reviewId: 'r1', version: 'v1' }]);
    await store.markRouted([{ reviewId: 'r1', version: 'v2' }, { reviewId: 'r2', version: 'v1' }]);
    assert.deepEqual(await store.routedVersions(['r1', 'r2', 'r3']), ['v2', 'v1', undefined]);
  });
});

describe('refresh lock', () => {
  test('one holder at a time across connections; only the holder releases it; the lease expires', async () => {
    const prefix = `ri-test-${randomBytes(4).toString('hex')}`;
    const a = freshStore(redisA, prefix);
    const b = freshStore(redisB, prefix);
    const token = await a.tryLock(10_000);
    assert.ok(token);
    assert.equal(await b.tryLock(10_000), undefined);
    assert.equal(await b.isLocked(), true);
    await b.releaseLock('not-the-token');
    assert.equal(await a.isLocked(), true, 'a wrong token does not release');
    await a.releaseLock(token);
    assert.equal(await b.isLocked(), false);
    const short = await b.tryLock(50);
    assert.ok(short);
    await waitUntil(async () => !(await a.isLocked()), 'the 50 ms lease to expire', 10_000, 20);
    assert.ok(await a.tryLock(1_000));
  });
});
