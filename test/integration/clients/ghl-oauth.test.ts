/**
 * The OAuth token provider and its Redis store against the GHL simulator and a real redis-server:
 * encrypted storage, proactive refresh, the two-worker refresh race, reconnect on a spent refresh
 * token, key rotation, and the GHL client reading a contact with an OAuth access token.
 */
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { createGhlClient } from '../../../src/clients/ghl/ghl-client.js';
import { GhlClientError } from '../../../src/clients/ghl/ghl-client-error.js';
import { createOAuthTokenProvider, type OAuthTokenProvider } from '../../../src/clients/ghl/oauth-token-provider.js';
import { startGhlSimulator, type GhlSimulator } from '../../../src/sandbox/ghl/simulator.js';
import type { OAuthTokenStore } from '../../../src/clients/ghl/oauth-token-store.js';
import { createOAuthTokenStore } from '../../../src/state/oauth-token-store.js';
import { startRedisServer, type RedisServerHandle } from '../../helpers/redis-server.js';

const VERSION = '2021-07-28';
const CLIENT = { clientId: 'client-it', clientSecret: 'secret-it' };
const KEY_A = randomBytes(32);
const KEY_B = randomBytes(32);

let server: RedisServerHandle;
let redis1: Redis;
let redis2: Redis;
let sim: GhlSimulator;
const providers: OAuthTokenProvider[] = [];

const newPrefix = () => `test-${randomBytes(6).toString('hex')}`;
const newLocation = () => `loc_${randomBytes(5).toString('hex')}`;

function storeOn(redis: Redis, prefix: string, keys: Buffer[] = [KEY_A]): OAuthTokenStore {
  return createOAuthTokenStore({ redis, prefix, encryptionKeys: keys });
}

function providerFor(store: OAuthTokenStore, reconnects: [string, string][] = [], refreshMarginMs?: number): OAuthTokenProvider {
  const provider = createOAuthTokenProvider({
    store,
    ...CLIENT,
    baseUrl: sim.url,
    timeoutMs: 3_000,
    version: VERSION,
    onReconnectNeeded: (locationId, reason) => reconnects.push([locationId, reason]),
    ...(refreshMarginMs === undefined ? {} : { refreshMarginMs }),
  });
  providers.push(provider);
  return provider;
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  assert.fail('expected a rejection');
}

before(async () => {
  server = await startRedisServer();
  redis1 = new Redis(server.url);
  redis2 = new Redis(server.url);
  sim = await startGhlSimulator({ locations: [], oauthClients: [CLIENT] });
});

after(async () => {
  for (const provider of providers) await provider.close();
  await sim.close();
  await redis1.quit();
  await redis2.quit();
  await server.close();
});

