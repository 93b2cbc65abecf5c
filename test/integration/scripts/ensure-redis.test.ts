/**
 * The Redis half of `npm start`: PING over RESP (with AUTH), redaction, and a local redis-server
 * started under a data folder, reused while it runs, and stopped with its AOF flushed.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { parseDotEnv } from '../../../scripts/lib/dotenv.mjs';
import { ensureRedis, ensureRedisBinary, pingClusterSeeds, pingRedis, redactRedisUrl, startLocalRedis } from '../../../scripts/lib/ensure-redis.mjs';
import { freePort, startRedisServer, type RedisServerHandle } from '../../helpers/redis-server.js';

const PASSWORD = 'pw-4f1c9e2b7d';

describe('pingRedis', () => {
  let server: RedisServerHandle;

  before(async () => {
    server = await startRedisServer();
  });

  after(async () => {
    await server.close();
  });

  test('PONG from a running server', async () => {
    assert.deepEqual(await pingRedis(server.url), { ok: true });
  });

  test('AUTH with the URL password; wrong or missing passwords fail without echoing them', async () => {
    const admin = new Redis(server.url);
    try {
      await admin.config('SET', 'requirepass', PASSWORD);
      const url = `redis://127.0.0.1:${server.port}`;
      assert.deepEqual(await pingRedis(`redis://:${PASSWORD}@127.0.0.1:${server.port}`), { ok: true });
      assert.deepEqual(await pingRedis(`redis://default:${PASSWORD}@127.0.0.1:${server.port}`), { ok: true });

      const missing = await pingRedis(url);
      assert.equal(missing.ok, false);
      assert.match(missing.ok ? '' : missing.reason, /NOAUTH/);

      const wrong = await pingRedis(`redis://:wrong-${PASSWORD}@127.0.0.1:${server.port}`);
      assert.equal(wrong.ok, false);
      assert.ok(!JSON.stringify(wrong).includes(PASSWORD));
    } finally {
      await admin.config('SET', 'requirepass', '').catch(() => undefined);
      admin.disconnect();
    }
  });

  test('REDIS_CLUSTER_NODES: one answering seed node is enough; none answering is reported per node', async () => {
    const closed = `127.0.0.1:${await freePort()}`;
    assert.deepEqual(await pingClusterSeeds(`${closed}, 127.0.0.1:${server.port}`), { ok: true, seeds: [closed, `127.0.0.1:${server.port}`] });
    const none = await pingClusterSeeds(closed);
    assert.equal(none.ok, false);
    assert.match(none.ok ? '' : none.reason, new RegExp(`^${closed}: `));
  });

  test('npm start with REDIS_CLUSTER_NODES set uses the cluster and starts no local Redis', async () => {
    const root = await mkdtemp(join(tmpdir(), 'ghl-bridge-start-cluster-'));
    const before = process.env.REDIS_CLUSTER_NODES;
    process.env.REDIS_CLUSTER_NODES = `127.0.0.1:${server.port}`;
    try {
      const redis = await ensureRedis(root);
      assert.equal(redis.url, undefined);
      assert.equal(redis.started, false);
      assert.equal(existsSync(join(root, '.data')), false);
    } finally {
      if (before === undefined) delete process.env.REDIS_CLUSTER_NODES;
      else process.env.REDIS_CLUSTER_NODES = before;
      await rm(root, { recursive: true, force: true });
    }
  });

  test('nothing listening, not a URL, or the wrong scheme', async () => {
    const closed = await pingRedis(`redis://127.0.0.1:${await freePort()}`);
    assert.equal(closed.ok, false);
    assert.deepEqual(await pingRedis('not a url'), { ok: false, reason: 'not a valid URL' });
    assert.equal((await pingRedis('http://127.0.0.1:6379')).ok, false);
  });
});

test('redactRedisUrl hides the password and keeps the rest', () => {
  assert.equal(redactRedisUrl(`redis://user:${PASSWORD}@cache.internal:6380/2`), 'redis://user:***@cache.internal:6380/2');
  assert.equal(redactRedisUrl('redis://127.0.0.1:6379'), 'redis://127.0.0.1:6379');
  assert.ok(!redactRedisUrl(`rediss://:${PASSWORD}@h`).includes(PASSWORD));
});

test('parseDotEnv: comments, export, quotes; the value after # only when unquoted', () => {
  const text = [
    '# comment',
    '',
    'REDIS_URL=redis://:p#w@127.0.0.1:6379',
    'export PORT=4000 # trailing comment',
    'ADMIN_TOKEN="quoted value # kept"',
    "VIEWER_TOKEN='single'",
    'EMPTY=',
    'not a line',
  ].join('\n');
  assert.deepEqual(parseDotEnv(text), {
    REDIS_URL: 'redis://:p#w@127.0.0.1:6379',
    PORT: '4000',
    ADMIN_TOKEN: 'quoted value # kept',
    VIEWER_TOKEN: 'single',
    EMPTY: '',
  });
});

describe('startLocalRedis', () => {
  let dataDir = '';

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'ghl-bridge-start-redis-'));
  });

  after(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  test('starts redis-server with AOF in the data folder, is reused while it runs, stops gracefully', async () => {
    const bin = ensureRedisBinary();
    assert.ok(bin, 'redis-server must be installed for this test');
    const redis = await startLocalRedis({ bin, dataDir });
    try {
      assert.equal(redis.started, true);
      assert.match(redis.url, /^redis:\/\/127\.0\.0\.1:\d+$/);
      assert.deepEqual(await pingRedis(redis.url), { ok: true });

      const client = new Redis(redis.url);
      try {
        assert.deepEqual(await client.call('CONFIG', 'GET', 'appendonly'), ['appendonly', 'yes']);
        assert.deepEqual(await client.call('CONFIG', 'GET', 'appendfsync'), ['appendfsync', 'everysec']);
        assert.deepEqual(await client.call('CONFIG', 'GET', 'maxmemory-policy'), ['maxmemory-policy', 'noeviction']);
        await client.set('ghl-bridge:test:durable', 'yes');
      } finally {
        client.disconnect();
      }

      const state: unknown = JSON.parse(await readFile(join(dataDir, 'server.json'), 'utf8'));
      assert.equal(typeof state === 'object' && state !== null && 'port' in state ? state.port : undefined, Number(new URL(redis.url).port));

      const again = await startLocalRedis({ bin, dataDir });
      assert.equal(again.started, false);
      assert.equal(again.url, redis.url);
      await again.stop();
      assert.deepEqual(await pingRedis(redis.url), { ok: true }, 'stopping a reused server must leave it running');
    } finally {
      await redis.stop();
    }
    assert.equal((await pingRedis(redis.url)).ok, false);
    assert.equal(existsSync(join(dataDir, 'server.json')), false);
    assert.equal(existsSync(join(dataDir, 'appendonlydir')), true);

    // The data survives: a new server on the same folder reads the AOF back.
    const restarted = await startLocalRedis({ bin, dataDir });
    const client = new Redis(restarted.url);
    try {
      assert.equal(await client.get('ghl-bridge:test:durable'), 'yes');
    } finally {
      client.disconnect();
      await restarted.stop();
    }
  });

  test('a binary that cannot start is reported, not waited on forever', async () => {
    await assert.rejects(startLocalRedis({ bin: join(dataDir, 'no-such-redis-server'), dataDir, readyTimeoutMs: 5_000 }), /redis-server did not start/);
  });
});
