/**
 * The dashboard's connections page against a real store on a real Redis, through `buildApp` +
 * `inject`: the admin connects and disconnects a location's own Trustpilot and Opinion Stage with
 * forms (stored encrypted, through the admin API), secrets are never shown again (page, notice,
 * error text), the viewer gets 403, and a form from another origin or without a session is refused.
 */
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { describeOnlyDashboardDeps } from '../../../src/http/routes/dashboard.js';
import { createConnectionsAccess, type ConnectionsAccess } from '../../../src/lifecycle/wiring/location-connections.js';
import { createDashboardSessions } from '../../../src/state/dashboard-sessions.js';
import { buildTestApp, inject, type TestApp } from '../../helpers/app.js';
import { startRedisServer, type RedisServerHandle } from '../../helpers/redis-server.js';

const ADMIN_TOKEN = 'connections-admin-token-0001';
const VIEWER_TOKEN = 'connections-viewer-token-0001';
const HOST = 'bridge.test';
const FORM = { 'content-type': 'application/x-www-form-urlencoded', origin: `http://${HOST}`, host: HOST };
const LOC_A = 'locDashConnectA0001';
const LOC_B = 'locDashConnectB0001';
const TP = { businessUnitId: 'bu-dashboard-0001', apiKey: 'tp-key-dashboard-11aa', apiSecret: 'tp-secret-dashboard-22bb', username: 'owner@client-a.test', password: 'tp-password-dash-33cc' };
const OS = { apiKey: 'os-key-dashboard-44dd', webhookSecret: 'os-webhook-dashboard-55ee' };
const SECRETS = [TP.apiKey, TP.apiSecret, TP.password, OS.apiKey, OS.webhookSecret];