describe('OAuth token provider', () => {
  test('code exchange stores the tokens encrypted: the raw Redis value holds no token text', async () => {
    const prefix = newPrefix();
    const loc = newLocation();
    const store = storeOn(redis1, prefix);
    const provider = providerFor(store);
    const result = await provider.exchangeCode(sim.issueAuthorizationCode({ userType: 'Location', locationId: loc, companyId: 'comp_x' }));
    assert.deepEqual(result, { userType: 'Location', companyId: 'comp_x', locations: [loc] });
    const stored = await store.get(loc);
    assert.ok(stored?.refreshToken);
    assert.equal(stored.userType, 'Location');
    assert.ok(stored.expiresAt > Date.now() + 86_000_000);
    const keys = await redis1.keys(`${prefix}:*`);
    assert.ok(keys.length > 0);
    for (const key of keys) {
      const raw = (await redis1.type(key)) === 'string' ? await redis1.get(key) : (await redis1.smembers(key)).join(',');
      assert.ok(!raw?.includes(stored.accessToken) && !raw?.includes(stored.refreshToken), `${key} holds a token in clear`);
    }
    assert.deepEqual(await store.listLocations(), [loc]);
    // The key name is authenticated: the value copied under another location does not open.
    const raw = await redis1.get(`${prefix}:ghl-oauth:${loc}:token`);
    assert.ok(raw);
    await redis1.set(`${prefix}:ghl-oauth:loc_copy:token`, raw);
    assert.equal(await store.get('loc_copy'), undefined);
    assert.equal(await provider.tokenFor(loc), stored.accessToken);
  });

  test('a token within the margin of expiry is refreshed before use, and the new pair is stored', async () => {
    const store = storeOn(redis1, newPrefix());
    const provider = providerFor(store);
    const loc = newLocation();
    await provider.exchangeCode(sim.issueAuthorizationCode({ userType: 'Location', locationId: loc }));
    const old = await store.get(loc);
    assert.ok(old);
    await store.set(loc, { ...old, expiresAt: Date.now() + 60_000 }); // inside the 5-min margin
    const refreshesBefore = sim.oauthCalls.refresh_token;
    const token = await provider.tokenFor(loc);
    assert.notEqual(token, old.accessToken);
    assert.equal(sim.oauthCalls.refresh_token - refreshesBefore, 1);
    const now = await store.get(loc);
    assert.equal(now?.accessToken, token);
    assert.notEqual(now?.refreshToken, old.refreshToken);
    assert.ok((now?.expiresAt ?? 0) > Date.now() + 86_000_000);
  });

  test('THE RACE: two workers on two connections refresh the same rejected token → one token call, one new token', async () => {
    const prefix = newPrefix();
    const loc = newLocation();
    const p1 = providerFor(storeOn(redis1, prefix));
    const p2 = providerFor(storeOn(redis2, prefix));
    await p1.exchangeCode(sim.issueAuthorizationCode({ userType: 'Location', locationId: loc }));
    const rejected = await p1.tokenFor(loc);
    assert.equal(await p2.tokenFor(loc), rejected);
    sim.revokeToken(rejected); // both got a 401 with it
    const before = sim.oauthCalls.refresh_token;
    const [a, b] = await Promise.all([p1.refresh(loc, rejected), p2.refresh(loc, rejected)]);
    assert.equal(sim.oauthCalls.refresh_token - before, 1);
    assert.equal(a, b);
    assert.notEqual(a, rejected);
    assert.equal(await p2.tokenFor(loc), a);
  });

  test('a spent refresh token → needsReconnect, one callback, GHL_RECONNECT_REQUIRED (again without calling GHL)', async () => {
    const store = storeOn(redis1, newPrefix());
    const reconnects: [string, string][] = [];
    const provider = providerFor(store, reconnects);
    const loc = newLocation();
    await provider.exchangeCode(sim.issueAuthorizationCode({ userType: 'Location', locationId: loc }));
    const entry = await store.get(loc);
    assert.ok(entry?.refreshToken);
    sim.revokeRefreshToken(entry.refreshToken);
    const first = await rejection(provider.refresh(loc, entry.accessToken));
    assert.ok(first instanceof GhlClientError);
    assert.equal(first.code, 'GHL_RECONNECT_REQUIRED');
    assert.equal((await store.get(loc))?.needsReconnect, true);
    const calls = sim.oauthCalls.refresh_token;
    const second = await rejection(provider.refresh(loc, entry.accessToken));
    assert.ok(second instanceof GhlClientError && second.code === 'GHL_RECONNECT_REQUIRED');
    const third = await rejection(provider.tokenFor(loc));
    assert.ok(third instanceof GhlClientError && third.code === 'GHL_RECONNECT_REQUIRED');
    assert.equal(sim.oauthCalls.refresh_token, calls);
    assert.equal(reconnects.length, 1);
    assert.equal(reconnects[0]?.[0], loc);
    assert.match(reconnects[0]?.[1] ?? '', /400 invalid_grant/);
    // The reason names no secret.
    assert.ok(!(reconnects[0]?.[1] ?? '').includes(entry.refreshToken));
  });

  test('an unknown location is GHL_LOCATION_NOT_SERVED', async () => {
    const provider = providerFor(storeOn(redis1, newPrefix()));
    const error = await rejection(provider.tokenFor('loc_nowhere'));
    assert.ok(error instanceof GhlClientError && error.code === 'GHL_LOCATION_NOT_SERVED');
  });

  test('a Company install stores the company token and mints a Location token per approved location', async () => {
    const store = storeOn(redis1, newPrefix());
    const provider = providerFor(store);
    const loc = newLocation();
    const result = await provider.exchangeCode(
      sim.issueAuthorizationCode({ userType: 'Company', companyId: 'comp_ag', approvedLocations: [loc] }),
    );
    assert.deepEqual(result, { userType: 'Company', companyId: 'comp_ag', locations: [loc] });
    const locEntry = await store.get(loc);
    assert.equal(locEntry?.refreshToken, undefined);
    assert.equal((await store.get('company:comp_ag'))?.userType, 'Company');
    // No refresh token: renewal mints again from the company token.
    const before = sim.oauthCalls.locationToken;
    const renewed = await provider.refresh(loc, locEntry?.accessToken ?? '');
    assert.notEqual(renewed, locEntry?.accessToken);
    assert.equal(sim.oauthCalls.locationToken - before, 1);
  });

  test('the GHL client reads a contact with an OAuth access token, refreshing once after a 401', async () => {
    const store = storeOn(redis1, newPrefix());
    const provider = providerFor(store);
    const loc = newLocation();
    await provider.exchangeCode(sim.issueAuthorizationCode({ userType: 'Location', locationId: loc }));
    const contact = sim.userCreateContact(loc, { firstName: 'Oauth', email: 'oauth@example.com' });
    const client = createGhlClient({ baseUrl: sim.url, version: VERSION, timeoutMs: 3_000, tokens: provider });
    try {
      assert.equal((await client.getContact(loc, contact.id)).firstName, 'Oauth');
      const used = await provider.tokenFor(loc);
      sim.revokeToken(used);
      const before = sim.oauthCalls.refresh_token;
      assert.equal((await client.getContact(loc, contact.id)).id, contact.id);
      assert.equal(sim.oauthCalls.refresh_token - before, 1);
      const seen = sim.calls.filter((c) => c.path === `/contacts/${contact.id}`);
      assert.deepEqual(seen.map((c) => c.status), [200, 401, 200]);
    } finally {
      await client.close();
    }
  });
});

