/**
 * Per-location connections against a real redis-server: sealed at rest, read back whole, masked for
 * people, re-encrypted by a rotation, deleted, and seen by a cached reader once its copy expires.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { Redis } from 'ioredis';
import {
  connectionBusinessUnitLocations,
  connectionItemLocations,
  createCachedConnections,
  createLocationConnectionStore,
  maskTrustpilotConnection,
  webhookSecretOf,
} from '../../../src/state/location-connections.js';
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

const prefix = () => `lc${randomBytes(4).toString('hex')}`;
const TP = { businessUnitId: 'bu-alpha-0001', apiKey: 'tp-key-alpha-00001234', apiSecret: 'tp-secret-alpha-0005678', username: 'alpha@example.com', password: 'tp-password-alpha-9999' };
const OS = { apiKey: 'os-key-alpha-000004321', itemIds: ['item-a', 'item-b'], webhookSecret: 'os-webhook-alpha-00008765' };

test('a connection is sealed at rest and read back whole', async () => {
  const p = prefix();
  const key = randomBytes(32);
  const store = createLocationConnectionStore(redis, p, [key]);
  await store.set('trustpilot', 'locAlpha', TP);
  await store.set('opinionstage', 'locAlpha', OS);
  const raw = await redis.get(`${p}:location-connection:locAlpha:trustpilot`);
  assert.ok(raw !== null);
  for (const secret of [TP.apiKey, TP.apiSecret, TP.password, TP.businessUnitId]) assert.ok(!raw.includes(secret), 'nothing readable in Redis');
  assert.deepEqual(await store.get('trustpilot', 'locAlpha'), TP);
  assert.deepEqual(await store.get('opinionstage', 'locAlpha'), OS);
  assert.equal(await store.get('opinionstage', 'locOther'), undefined);
  // Copied under another location's key, it does not open (the key name is authenticated).
  await redis.set(`${p}:location-connection:locBeta:trustpilot`, raw);
  await redis.sadd(`${p}:location-connection:all:trustpilot`, 'locBeta');
  assert.equal(await store.get('trustpilot', 'locBeta'), undefined);
  const all = await store.readAll();
  assert.deepEqual([...all.trustpilot.keys()], ['locAlpha']);
  assert.deepEqual(connectionItemLocations(all), new Map([['item-a', ['locAlpha']], ['item-b', ['locAlpha']]]));
  assert.deepEqual(connectionBusinessUnitLocations(all), new Map([['bu-alpha-0001', ['locAlpha']]]));
  assert.equal(webhookSecretOf(all, 'opinionstage', 'locAlpha'), OS.webhookSecret);
  assert.equal(webhookSecretOf(all, 'trustpilot', 'locAlpha'), TP.apiSecret, 'without its own webhook secret, the API secret authenticates');
  assert.equal(webhookSecretOf(all, 'trustpilot', 'locNone'), undefined);
});

test('masking shows at most the last 4 characters of each secret', () => {
  const masked = maskTrustpilotConnection(TP);
  assert.deepEqual(masked, { businessUnitId: TP.businessUnitId, apiKey: '****1234', apiSecret: '****5678', username: TP.username, password: '****9999', webhookSecret: null });
  assert.equal(maskTrustpilotConnection({ ...TP, apiKey: 'short' }).apiKey, '****');
});

test('rotation re-seals every connection with the first key; the old key is then not needed', async () => {
  const p = prefix();
  const oldKey = randomBytes(32);
  const newKey = randomBytes(32);
  await createLocationConnectionStore(redis, p, [oldKey]).set('trustpilot', 'locAlpha', TP);
  await createLocationConnectionStore(redis, p, [oldKey]).set('opinionstage', 'locBeta', OS);
  assert.equal(await createLocationConnectionStore(redis, p, [newKey, oldKey]).reencryptAll(), 2);
  const fresh = createLocationConnectionStore(redis, p, [newKey]);
  assert.deepEqual(await fresh.get('trustpilot', 'locAlpha'), TP);
  assert.deepEqual(await fresh.get('opinionstage', 'locBeta'), OS);
  assert.equal(await createLocationConnectionStore(redis, p, [oldKey]).get('trustpilot', 'locAlpha'), undefined, 'the old key alone no longer opens it');
});

test('a connection no key opens is skipped by the reads and named by unreadable()', async () => {
  const p = prefix();
  const droppedKey = randomBytes(32);
  const key = randomBytes(32);
  await createLocationConnectionStore(redis, p, [droppedKey]).set('opinionstage', 'locLost', OS);
  const store = createLocationConnectionStore(redis, p, [key]);
  await store.set('trustpilot', 'locAlpha', TP);
  assert.deepEqual([...(await store.readAll()).opinionstage.keys()], [], 'not read');
  assert.deepEqual(await store.unreadable(), [{ kind: 'opinionstage', locationId: 'locLost' }]);
  assert.equal(await store.reencryptAll(), 1, 'only the readable one is sealed again');
  await store.delete('opinionstage', 'locLost');
  assert.deepEqual(await store.unreadable(), []);
});

test('delete removes one kind; a cached reader sees the change once its copy expires', async () => {
  const p = prefix();
  const store = createLocationConnectionStore(redis, p, [randomBytes(32)]);
  await store.set('opinionstage', 'locAlpha', OS);
  let clock = 0;
  const cached = createCachedConnections(store, 3_000, () => clock);
  assert.equal((await cached.snapshot()).opinionstage.size, 1);
  assert.equal(await store.delete('opinionstage', 'locAlpha'), true);
  assert.equal(await store.delete('opinionstage', 'locAlpha'), false, 'nothing left to delete');
  assert.equal((await cached.snapshot()).opinionstage.size, 1, 'still the cached copy');
  clock = 3_000;
  assert.equal((await cached.snapshot()).opinionstage.size, 0);
  await store.set('opinionstage', 'locAlpha', OS);
  cached.forget();
  assert.equal((await cached.snapshot()).opinionstage.size, 1, 'forget reads again at once');
});

test('invalid connections are refused before anything is stored', async () => {
  const p = prefix();
  const store = createLocationConnectionStore(redis, p, [randomBytes(32)]);
  await assert.rejects(store.set('opinionstage', 'locAlpha', { ...OS, webhookSecret: 'short' }));
  await assert.rejects(store.set('trustpilot', 'loc with spaces', TP));
  assert.equal((await store.readAll()).opinionstage.size, 0);
});
