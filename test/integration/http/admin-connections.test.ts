/**
 * PUT/DELETE /admin/locations/:id/trustpilot|opinionstage over the app as production builds it, with
 * a real store on a real Redis: roles, validation, masking (no secret in any answer), and the
 * per-location webhook URLs (`?location=`) authenticated by that connection's own secret.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { z } from 'zod';
import { createConnectionsAccess, type ConnectionsAccess } from '../../../src/lifecycle/wiring/location-connections.js';
import { buildTestApp, inject, type TestApp } from '../../helpers/app.js';
import { startRedisServer, type RedisServerHandle } from '../../helpers/redis-server.js';

const ADMIN = 'admin-token-connections-0001';
const VIEWER = 'viewer-token-connections-0001';
const ENV = { ADMIN_TOKEN: ADMIN, VIEWER_TOKEN: VIEWER, TRUSTPILOT_WEBHOOK_SECRET: 'env-trustpilot-secret-00001', OPINIONSTAGE_WEBHOOK_SECRET: 'env-opinionstage-secret-0001' };
const TP = { businessUnitId: 'bu-beta-0001', apiKey: 'tp-key-beta-000011aa', apiSecret: 'tp-secret-beta-000022bb', username: 'beta@example.com', password: 'tp-password-beta-33cc' };
const OS = { apiKey: 'os-key-beta-000044dd', itemIds: ['item-beta-1', 'item-beta-2'], webhookSecret: 'os-webhook-beta-0000055ee' };
const SECRETS = [TP.apiKey, TP.apiSecret, TP.password, OS.apiKey, OS.webhookSecret];

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

const bearer = (token: string) => ({ authorization: `Bearer ${token}`, 'content-type': 'application/json' });

describe('admin location connections', () => {
  let t: TestApp;
  let connections: ConnectionsAccess;
  beforeEach(async () => {
    const access = createConnectionsAccess({ redis, prefix: `ac${randomBytes(4).toString('hex')}` }, { ENCRYPTION_KEY: [randomBytes(32)] });
    assert.ok(access);
    connections = access;
    t = await buildTestApp({ env: ENV, connections });
  });
  afterEach(() => t.close());

  test('admin sets both connections; the answers and the store show secrets masked only', async () => {
    const tp = await inject(t.app, { method: 'PUT', url: '/admin/locations/locBeta0001/trustpilot', headers: bearer(ADMIN), body: JSON.stringify(TP) });
    assert.equal(tp.status, 200, tp.text);
    assert.deepEqual(tp.json.connection, { businessUnitId: TP.businessUnitId, apiKey: '****11aa', apiSecret: '****22bb', username: TP.username, password: '****33cc', webhookSecret: null });
    assert.equal(tp.json.webhookPath, '/webhooks/trustpilot?location=locBeta0001');
    const os = await inject(t.app, { method: 'PUT', url: '/admin/locations/locBeta0001/opinionstage', headers: bearer(ADMIN), body: JSON.stringify(OS) });
    assert.equal(os.status, 200, os.text);
    assert.deepEqual(os.json.connection, { apiKey: '****44dd', itemIds: OS.itemIds, webhookSecret: '****55ee' });
    for (const secret of SECRETS) assert.ok(!tp.text.includes(secret) && !os.text.includes(secret), 'no secret in an answer');
    assert.deepEqual(await connections.store.get('trustpilot', 'locBeta0001'), TP);
    assert.deepEqual((await connections.masked('locBeta0001')).opinionstage, { apiKey: '****44dd', itemIds: OS.itemIds, webhookSecret: '****55ee' });
    assert.deepEqual(await connections.itemLocations(), new Map([['item-beta-1', ['locBeta0001']], ['item-beta-2', ['locBeta0001']]]));
  });

  test('viewer 403, no token 401, invalid bodies 400 naming the field, nothing stored', async () => {
    const body = JSON.stringify(OS);
    assert.equal((await inject(t.app, { method: 'PUT', url: '/admin/locations/locBeta0001/opinionstage', headers: bearer(VIEWER), body })).status, 403);
    assert.equal((await inject(t.app, { method: 'PUT', url: '/admin/locations/locBeta0001/opinionstage', headers: { 'content-type': 'application/json' }, body })).status, 401);
    assert.equal((await inject(t.app, { method: 'DELETE', url: '/admin/locations/locBeta0001/opinionstage', headers: { authorization: `Bearer ${VIEWER}` } })).status, 403);
    const short = await inject(t.app, { method: 'PUT', url: '/admin/locations/locBeta0001/opinionstage', headers: bearer(ADMIN), body: JSON.stringify({ ...OS, webhookSecret: 'short' }) });
    assert.equal(short.status, 400);
    assert.match(short.text, /webhookSecret/);
    const missing = await inject(t.app, { method: 'PUT', url: '/admin/locations/locBeta0001/trustpilot', headers: bearer(ADMIN), body: JSON.stringify({ ...TP, password: undefined }) });
    assert.equal(missing.status, 400);
    assert.match(missing.text, /password/);
    const extra = await inject(t.app, { method: 'PUT', url: '/admin/locations/locBeta0001/trustpilot', headers: bearer(ADMIN), body: JSON.stringify({ ...TP, unknown: 1 }) });
    assert.equal(extra.status, 400);
    const noItems = await inject(t.app, { method: 'PUT', url: '/admin/locations/locBeta0001/opinionstage', headers: bearer(ADMIN), body: JSON.stringify({ ...OS, itemIds: [] }) });
    assert.equal(noItems.status, 400);
    const badId = await inject(t.app, { method: 'PUT', url: '/admin/locations/bad%20id/opinionstage', headers: bearer(ADMIN), body });
    assert.equal(badId.status, 400);
    assert.equal((await connections.store.readAll()).opinionstage.size, 0);
  });

  test('DELETE removes the connection (404 when there is none)', async () => {
    await connections.store.set('opinionstage', 'locBeta0001', OS);
    const deleted = await inject(t.app, { method: 'DELETE', url: '/admin/locations/locBeta0001/opinionstage', headers: { authorization: `Bearer ${ADMIN}` } });
    assert.equal(deleted.status, 200, deleted.text);
    assert.deepEqual(deleted.json, { locationId: 'locBeta0001', deleted: true });
    assert.equal(await connections.store.get('opinionstage', 'locBeta0001'), undefined);
    const again = await inject(t.app, { method: 'DELETE', url: '/admin/locations/locBeta0001/opinionstage', headers: { authorization: `Bearer ${ADMIN}` } });
    assert.equal(again.status, 404);
    assert.equal(again.json.code, 'NOT_CONNECTED');
  });

  test('?location= webhooks: only that connection\'s secret opens them, and the job carries the location', async () => {
    await inject(t.app, { method: 'PUT', url: '/admin/locations/locBeta0001/opinionstage', headers: bearer(ADMIN), body: JSON.stringify(OS) });
    await inject(t.app, { method: 'PUT', url: '/admin/locations/locBeta0001/trustpilot', headers: bearer(ADMIN), body: JSON.stringify(TP) });
    const response = JSON.stringify({ data: { id: 'resp-beta-0001', attributes: { answers: [] } }, item_id: 'item-beta-1', email: 'r@example.com' });
    const post = (url: string, token: string, body: string) => inject(t.app, { method: 'POST', url, headers: { 'content-type': 'application/json', 'x-webhook-token': token }, body });

    const refusals = [
      await post('/webhooks/opinionstage?location=locBeta0001', ENV.OPINIONSTAGE_WEBHOOK_SECRET, response),
      await post('/webhooks/opinionstage?location=locUnknown01', OS.webhookSecret, response),
      await post('/webhooks/opinionstage?location=locUnknown01', ENV.OPINIONSTAGE_WEBHOOK_SECRET, response),
      await post('/webhooks/opinionstage?location=locBeta0001&location=locBeta0001', OS.webhookSecret, response),
      await post('/webhooks/trustpilot?location=locBeta0001', OS.webhookSecret, JSON.stringify({ events: [] })),
    ];
    for (const refused of refusals) {
      assert.equal(refused.status, 401, refused.text);
      assert.deepEqual([refused.json.code, refused.json.message], ['TOKEN_INVALID', 'missing or wrong webhook token'], 'the same answer whatever was wrong');
    }
    assert.equal(t.enqueued.length, 0);

    const accepted = await post('/webhooks/opinionstage?location=locBeta0001', OS.webhookSecret, response);
    assert.equal(accepted.status, 200, accepted.text);
    const review = JSON.stringify({ events: [{ eventName: 'service-review-created', version: '1', eventData: { id: 'reviewBeta0001', stars: 5 } }] });
    const viaApiSecret = await post('/webhooks/trustpilot?location=locBeta0001', TP.apiSecret, review);
    assert.equal(viaApiSecret.status, 200, viaApiSecret.text);
    const plain = await post('/webhooks/opinionstage', ENV.OPINIONSTAGE_WEBHOOK_SECRET, response.replace('resp-beta-0001', 'resp-env-0001'));
    assert.equal(plain.status, 200, 'the environment URL keeps working');
    const locations = t.enqueued.map((request) => z.looseObject({ webhookLocationId: z.string().optional() }).parse(request.data).webhookLocationId);
    assert.deepEqual(locations, ['locBeta0001', 'locBeta0001', undefined]);
  });
});

test('without ENCRYPTION_KEY the connection routes answer 409 and store nothing', async () => {
  const t = await buildTestApp({ env: ENV });
  try {
    const answer = await inject(t.app, { method: 'PUT', url: '/admin/locations/locBeta0001/opinionstage', headers: bearer(ADMIN), body: JSON.stringify(OS) });
    assert.equal(answer.status, 409);
    assert.equal(answer.json.code, 'ENCRYPTION_KEY_REQUIRED');
  } finally {
    await t.close();
  }
});