describe('OAuth token store key rotation', () => {
  test('written with A, read with [B, A], reencryptAll rewrites with B, then [B] alone reads it', async () => {
    const prefix = newPrefix();
    const token = { accessToken: 'at-rotation', refreshToken: 'rt-rotation', expiresAt: Date.now() + 3_600_000, userType: 'Location' as const };
    await storeOn(redis1, prefix, [KEY_A]).set('loc_r1', token);
    await storeOn(redis1, prefix, [KEY_A]).set('loc_r2', { ...token, accessToken: 'at-2' });
    assert.equal(await storeOn(redis1, prefix, [KEY_B]).get('loc_r1'), undefined);
    const rotating = storeOn(redis1, prefix, [KEY_B, KEY_A]);
    assert.deepEqual(await rotating.get('loc_r1'), token);
    assert.equal(await rotating.reencryptAll(), 2);
    const bOnly = storeOn(redis1, prefix, [KEY_B]);
    assert.deepEqual(await bOnly.get('loc_r1'), token);
    assert.equal((await bOnly.get('loc_r2'))?.accessToken, 'at-2');
    assert.equal(await storeOn(redis1, prefix, [KEY_A]).get('loc_r1'), undefined);
    await bOnly.delete('loc_r1');
    assert.deepEqual(await bOnly.listLocations(), ['loc_r2']);
  });

  test('a key that is not 32 bytes is refused', () => {
    assert.throws(() => storeOn(redis1, newPrefix(), [randomBytes(16)]), { code: 'ENCRYPTION_KEY_INVALID' });
    assert.throws(() => storeOn(redis1, newPrefix(), []), { code: 'ENCRYPTION_KEY_INVALID' });
  });
});
