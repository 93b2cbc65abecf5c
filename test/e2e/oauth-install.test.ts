/**
 * Marketplace-app mode end to end: install through /oauth/install and /oauth/callback, the installed
 * location served with its OAuth token beside the private-token location, and AppUninstall ending it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { request } from 'undici';
import { GHL_CHOOSE_LOCATION_URL, GHL_OAUTH_SCOPES } from '../../src/http/routes/oauth.js';
import { scheduleContactSync } from '../../src/lifecycle/container.js';
import { QUEUE_NAMES } from '../../src/queue/catalog.js';
import { CHOOSE_LOCATION_PATH, startGhlSimulator, type GhlSimulator } from '../../src/sandbox/ghl/simulator.js';
import { startTestBridge, type TestBridge } from '../helpers/bridge.js';
import { waitFor } from '../helpers/wait.js';
import { createTestSigner, signedEvent } from '../helpers/ghl-signing.js';
import { startRedisServer, type RedisServerHandle } from '../helpers/redis-server.js';

const PRIVATE_LOCATION = 'locPrivate00000000001';
const PRIVATE_TOKEN = 'pit-private-oauth-test-01';
const INSTALLED_LOCATION = 'locInstalled000000001';
const CLIENT = { clientId: 've9EPM428h8vShlRW1KT-oauth-test', clientSecret: 'client-secret-oauth-test-0001', versionId: 'ver-oauth-test-0001' };
const REDIRECT = 'https://bridge.example.com/oauth/callback';
const ADMIN_TOKEN = 'admin-token-oauth-test-0001';
const VIEWER_TOKEN = 'viewer-token-oauth-test-0001';

describe('marketplace-app install', () => {
  let redis: RedisServerHandle;
  let ghl: GhlSimulator;
  let bridge: TestBridge;

  before(async () => {
    redis = await startRedisServer();
    const signer = createTestSigner();
    ghl = await startGhlSimulator({
      locations: [{ id: PRIVATE_LOCATION, token: PRIVATE_TOKEN }],
      oauthClients: [CLIENT],
      signingKeys: { ed25519PrivateKeyPem: signer.ed25519PrivateKeyPem, rsaPrivateKeyPem: signer.rsaPrivateKeyPem },
    });
    bridge = await startTestBridge({
      mode: 'all',
      redisUrl: redis.url,
      env: {
        GHL_API_BASE_URL: ghl.url,
        GHL_PRIVATE_TOKEN: PRIVATE_TOKEN,
        GHL_LOCATION_ID: PRIVATE_LOCATION,
        GHL_CLIENT_ID: CLIENT.clientId,
        GHL_CLIENT_SECRET: CLIENT.clientSecret,
        GHL_OAUTH_REDIRECT_URI: REDIRECT,
        GHL_APP_VERSION_ID: CLIENT.versionId,
        ENCRYPTION_KEY: Buffer.alloc(32, 9).toString('base64'),
        GHL_WEBHOOK_ED25519_PUBLIC_KEY: ghl.publicKeys.ed25519,
        GHL_WEBHOOK_PUBLIC_KEY: ghl.publicKeys.rsa,
        ADMIN_TOKEN,
        VIEWER_TOKEN,
      },
    });
    ghl.setWebhookUrl(`${bridge.url}/webhooks/ghl`);
  });

  after(async () => {
    await bridge.close();
    await ghl.close();
    await redis.close();
  });

  /**
   * The installer's browser: the bridge's redirect to GHL's install page, that page (the simulator
   * stands in for marketplace.gohighlevel.com) approving for INSTALLED_LOCATION, and GHL's redirect
   * back to the bridge's callback.
   */
  async function install(): Promise<Response> {
    const start = await request(`${bridge.url}/oauth/install`);
    await start.body.dump();
    assert.equal(start.statusCode, 302);
    const target = new URL(String(start.headers.location));
    assert.equal(`${target.origin}${target.pathname}`, GHL_CHOOSE_LOCATION_URL);
    assert.equal(target.searchParams.get('client_id'), CLIENT.clientId);
    assert.equal(target.searchParams.get('version_id'), CLIENT.versionId);
    assert.equal(target.searchParams.get('redirect_uri'), REDIRECT);
    assert.deepEqual(target.searchParams.get('scope')?.split(' '), GHL_OAUTH_SCOPES);
    ghl.setInstaller({ userType: 'Location', locationId: INSTALLED_LOCATION });
    const page = await request(`${ghl.url}${CHOOSE_LOCATION_PATH}${target.search}`);
    await page.body.dump();
    assert.equal(page.statusCode, 302, 'GHL accepts the install page request');
    const back = new URL(String(page.headers.location));
    assert.equal(`${back.origin}${back.pathname}`, REDIRECT);
    const code = back.searchParams.get('code') ?? '';
    const state = back.searchParams.get('state') ?? '';
    return fetch(`${bridge.url}/oauth/callback?code=${encodeURIComponent(code)}&state=${encodeURIComponent(state)}`, { headers: { accept: 'application/json' } });
  }

  /**
   * The webhook's sync plans from the event's snapshot (no call); a reconcile-style sync then reads the
   * contact with the location's own token.
   */
  async function syncedAndRead(locationId: string, contactId: string) {
    await waitFor(async () => ((await bridge.container.syncDeps.facts.recentSyncs(50)).some((run) => run.contactId === contactId && run.outcome === 'synced') ? true : undefined), 15_000, `the sync of ${contactId}`);
    await scheduleContactSync(bridge.container.queues[QUEUE_NAMES.contactSync], { locationId, contactId, reason: 'reconcile', triggeredAt: Date.now() }, 0);
    return waitFor(() => ghl.calls.find((call) => call.method === 'GET' && call.path === `/contacts/${contactId}`), 15_000, `the read of ${contactId}`);
  }

  test('a callback without a state of ours is refused and stores nothing', async () => {
    const code = ghl.issueAuthorizationCode({ userType: 'Location', locationId: INSTALLED_LOCATION });
    const forged = await request(`${bridge.url}/oauth/callback?code=${code}&state=1.x.y`);
    assert.equal(forged.statusCode, 400);
    await forged.body.dump();
    // Started from GHL's marketplace (no state): without GHL_ALLOWED_COMPANY_IDS it is refused too.
    const stateless = await request(`${bridge.url}/oauth/callback?code=${code}`, { headers: { accept: 'application/json' } });
    assert.equal(stateless.statusCode, 400);
    assert.equal(((await stateless.body.json()) as { code: string }).code, 'OAUTH_STATE_INVALID');
    assert.equal(ghl.oauthCalls.authorization_code, 0, 'the code was never exchanged');
  });

  test('GHL refuses the install page without version_id', async () => {
    const start = await request(`${bridge.url}/oauth/install`);
    await start.body.dump();
    const target = new URL(String(start.headers.location));
    target.searchParams.delete('version_id');
    const page = await request(`${ghl.url}${CHOOSE_LOCATION_PATH}${target.search}`);
    assert.equal(page.statusCode, 400);
    assert.equal(((await page.body.json()) as { error: string }).error, 'error.noversionid');
  });

  test('a refused code answers 400 with a short page, or JSON when asked, never 5xx', async () => {
    const start = await request(`${bridge.url}/oauth/install`);
    await start.body.dump();
    const state = new URL(String(start.headers.location)).searchParams.get('state') ?? '';
    const exchanges = ghl.oauthCalls.authorization_code;
    const page = await request(`${bridge.url}/oauth/callback?code=sim-code-unknown&state=${encodeURIComponent(state)}`);
    assert.equal(page.statusCode, 400);
    assert.match(String(page.headers['content-type']), /^text\/html/);
    assert.match(await page.body.text(), /was not installed/);
    const json = await request(`${bridge.url}/oauth/callback?code=sim-code-unknown&state=${encodeURIComponent(state)}`, { headers: { accept: 'application/json' } });
    assert.equal(json.statusCode, 400);
    assert.equal(((await json.body.json()) as { code: string }).code, 'OAUTH_CODE_REFUSED');
    assert.equal(ghl.oauthCalls.authorization_code, exchanges + 2, 'GHL was asked, and refused');
  });

  test('install, callback, then the installed location is served with its own token', async () => {
    const answer = await install();
    assert.equal(answer.status, 200);
    assert.deepEqual(await answer.json(), { status: 'installed', locations: [INSTALLED_LOCATION] });
    assert.equal(ghl.oauthCalls.authorization_code, 3, 'the two refused codes, then this one');

    const installed = ghl.userCreateContact(INSTALLED_LOCATION, { firstName: 'Oauth', email: 'oauth@example.com' });
    const read = await syncedAndRead(INSTALLED_LOCATION, installed.id);
    assert.equal(read.status, 200);
    assert.equal(read.locationId, INSTALLED_LOCATION);

    const mine = ghl.userCreateContact(PRIVATE_LOCATION, { firstName: 'Private', email: 'private@example.com' });
    const privateRead = await syncedAndRead(PRIVATE_LOCATION, mine.id);
    assert.equal(privateRead.status, 200, 'the private-token location keeps working beside the install');
  });

  test("another app's uninstall and install change nothing", async () => {
    const post = async (event: { body: string; headers: Record<string, string> }) => {
      const reply = await request(`${bridge.url}/webhooks/ghl`, { method: 'POST', body: event.body, headers: event.headers });
      assert.equal(reply.statusCode, 200);
      return ((await reply.body.json()) as { status: string }).status;
    };
    const foreignApp = 'anotherApp0000000001';
    assert.equal(await post(signedEvent('AppUninstall.location', { type: 'UNINSTALL', appId: foreignApp, locationId: INSTALLED_LOCATION })), 'ignored');
    const stranger = 'locStranger0000000001';
    assert.equal(await post(signedEvent('AppInstall.location-non-whitelabeled', { type: 'INSTALL', appId: foreignApp, locationId: stranger })), 'ignored');

    // The location is still served with its tokens in place, and the foreign install stored nothing.
    const listed = await request(`${bridge.url}/admin/locations`, { headers: { authorization: `Bearer ${VIEWER_TOKEN}` } });
    assert.equal(listed.statusCode, 200);
    const locations = (await listed.body.json()) as { locationId: string; authorisation: string; needsReconnect: boolean; companyId: string | null }[];
    assert.deepEqual(locations.map((location) => location.locationId).sort(), [INSTALLED_LOCATION, PRIVATE_LOCATION].sort());
    const installed = locations.find((location) => location.locationId === INSTALLED_LOCATION);
    assert.equal(installed?.authorisation, 'oauth');
    assert.equal(installed?.companyId, 'company_sandbox', 'the installing company, as stored at install');
    assert.equal(installed?.needsReconnect, false, 'its tokens are still stored');
    assert.equal(locations.find((location) => location.locationId === PRIVATE_LOCATION)?.authorisation, 'private-token');
    const contact = ghl.userCreateContact(INSTALLED_LOCATION, { firstName: 'Still', email: 'still@example.com' });
    assert.equal((await syncedAndRead(INSTALLED_LOCATION, contact.id)).status, 200);
    assert.equal(await post(signedEvent('ContactCreate', { locationId: stranger })), 'ignored');
  });

  test('AppUninstall stops serving the location', async () => {
    const uninstall = signedEvent('AppUninstall.location', { type: 'UNINSTALL', locationId: INSTALLED_LOCATION });
    const answer = await request(`${bridge.url}/webhooks/ghl`, { method: 'POST', body: uninstall.body, headers: uninstall.headers });
    assert.equal(((await answer.body.json()) as { status: string }).status, 'accepted');
    await waitFor(async () => {
      const later = signedEvent('ContactCreate', { locationId: INSTALLED_LOCATION });
      const reply = await request(`${bridge.url}/webhooks/ghl`, { method: 'POST', body: later.body, headers: later.headers });
      const body = (await reply.body.json()) as { status: string };
      return body.status === 'ignored' ? true : undefined;
    }, 20_000, 'events of the uninstalled location to be ignored');
  });
});