describe('dashboard connections page', () => {
  let redis: RedisServerHandle;
  let client: Redis;
  let t: TestApp;
  let connections: ConnectionsAccess;

  before(async () => {
    redis = await startRedisServer();
    client = new Redis(redis.url);
    const access = createConnectionsAccess({ redis: client, prefix: `dc${randomBytes(4).toString('hex')}` }, { ENCRYPTION_KEY: [randomBytes(32)] });
    assert.ok(access);
    connections = access;
    const sessions = createDashboardSessions(client, `test-${randomUUID()}`);
    const dashboard = {
      ...describeOnlyDashboardDeps(),
      adminToken: ADMIN_TOKEN,
      viewerToken: VIEWER_TOKEN,
      sessions,
      servedLocations: async () => [LOC_A, LOC_B],
      budgetUsage: async () => ({ window: 0, day: 0, limit: { max: 100, windowMs: 10_000 } }),
      locationConnections: connections,
    };
    t = await buildTestApp({ env: { ADMIN_TOKEN, VIEWER_TOKEN }, dashboard, connections });
  });
  after(async () => {
    await t?.close();
    client?.disconnect();
    await redis?.close();
  });

  const signIn = async (token: string) => {
    const answer = await inject(t.app, { method: 'POST', url: '/dashboard/login', body: new URLSearchParams({ token }).toString(), headers: FORM });
    assert.equal(answer.status, 303);
    const setCookie = answer.headers['set-cookie'];
    return String(Array.isArray(setCookie) ? setCookie[0] : setCookie).split(';')[0] ?? '';
  };
  const post = (cookie: string, path: string, fields: Record<string, string>, headers: Record<string, string> = FORM) =>
    inject(t.app, { method: 'POST', url: `/dashboard/connections/${path}`, body: new URLSearchParams(fields).toString(), headers: { ...headers, cookie } });
  /** Follows the form's 303 back to the page, as a browser does. */
  const followed = async (cookie: string, answer: { status: number; headers: Record<string, unknown> }) => {
    assert.equal(answer.status, 303);
    const location = String(answer.headers.location);
    assert.match(location, /^\/dashboard\/connections\?/);
    return inject(t.app, { url: location, headers: { cookie } });
  };
  const assertNoSecret = (where: string, text: string) => {
    for (const secret of SECRETS) assert.ok(!text.includes(secret), `${where} shows ${secret}`);
  };

  test('the admin connects both, sees them masked only, and disconnects one', async () => {
    const cookie = await signIn(ADMIN_TOKEN);
    const overview = await inject(t.app, { url: '/dashboard', headers: { cookie } });
    assert.match(overview.text, /href="\/dashboard\/connections"/, 'the locations overview links to the page');
    const empty = await inject(t.app, { url: '/dashboard/connections', headers: { cookie } });
    assert.equal(empty.status, 200);
    assert.match(empty.text, /<option value="locDashConnectB0001">/, 'served locations are offered');
    assert.match(empty.text, /name="apiSecret" type="password"/, 'secrets are typed into password fields');

    const tp = await followed(cookie, await post(cookie, 'trustpilot', { locationId: LOC_A, ...TP, webhookSecret: '' }));
    assert.match(tp.text, /now uses its own Trustpilot; its webhook URL: \/webhooks\/trustpilot\?location=locDashConnectA0001/);
    const os = await followed(cookie, await post(cookie, 'opinionstage', { locationId: LOC_B, apiKey: OS.apiKey, itemIds: 'item-one, item-two', webhookSecret: OS.webhookSecret }));
    assert.match(os.text, /now uses its own Opinion Stage/);

    assert.deepEqual(await connections.store.get('trustpilot', LOC_A), TP, 'stored whole, without the empty optional field');
    assert.deepEqual(await connections.store.get('opinionstage', LOC_B), { ...OS, itemIds: ['item-one', 'item-two'] });
    const page = await inject(t.app, { url: '/dashboard/connections', headers: { cookie } });
    assertNoSecret('the page', page.text);
    assertNoSecret('the notices', tp.text + os.text);
    assert.match(page.text, /own unit bu-dashboard-0001, user owner@client-a.test, API key \*\*\*\*11aa/);
    assert.match(page.text, /own account, API key \*\*\*\*44dd, items item-one, item-two/);

    const removed = await followed(cookie, await post(cookie, 'remove', { locationId: LOC_A, kind: 'trustpilot' }));
    assert.match(removed.text, /Location locDashConnectA0001 now uses the environment&#39;s Trustpilot settings/);
    assert.equal(await connections.store.get('trustpilot', LOC_A), undefined);
    assert.ok(await connections.store.get('opinionstage', LOC_B), 'the other connection stays');
  });

  test('an invalid form stores nothing and its error names the field, never the secret typed', async () => {
    const cookie = await signIn(ADMIN_TOKEN);
    const shortSecret = 'short-os-secret';
    const refused = await followed(cookie, await post(cookie, 'opinionstage', { locationId: 'locDashInvalid0001', apiKey: OS.apiKey, itemIds: 'item-x', webhookSecret: shortSecret }));
    assert.match(refused.text, /class="notice error">Connecting location locDashInvalid0001 to its own Opinion Stage failed: [^<]*webhookSecret/);
    assert.ok(!refused.text.includes(shortSecret) && !refused.text.includes(OS.apiKey));
    assert.equal(await connections.store.get('opinionstage', 'locDashInvalid0001'), undefined);
    const badLocation = await followed(cookie, await post(cookie, 'trustpilot', { locationId: '../admin', ...TP }));
    assert.match(badLocation.text, /expected a GHL location id/);
  });

  test('the viewer gets 403 on the page and the forms; no session, or another origin, changes nothing', async () => {
    const viewer = await signIn(VIEWER_TOKEN);
    assert.equal((await inject(t.app, { url: '/dashboard/connections', headers: { cookie: viewer } })).status, 403);
    const overview = await inject(t.app, { url: '/dashboard', headers: { cookie: viewer } });
    assert.doesNotMatch(overview.text, /href="\/dashboard\/connections"/, 'no link for the viewer');
    const fields = { locationId: LOC_B, ...TP };
    assert.equal((await post(viewer, 'trustpilot', fields)).status, 403);
    assert.equal((await post(viewer, 'remove', { locationId: LOC_B, kind: 'opinionstage' })).status, 403);

    const admin = await signIn(ADMIN_TOKEN);
    assert.equal((await post(admin, 'trustpilot', fields, { ...FORM, origin: 'https://evil.example' })).status, 403, 'a form from another site');
    assert.equal((await post('', 'trustpilot', fields)).status, 401, 'no session');
    const bearer = await inject(t.app, { method: 'POST', url: '/dashboard/connections/trustpilot', body: new URLSearchParams(fields).toString(), headers: { ...FORM, authorization: `Bearer ${ADMIN_TOKEN}` } });
    assert.equal(bearer.status, 401, 'forms need the session cookie, not a bearer token');
    assert.equal(await connections.store.get('trustpilot', LOC_B), undefined, 'nothing was stored');
  });
});
