/**
 * What a new user sees: with no credentials, `ghl-bridge all` starts in sandbox mode, serves /health,
 * prints how to send a demo contact, and that demo contact goes through the whole flow.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, test } from 'node:test';
import { request } from 'undici';
import { waitFor } from '../helpers/bridge.js';
import { startRedisServer, type RedisServerHandle } from '../helpers/redis-server.js';

const MAIN = new URL('../../src/main.ts', import.meta.url).pathname;

let redis: RedisServerHandle;
before(async () => {
  redis = await startRedisServer();
});
after(async () => {
  await redis.close();
});

test('sandbox mode starts, explains itself, and runs the demo contact through the flow', async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'all'], {
    env: { PATH: process.env.PATH, REDIS_URL: redis.url, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn', COALESCE_WINDOW_MS: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    const bridgeUrl = await waitFor(() => /bridge:\s+(http:\/\/\S+)/.exec(stdout)?.[1], 20_000, `the sandbox banner (stderr: ${stderr})`);
    assert.match(stdout, /sandbox mode/);
    const demo = /curl -s -X POST (\S+) -H 'content-type: application\/json' -d '(\{.*\})'/.exec(stdout);
    assert.ok(demo?.[1] && demo[2], `a demo command is printed:\n${stdout}`);

    const health = await request(`${bridgeUrl}/health`);
    assert.deepEqual(await health.body.json(), { status: 'ok' });

    const created = await request(demo[1], { method: 'POST', headers: { 'content-type': 'application/json' }, body: demo[2] });
    assert.equal(created.statusCode, 201);
    const { contact } = (await created.body.json()) as { contact: { id: string } };
    const simulatorUrl = new URL(demo[1]).origin;
    await waitFor(
      async () => {
        const calls = (await (await request(`${simulatorUrl}/__sandbox/calls`)).body.json()) as { calls: { method: string; path: string }[] };
        return calls.calls.find((call) => call.method === 'GET' && call.path === `/contacts/${contact.id}`);
      },
      15_000,
      'the bridge to read the demo contact back',
    );
  } finally {
    child.kill('SIGTERM');
  }
  assert.equal(await exited, 0, `clean exit (stderr: ${stderr.slice(-500)})`);
});
