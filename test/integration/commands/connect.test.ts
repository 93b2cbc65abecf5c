/** `ghl-bridge connect` as a child process against a real Redis: set from flags and stdin, validation, remove. */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { Redis } from 'ioredis';
import { createLocationConnectionStore } from '../../../src/state/location-connections.js';
import { startRedisServer, type RedisServerHandle } from '../../helpers/redis-server.js';
import { runCli } from './run-cli.js';

let redis: RedisServerHandle;
let client: Redis;
before(async () => {
  redis = await startRedisServer();
  client = new Redis(redis.url);
});
after(async () => {
  client.disconnect();
  await redis.close();
});

const key = randomBytes(32);
const envFor = (prefix: string) => ({ REDIS_URL: redis.url, REDIS_PREFIX: prefix, ENCRYPTION_KEY: key.toString('base64'), LOG_LEVEL: 'warn' });

test('connect trustpilot reads secrets from stdin, stores them encrypted and prints them masked', async () => {
  const prefix = `cn${randomBytes(4).toString('hex')}`;
  const stdin = 'api-key=tp-key-cli-00001111\napi-secret=tp-secret-cli-0002222\n# a comment\npassword=tp-password-cli-3333\n';
  const result = await runCli(['connect', 'trustpilot', '--location', 'locCli0001', '--business-unit', 'bu-cli-0001', '--username', 'cli@example.com', '--stdin'], envFor(prefix), 90_000, stdin);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /connected locCli0001 to its own Trustpilot business unit/);
  assert.match(result.stdout, /apiSecret: \*\*\*\*2222/);
  assert.match(result.stdout, /webhook URL: \/webhooks\/trustpilot\?location=locCli0001/);
  for (const secret of ['tp-key-cli-00001111', 'tp-secret-cli-0002222', 'tp-password-cli-3333']) assert.ok(!result.stdout.includes(secret) && !result.stderr.includes(secret));
  assert.deepEqual(await createLocationConnectionStore(client, prefix, [key]).get('trustpilot', 'locCli0001'), {
    businessUnitId: 'bu-cli-0001',
    apiKey: 'tp-key-cli-00001111',
    apiSecret: 'tp-secret-cli-0002222',
    username: 'cli@example.com',
    password: 'tp-password-cli-3333',
  });
});

test('connect opinionstage: invalid fields are named (never echoed), exit 2; then set and remove', async () => {
  const prefix = `cn${randomBytes(4).toString('hex')}`;
  const store = createLocationConnectionStore(client, prefix, [key]);
  const short = await runCli(['connect', 'opinionstage', '--location', 'locCli0002', '--items', 'a,b', '--api-key', 'os-key-cli-0001', '--webhook-secret', 'tooshort'], envFor(prefix));
  assert.equal(short.code, 2);
  assert.match(short.stderr, /webhook-secret: /);
  assert.ok(!short.stderr.includes('tooshort'));
  assert.equal(await store.get('opinionstage', 'locCli0002'), undefined);

  const set = await runCli(['connect', 'opinionstage', '--location', 'locCli0002', '--items', 'a, b', '--stdin'], envFor(prefix), 90_000, 'api-key=os-key-cli-0001\nwebhook-secret=os-webhook-cli-000000001\n');
  assert.equal(set.code, 0, set.stderr);
  assert.deepEqual((await store.get('opinionstage', 'locCli0002'))?.itemIds, ['a', 'b']);

  const removed = await runCli(['connect', 'opinionstage', '--location', 'locCli0002', '--remove'], envFor(prefix));
  assert.equal(removed.code, 0, removed.stderr);
  assert.equal(await store.get('opinionstage', 'locCli0002'), undefined);
  const again = await runCli(['connect', 'opinionstage', '--location', 'locCli0002', '--remove'], envFor(prefix));
  assert.equal(again.code, 1);
  assert.match(again.stderr, /has no opinionstage connection of its own/);
});

test('without a kind: usage and exit 2', async () => {
  const result = await runCli(['connect', '--location', 'locCli0003'], envFor('unused'));
  assert.equal(result.code, 2);
  assert.match(result.stderr, /usage: ghl-bridge connect trustpilot/);
});
