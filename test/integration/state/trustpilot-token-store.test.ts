/**
 * The Redis Trustpilot token store against a real redis-server: encryption at rest, key rotation,
 * TTL, and the renewal lock between two connections.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { TrustpilotClientError } from '../../../src/clients/trustpilot/trustpilot-client-error.js';
import type { StoredTrustpilotToken, TrustpilotTokenStore } from '../../../src/clients/trustpilot/token-store.js';
import { createRedisTokenStore } from '../../../src/state/trustpilot-token-store.js';
import { startRedisServer, type RedisServerHandle } from '../../helpers/redis-server.js';
import { waitUntil } from '../../helpers/wait.js';

let server: RedisServerHandle;
let redisA: Redis;
let redisB: Redis;

const KEY_A = randomBytes(32);
const KEY_B = randomBytes(32);
const HOUR = 3_600_000;

const prefix = () => `tp-test-${randomBytes(4).toString('hex')}`;
const tokenKey = (p: string) => `${p}:trustpilot-token:global:token`;
const token = (overrides: Partial<StoredTrustpilotToken> = {}): StoredTrustpilotToken => ({
  accessToken: `access-${randomBytes(8).toString('hex')}`,
  refreshToken: `refresh-${randomBytes(8).toString('hex')}`,
  expiresAt: Date.now() + HOUR,
  ...overrides,
});

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

describe('creation', () => {
  test('refuses to be created without an encryption key, or with a key that is not 32 bytes', () => {
    assert.throws(() => createRedisTokenStore(redisA, 'p', []), (error: unknown) => error instanceof TrustpilotClientError && error.code === 'TRUSTPILOT_TOKEN_STORE_KEY' && /ENCRYPTION_KEY/.test(error.message));
    assert.throws(() => createRedisTokenStore(redisA, 'p', [KEY_A, randomBytes(16)]), /32 bytes/);
  });
});

describe('encryption at rest', () => {
  test('round trip; the stored value holds neither token in clear; TTL follows the expiry', async () => {
    const p = prefix();
    const store = createRedisTokenStore(redisA, p, [KEY_A]);
    const stored = token({ expiresAt: Date.now() + 120_000 });
    await store.set(stored);
    assert.deepEqual(await store.get(), stored);

    const raw = await redisA.get(tokenKey(p));
    assert.ok(raw !== null);
    assert.ok(!raw.includes(stored.accessToken) && !raw.includes(stored.refreshToken ?? '-'), raw);
    assert.ok(!Buffer.from(raw.split('.')[2] ?? '', 'base64url').toString('utf8').includes('access-'), 'the body is not merely encoded');
    const ttl = await redisA.pttl(tokenKey(p));
    assert.ok(ttl > 110_000 && ttl <= 120_000, `ttl ${ttl}`);

    const again = await redisA.get(tokenKey(p));
    await store.set(stored);
    assert.notEqual(await redisA.get(tokenKey(p)), again, 'a fresh IV per write');
  });

  test('key rotation: written with A, read with [B, A]; rewritten with B; A alone or B alone cannot read the other', async () => {
    const p = prefix();
    const oldStore = createRedisTokenStore(redisA, p, [KEY_A]);
    const rotated = createRedisTokenStore(redisB, p, [KEY_B, KEY_A]);
    const onlyB = createRedisTokenStore(redisB, p, [KEY_B]);
    const first = token();
    await oldStore.set(first);
    assert.deepEqual(await rotated.get(), first);
    assert.equal(await onlyB.get(), undefined, 'unreadable is absent: the client grants anew');

    const second = token();
    await rotated.set(second);
    assert.deepEqual(await onlyB.get(), second);
    assert.equal(await oldStore.get(), undefined);
  });

  test('a tampered or foreign value, or one copied under another prefix, reads as absent', async () => {
    const p = prefix();
    const store = createRedisTokenStore(redisA, p, [KEY_A]);
    await store.set(token());
    const raw = (await redisA.get(tokenKey(p))) ?? '';
    const parts = raw.split('.');
    const body = Buffer.from(parts[2] ?? '', 'base64url');
    body[0] = (body[0] ?? 0) ^ 1;
    await redisA.set(tokenKey(p), [parts[0], parts[1], body.toString('base64url'), parts[3]].join('.'));
    assert.equal(await store.get(), undefined);
    await redisA.set(tokenKey(p), '{"accessToken":"plain","expiresAt":1}');
    assert.equal(await store.get(), undefined);

    const other = prefix();
    await createRedisTokenStore(redisA, other, [KEY_A]).set(token());
    await redisA.set(tokenKey(p), (await redisA.get(tokenKey(other))) ?? '');
    assert.equal(await store.get(), undefined, 'the key name is authenticated');
  });

  test('an already expired token is not stored; clear removes the token', async () => {
    const p = prefix();
    const store = createRedisTokenStore(redisA, p, [KEY_A]);
    await store.set(token());
    await store.set(token({ expiresAt: Date.now() - 1 }));
    assert.equal(await redisA.exists(tokenKey(p)), 0);
    await store.set(token());
    await store.clear();
    assert.equal(await store.get(), undefined);
  });
});

describe('lock', () => {
  test('two stores on two connections never hold the lock together', async () => {
    const p = prefix();
    const one = createRedisTokenStore(redisA, p, [KEY_A], { lockPollMs: 10 });
    const two = createRedisTokenStore(redisB, p, [KEY_A], { lockPollMs: 10 });
    let inside = 0;
    let maxInside = 0;
    const holder = (store: TrustpilotTokenStore, label: string) =>
      store.withLock(async () => {
        inside += 1;
        maxInside = Math.max(maxInside, inside);
        await new Promise((resolve) => setTimeout(resolve, 30));
        inside -= 1;
        return label;
      });
    const results = await Promise.all([holder(one, 'a1'), holder(two, 'b1'), holder(one, 'a2'), holder(two, 'b2')]);
    assert.deepEqual(results, ['a1', 'b1', 'a2', 'b2']);
    assert.equal(maxInside, 1);
    assert.equal(await redisA.exists(`${p}:trustpilot-token:global:lock`), 0, 'released');
  });

  test('concurrent renewals with the double-checked read spend the refresh token once', async () => {
    const p = prefix();
    const one = createRedisTokenStore(redisA, p, [KEY_A], { lockPollMs: 5 });
    const two = createRedisTokenStore(redisB, p, [KEY_B, KEY_A], { lockPollMs: 5 });
    let grants = 0;
    // What the client does: under the lock, re-read, and only renew when nobody else has.
    const renew = (store: TrustpilotTokenStore) =>
      store.withLock(async () => {
        const current = await store.get();
        if (current !== undefined) return current.accessToken;
        grants += 1;
        await new Promise((resolve) => setTimeout(resolve, 50));
        const next = token({ accessToken: `granted-${grants}` });
        await store.set(next);
        return next.accessToken;
      });
    const tokens = await Promise.all([renew(one), renew(two), renew(one), renew(two)]);
    assert.equal(grants, 1);
    assert.deepEqual(new Set(tokens), new Set(['granted-1']));
  });

  test('a holder whose lease expired does not release the next holder\'s lock', async () => {
    const p = prefix();
    const lockKey = `${p}:trustpilot-token:global:lock`;
    const slow = createRedisTokenStore(redisA, p, [KEY_A], { lockTtlMs: 100, lockPollMs: 5 });
    const next = createRedisTokenStore(redisB, p, [KEY_A], { lockTtlMs: 5_000, lockPollMs: 5 });
    let finishSlow!: () => void;
    const slowGate = new Promise<void>((resolve) => (finishSlow = resolve));
    let slowStarted = false;
    const slowRun = slow.withLock(async () => {
      slowStarted = true;
      await slowGate;
    });
    await waitUntil(() => slowStarted, 'the slow holder');
    let nextInside = false;
    let finishNext!: () => void;
    const nextGate = new Promise<void>((resolve) => (finishNext = resolve));
    const nextRun = next.withLock(async () => {
      nextInside = true;
      await nextGate;
    });
    await waitUntil(() => nextInside, 'the next holder after the lease expired');
    finishSlow();
    await slowRun;
    assert.equal(await redisA.exists(lockKey), 1, 'the slow holder left the new lock alone');
    finishNext();
    await nextRun;
    assert.equal(await redisA.exists(lockKey), 0);
  });

  test('waiting past the deadline fails with TRUSTPILOT_TOKEN_LOCK_TIMEOUT; a failing holder releases the lock', async () => {
    const p = prefix();
    const holderStore = createRedisTokenStore(redisA, p, [KEY_A]);
    const waiter = createRedisTokenStore(redisB, p, [KEY_A], { lockWaitMs: 150, lockPollMs: 10 });
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let holding = false;
    const held = holderStore.withLock(async () => {
      holding = true;
      await gate;
    });
    await waitUntil(() => holding, 'the holder');
    await assert.rejects(
      waiter.withLock(async () => 'never'),
      (error: unknown) => error instanceof TrustpilotClientError && error.code === 'TRUSTPILOT_TOKEN_LOCK_TIMEOUT',
    );
    release();
    await held;

    await assert.rejects(holderStore.withLock(async () => Promise.reject(new Error('renewal failed'))), /renewal failed/);
    assert.equal(await waiter.withLock(async () => 'free again'), 'free again');
  });
});
