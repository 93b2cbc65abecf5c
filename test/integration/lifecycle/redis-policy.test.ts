/**
 * Issue 7: the bridge refuses a Redis that may evict jobs, warns when AOF is off, and tolerates a
 * managed Redis that hides its settings. Checked against real redis-server processes: the test
 * helper's (noeviction, AOF everysec), and ones started here with other settings.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { checkRedisPolicy, ensureRedisPolicy, RedisPolicyError } from '../../../src/lifecycle/redis-policy.js';
import { freePort, startRedisServer, type RedisServerHandle } from '../../helpers/redis-server.js';
import { waitUntil } from '../../helpers/wait.js';

let helper: RedisServerHandle;
const clients: Redis[] = [];
const servers: { child: ChildProcess; dir: string }[] = [];

before(async () => {
  helper = await startRedisServer();
});

after(async () => {
  await Promise.all(clients.map((client) => client.quit().catch(() => client.disconnect())));
  for (const server of servers) {
    if (server.child.exitCode === null && server.child.signalCode === null) {
      const gone = new Promise((resolve) => server.child.once('exit', resolve));
      server.child.kill('SIGTERM');
      await gone;
    }
    await rm(server.dir, { recursive: true, force: true });
  }
  await helper.close();
});

function connect(url: string, options: { username?: string; password?: string } = {}): Redis {
  const client = new Redis(url, { maxRetriesPerRequest: 1, ...options });
  client.on('error', () => undefined);
  clients.push(client);
  return client;
}

/** A redis-server with extra arguments, on a free port; stopped in `after`. */
async function spawnRedis(args: string[]): Promise<Redis> {
  const port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), 'ghl-bridge-policy-'));
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--loglevel', 'warning', ...args], {
    stdio: 'ignore',
  });
  servers.push({ child, dir });
  const client = connect(`redis://127.0.0.1:${port}`);
  await waitUntil(() => client.ping().then((answer) => answer === 'PONG', () => false), `redis-server ${args.join(' ')} to start`, 10_000, 50);
  return client;
}

describe('redis policy check', () => {
  test('the production settings pass without warnings', async () => {
    assert.deepEqual(await checkRedisPolicy(connect(helper.url)), { ok: true, warnings: [] });
    assert.deepEqual(await ensureRedisPolicy(connect(helper.url)), []);
  });

  test('an eviction policy is refused with one line naming the policy and the fix', async () => {
    const admin = connect(helper.url);
    await admin.config('SET', 'maxmemory-policy', 'allkeys-lru');
    try {
      const result = await checkRedisPolicy(admin);
      assert.equal(result.ok, false);
      assert.ok(!result.ok);
      assert.match(result.problem, /maxmemory-policy is "allkeys-lru"/);
      assert.match(result.problem, /CONFIG SET maxmemory-policy noeviction/);
      assert.doesNotMatch(result.problem, /\n/, 'one line');
      await assert.rejects(ensureRedisPolicy(admin), (error: unknown) => error instanceof RedisPolicyError && error.code === 'REDIS_EVICTION_POLICY' && error.message === result.problem);
    } finally {
      await admin.config('SET', 'maxmemory-policy', 'noeviction');
    }
  });

  test('a policy set at start-up is refused too, volatile ones included', async () => {
    const client = await spawnRedis(['--maxmemory-policy', 'volatile-lru', '--appendonly', 'no']);
    const result = await checkRedisPolicy(client);
    assert.ok(!result.ok);
    assert.match(result.problem, /"volatile-lru"/);
  });

  test('AOF off or without fsync: a warning, not a refusal', async () => {
    const admin = connect(helper.url);
    await admin.config('SET', 'appendfsync', 'no');
    try {
      const result = await checkRedisPolicy(admin);
      assert.ok(result.ok);
      assert.equal(result.warnings.length, 1);
      assert.match(result.warnings[0] ?? '', /appendfsync is "no"/);
    } finally {
      await admin.config('SET', 'appendfsync', 'everysec');
    }
    const noAof = await spawnRedis(['--maxmemory-policy', 'noeviction', '--appendonly', 'no']);
    const result = await checkRedisPolicy(noAof);
    assert.ok(result.ok);
    assert.equal(result.warnings.length, 1);
    assert.match(result.warnings[0] ?? '', /AOF is off/);
  });

  test('a managed Redis that refuses CONFIG (ACL or renamed command) passes with a warning', async () => {
    const admin = connect(helper.url);
    await admin.call('ACL', 'SETUSER', 'bridge', 'on', '>bridge-pass', '~*', '&*', '+@all', '-config');
    const limited = connect(helper.url, { username: 'bridge', password: 'bridge-pass' });
    const viaAcl = await checkRedisPolicy(limited);
    assert.ok(viaAcl.ok);
    assert.equal(viaAcl.warnings.length, 1);
    assert.match(viaAcl.warnings[0] ?? '', /CONFIG GET refused: NOPERM/);

    const renamed = await spawnRedis(['--rename-command', 'CONFIG', 'config-hidden-by-provider']);
    const viaRename = await checkRedisPolicy(renamed);
    assert.ok(viaRename.ok);
    assert.match(viaRename.warnings[0] ?? '', /CONFIG GET refused: ERR unknown command/);
  });

  test('other errors (Redis unreachable) are not mistaken for a refused CONFIG', async () => {
    const port = await freePort();
    const down = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    down.on('error', () => undefined);
    try {
      await assert.rejects(checkRedisPolicy(down), (error: unknown) => error instanceof Error && !(error instanceof RedisPolicyError));
    } finally {
      down.disconnect();
    }
  });
});
