/** `ghl-bridge rotate-keys`: stored OAuth tokens move to the first key, so the old key can be dropped. */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { Redis } from 'ioredis';
import { createLocationConnectionStore } from '../../../src/state/location-connections.js';
import { createOAuthTokenStore } from '../../../src/state/oauth-token-store.js';
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

test('re-encrypts every stored token with the first key; then the old key is no longer needed', async () => {
  const prefix = `t${randomBytes(4).toString('hex')}`;
  const oldKey = randomBytes(32);
  const newKey = randomBytes(32);
  const token = { accessToken: 'access-rotate-0001', refreshToken: 'refresh-rotate-0001', expiresAt: Date.now() + 3_600_000, userType: 'Location' as const };
  await createOAuthTokenStore({ redis: client, prefix, encryptionKeys: [oldKey] }).set('locRotate0000000001', token);
  const connection = { apiKey: 'os-key-rotate-0001', itemIds: ['item-rotate'], webhookSecret: 'os-webhook-rotate-00001' };
  await createLocationConnectionStore(client, prefix, [oldKey]).set('opinionstage', 'locRotate0000000001', connection);

  const result = await runCli(['rotate-keys'], {
    REDIS_URL: redis.url,
    REDIS_PREFIX: prefix,
    ENCRYPTION_KEY: `${newKey.toString('base64')},${oldKey.toString('base64')}`,
  });
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /re-encrypted 1 stored token/);
  const rotated = await createOAuthTokenStore({ redis: client, prefix, encryptionKeys: [newKey] }).get('locRotate0000000001');
  assert.equal(rotated?.accessToken, token.accessToken, 'readable with the new key alone');
  assert.ok(!result.stdout.includes(token.accessToken) && !result.stderr.includes(token.accessToken));
  assert.match(result.stdout, /re-encrypted 1 location connection/);
  assert.deepEqual(await createLocationConnectionStore(client, prefix, [newKey]).get('opinionstage', 'locRotate0000000001'), connection, 'connections too');
});

test('without ENCRYPTION_KEY it says so and exits 1', async () => {
  const result = await runCli(['rotate-keys'], { REDIS_URL: redis.url });
  assert.equal(result.code, 1);
  assert.match(result.stderr, /ENCRYPTION_KEY is not set/);
});
