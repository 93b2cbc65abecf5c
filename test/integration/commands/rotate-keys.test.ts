/**
 * `ghl-bridge rotate-keys`: stored OAuth tokens, location connections and Trustpilot tokens move to
 * the first key, so the old key can be dropped.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { Redis } from 'ioredis';
import { createTrustpilotClient } from '../../../src/clients/trustpilot/trustpilot-client.js';
import { startTrustpilotSimulator, type TrustpilotSimulator } from '../../../src/sandbox/trustpilot/simulator.js';
import { createLocationConnectionStore, type TrustpilotConnection } from '../../../src/state/location-connections.js';
import { createOAuthTokenStore } from '../../../src/state/oauth-token-store.js';
import { createRedisTokenStore, trustpilotTokenScope } from '../../../src/state/trustpilot-token-store.js';
import { startRedisServer, type RedisServerHandle } from '../../helpers/redis-server.js';
import { KEY, OWN_BU, PASSWORD, SECRET, TOKEN_PATH, USER } from '../../helpers/trustpilot-sim.js';
import { runCli } from './run-cli.js';

let redis: RedisServerHandle;
let client: Redis;
let sim: TrustpilotSimulator;
before(async () => {
  redis = await startRedisServer();
  client = new Redis(redis.url);
  sim = await startTrustpilotSimulator();
});
after(async () => {
  await sim.close();
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

test('a connection no key opens: the rest is re-encrypted, the location is named, exit 1', async () => {
  const prefix = `t${randomBytes(4).toString('hex')}`;
  const key = randomBytes(32);
  await createLocationConnectionStore(client, prefix, [randomBytes(32)]).set('opinionstage', 'locRotateLost0000001', { apiKey: 'os-key-rotate-lost-01', itemIds: ['item-lost'], webhookSecret: 'os-webhook-rotate-lost-01' });
  await createLocationConnectionStore(client, prefix, [key]).set('opinionstage', 'locRotateKept0000001', { apiKey: 'os-key-rotate-kept-01', itemIds: ['item-kept'], webhookSecret: 'os-webhook-rotate-kept-01' });
  const result = await runCli(['rotate-keys'], { REDIS_URL: redis.url, REDIS_PREFIX: prefix, ENCRYPTION_KEY: key.toString('base64') });
  assert.equal(result.code, 1, result.stdout);
  assert.match(result.stdout, /re-encrypted 1 location connection/);
  assert.match(result.stderr, /the opinionstage connection of location locRotateLost0000001 is opened by no ENCRYPTION_KEY/);
});

test('without ENCRYPTION_KEY it says so and exits 1', async () => {
  const result = await runCli(['rotate-keys'], { REDIS_URL: redis.url });
  assert.equal(result.code, 1);
  assert.match(result.stderr, /ENCRYPTION_KEY is not set/);
});

test("a location's Trustpilot connection and its token move to the new key: the connection works with it alone, the old key opens nothing", async () => {
  const prefix = `t${randomBytes(4).toString('hex')}`;
  const oldKey = randomBytes(32);
  const newKey = randomBytes(32);
  const locationId = 'locRotateTrustpilot01';
  const scope = trustpilotTokenScope(locationId);
  const connection: TrustpilotConnection = { businessUnitId: OWN_BU, apiKey: KEY, apiSecret: SECRET, username: USER, password: PASSWORD };
  await createLocationConnectionStore(client, prefix, [oldKey]).set('trustpilot', locationId, connection);
  // The location's client, as the service builds it from the stored connection, under the given keys.
  const connectedClient = async (keys: Buffer[]) => {
    const stored = await createLocationConnectionStore(client, prefix, keys).get('trustpilot', locationId);
    assert.ok(stored, 'the connection opens with these keys');
    return createTrustpilotClient({
      baseUrl: sim.url,
      apiKey: stored.apiKey,
      apiSecret: stored.apiSecret,
      username: stored.username,
      password: stored.password,
      timeoutMs: 10_000,
      budget: { take: async () => undefined },
      tokenStore: createRedisTokenStore(client, prefix, keys, { scope }),
    });
  };
  const tokenCalls = () => sim.calls.filter((call) => call.path.startsWith(TOKEN_PATH)).length;

  await (await connectedClient([oldKey])).listPrivateReviews(connection.businessUnitId, { perPage: 1, page: 1 });
  assert.equal(tokenCalls(), 1, 'one grant, stored under the old key');
  // The environment's token too (any valid token shape; nothing calls Trustpilot with it here).
  const globalToken = { accessToken: 'tp-global-access-rotate', refreshToken: 'tp-global-refresh-rotate', expiresAt: Date.now() + 3_600_000 };
  await createRedisTokenStore(client, prefix, [oldKey]).set(globalToken);

  const result = await runCli(['rotate-keys'], {
    REDIS_URL: redis.url,
    REDIS_PREFIX: prefix,
    ENCRYPTION_KEY: `${newKey.toString('base64')},${oldKey.toString('base64')}`,
  });
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /re-encrypted 1 location connection/);
  assert.match(result.stdout, /re-encrypted 2 Trustpilot tokens/);

  // With the new key alone: the connection opens, and its call uses the stored token (no new grant).
  await (await connectedClient([newKey])).listPrivateReviews(connection.businessUnitId, { perPage: 1, page: 1 });
  assert.equal(tokenCalls(), 1, 'the rotated token was read and used, not granted again');
  assert.deepEqual(await createRedisTokenStore(client, prefix, [newKey]).get(), globalToken);

  // With the old key alone: nothing opens any more.
  assert.equal(await createLocationConnectionStore(client, prefix, [oldKey]).get('trustpilot', locationId), undefined);
  assert.equal(await createRedisTokenStore(client, prefix, [oldKey], { scope }).get(), undefined);
  assert.equal(await createRedisTokenStore(client, prefix, [oldKey]).get(), undefined);
  for (const secret of [connection.password, connection.apiSecret, globalToken.accessToken]) assert.ok(!result.stdout.includes(secret) && !result.stderr.includes(secret));
});