describe('a location whose refresh token GHL refuses', () => {
  test('is marked for reconnection and raises one "reconnect location" alert', async () => {
    const redis = await startRedisServer();
    // Access tokens that live one second: every call refreshes first, so a refused refresh shows at once.
    const ghl = await startGhlSimulator({ locations: [], oauthClients: [CLIENT], oauthAccessTokenTtlSeconds: 1 });
    const bridge = await startTestBridge({
      mode: 'all',
      redisUrl: redis.url,
      env: {
        GHL_API_BASE_URL: ghl.url,
        GHL_CLIENT_ID: CLIENT.clientId,
        GHL_CLIENT_SECRET: CLIENT.clientSecret,
        ENCRYPTION_KEY: Buffer.alloc(32, 5).toString('base64'),
        GHL_WEBHOOK_ED25519_PUBLIC_KEY: ghl.publicKeys.ed25519,
        GHL_WEBHOOK_PUBLIC_KEY: ghl.publicKeys.rsa,
        ADMIN_TOKEN,
        VIEWER_TOKEN,
      },
    });
    try {
      ghl.setWebhookUrl(`${bridge.url}/webhooks/ghl`);
      const start = await request(`${bridge.url}/oauth/install`);
      await start.body.dump();
      const state = new URL(String(start.headers.location)).searchParams.get('state') ?? '';
      const code = ghl.issueAuthorizationCode({ userType: 'Location', locationId: INSTALLED_LOCATION });
      const installed = await request(`${bridge.url}/oauth/callback?code=${encodeURIComponent(code)}&state=${encodeURIComponent(state)}`, { headers: { accept: 'application/json' } });
      assert.equal(installed.statusCode, 200);
      await installed.body.dump();

      ghl.revokeLocationRefreshTokens(INSTALLED_LOCATION);
      ghl.userCreateContact(INSTALLED_LOCATION, { firstName: 'Revoked', email: 'revoked@example.com' });
      const alert = await waitFor(() => bridge.logs.find((line) => line.includes('reconnect location')), 20_000, 'the reconnect alert');
      assert.match(alert, new RegExp(`reconnect location ${INSTALLED_LOCATION}`));
      assert.ok(bridge.logs.some((line) => line.includes('location needs reconnecting')));
      const letters = await bridge.container.queues['dead-letter'].getJobs(['waiting']);
      assert.ok(letters.some((job) => JSON.stringify(job.data).includes('GHL_RECONNECT_REQUIRED')), 'the job failed for good, not retried forever');
      // What the operator sees: the location listed as needing a reconnect.
      const listed = await request(`${bridge.url}/admin/locations`, { headers: { authorization: `Bearer ${VIEWER_TOKEN}` } });
      assert.equal(listed.statusCode, 200);
      const locations = (await listed.body.json()) as { locationId: string; needsReconnect: boolean }[];
      assert.equal(locations.find((location) => location.locationId === INSTALLED_LOCATION)?.needsReconnect, true);
    } finally {
      await bridge.close();
      await ghl.close();
      await redis.close();
    }
  });
});
