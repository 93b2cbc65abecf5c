/**
 * Installs with GHL_ALLOWED_COMPANY_IDS set: an install started from GHL's marketplace (no state of
 * ours) is accepted from an allowed company, and any install, with or without our state, from another
 * company is refused with 400 and stores nothing.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { request } from 'undici';
import { startGhlSimulator, type GhlSimulator } from '../../src/sandbox/ghl/simulator.js';
import { startTestBridge, type TestBridge } from '../helpers/bridge.js';
import { createTestSigner, signedEvent } from '../helpers/ghl-signing.js';
import { startRedisServer, type RedisServerHandle } from '../helpers/redis-server.js';

const CLIENT = { clientId: 'client-marketplace-test', clientSecret: 'client-secret-marketplace-0001', versionId: 'ver-marketplace-0001' };
const ALLOWED = 'comp_allowed_agency';
const OTHER = 'comp_other_agency';

describe('installs with an allowlist of companies', () => {
  let redis: RedisServerHandle;
  let redisClient: Redis;
  let ghl: GhlSimulator;
  let bridge: TestBridge;

  before(async () => {
    redis = await startRedisServer();
    redisClient = new Redis(redis.url);
    const signer = createTestSigner();
    ghl = await startGhlSimulator({
      locations: [],
      oauthClients: [CLIENT],
      signingKeys: { ed25519PrivateKeyPem: signer.ed25519PrivateKeyPem, rsaPrivateKeyPem: signer.rsaPrivateKeyPem },
    });
    bridge = await startTestBridge({
      mode: 'web',
      redisUrl: redis.url,
      env: {
        GHL_API_BASE_URL: ghl.url,
        GHL_CLIENT_ID: CLIENT.clientId,
        GHL_CLIENT_SECRET: CLIENT.clientSecret,
        GHL_APP_VERSION_ID: CLIENT.versionId,
        GHL_ALLOWED_COMPANY_IDS: ` ${ALLOWED}, comp_second_agency `,
        ENCRYPTION_KEY: Buffer.alloc(32, 4).toString('base64'),
        GHL_WEBHOOK_ED25519_PUBLIC_KEY: ghl.publicKeys.ed25519,
        GHL_WEBHOOK_PUBLIC_KEY: ghl.publicKeys.rsa,
      },
    });
  });

  after(async () => {
    await bridge.close();
    redisClient.disconnect();
    await ghl.close();
    await redis.close();
  });

  /** What the bridge holds for installs: its stored OAuth token keys. */
  const storedInstalls = async () => (await redisClient.keys('*ghl-oauth*')).filter((key) => !key.includes('lock')).sort();

  /** Whether the bridge takes events of the location, i.e. serves it. */
  async function served(locationId: string): Promise<boolean> {
    const event = signedEvent('ContactCreate', { locationId });
    const reply = await request(`${bridge.url}/webhooks/ghl`, { method: 'POST', body: event.body, headers: event.headers });
    return ((await reply.body.json()) as { status: string }).status === 'accepted';
  }

  async function stateOfOurs(): Promise<string> {
    const start = await request(`${bridge.url}/oauth/install`);
    await start.body.dump();
    return new URL(String(start.headers.location)).searchParams.get('state') ?? '';
  }

  async function callback(code: string, state?: string, json = true) {
    const query = new URLSearchParams({ code, ...(state === undefined ? {} : { state }) });
    return request(`${bridge.url}/oauth/callback?${query.toString()}`, { headers: json ? { accept: 'application/json' } : {} });
  }

  test('a marketplace install (no state) from a company not allowed is refused and stores nothing', async () => {
    const code = ghl.issueAuthorizationCode({ userType: 'Location', locationId: 'locNotAllowed00000001', companyId: OTHER });
    const answer = await callback(code, undefined, false);
    assert.equal(answer.statusCode, 400);
    assert.match(String(answer.headers['content-type']), /^text\/html/);
    assert.match(await answer.body.text(), /not allowed to install/);
    assert.deepEqual(await storedInstalls(), []);
    assert.equal(await served('locNotAllowed00000001'), false);
  });

  test('an install with our state from a company not allowed is refused and stores nothing', async () => {
    const code = ghl.issueAuthorizationCode({ userType: 'Company', companyId: OTHER, approvedLocations: ['locNotAllowed00000002'] });
    const answer = await callback(code, await stateOfOurs());
    assert.equal(answer.statusCode, 400);
    assert.equal(((await answer.body.json()) as { code: string }).code, 'OAUTH_COMPANY_NOT_ALLOWED');
    assert.deepEqual(await storedInstalls(), []);
    assert.equal(ghl.oauthCalls.locationToken, 0, 'no location token minted for it');
  });

  test('a marketplace install (no state) from an allowed company is accepted and served', async () => {
    const code = ghl.issueAuthorizationCode({ userType: 'Location', locationId: 'locAllowed00000000001', companyId: ALLOWED });
    const answer = await callback(code);
    assert.equal(answer.statusCode, 200);
    assert.deepEqual(await answer.body.json(), { status: 'installed', locations: ['locAllowed00000000001'] });
    assert.ok((await storedInstalls()).some((key) => key.includes('locAllowed00000000001')), 'its tokens are stored');
    assert.equal(await served('locAllowed00000000001'), true);
  });

  test('an agency install from an allowed company mints its locations', async () => {
    const code = ghl.issueAuthorizationCode({ userType: 'Company', companyId: 'comp_second_agency', approvedLocations: ['locAllowed00000000002', 'locAllowed00000000003'] });
    const answer = await callback(code, await stateOfOurs());
    assert.equal(answer.statusCode, 200);
    assert.deepEqual(await answer.body.json(), { status: 'installed', locations: ['locAllowed00000000002', 'locAllowed00000000003'] });
    assert.equal(ghl.oauthCalls.locationToken, 2);
    assert.equal(await served('locAllowed00000000003'), true);
  });

  test('a refused code without a state answers 400, never 5xx', async () => {
    const answer = await callback('sim-code-never-issued');
    assert.equal(answer.statusCode, 400);
    assert.equal(((await answer.body.json()) as { code: string }).code, 'OAUTH_CODE_REFUSED');
  });
});
