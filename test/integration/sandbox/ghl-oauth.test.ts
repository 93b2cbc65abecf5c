/**
 * The simulator's marketplace OAuth: code exchange, single-use refresh tokens, client checks,
 * Company → Location tokens, and issued access tokens accepted by the API on their own location only.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startGhlSimulator, type GhlSimulator } from '../../../src/sandbox/ghl/simulator.js';

const VERSION = '2021-07-28';
const CLIENT = { clientId: 'client-sim-it', clientSecret: 'secret-sim-it' };
const LOC = 'loc_oauth_sim_1';
const OTHER = 'loc_oauth_sim_2';

let sim: GhlSimulator;

async function post(path: string, form: Record<string, string>, headers: Record<string, string> = {}) {
  const response = await fetch(`${sim.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(form).toString(),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

const tokenForm = (extra: Record<string, string>) => ({ client_id: CLIENT.clientId, client_secret: CLIENT.clientSecret, ...extra });

async function getContact(token: string, contactId: string): Promise<number> {
  const response = await fetch(`${sim.url}/contacts/${contactId}`, { headers: { authorization: `Bearer ${token}`, version: VERSION } });
  await response.arrayBuffer();
  return response.status;
}

before(async () => {
  sim = await startGhlSimulator({ locations: [{ id: OTHER, token: 'pit-other' }], oauthClients: [CLIENT] });
});

after(async () => {
  await sim.close();
});

describe('POST /oauth/token', () => {
  test('authorization_code → SPEC response; the access token reads its location and no other', async () => {
    const code = sim.issueAuthorizationCode({ userType: 'Location', locationId: LOC, companyId: 'comp_1' });
    const { status, body } = await post('/oauth/token', tokenForm({ grant_type: 'authorization_code', code, user_type: 'Location' }));
    assert.equal(status, 200);
    assert.equal(body.token_type, 'Bearer');
    assert.equal(body.expires_in, 86399);
    assert.equal(body.userType, 'Location');
    assert.equal(body.locationId, LOC);
    assert.equal(body.companyId, 'comp_1');
    assert.equal(typeof body.refresh_token, 'string');
    assert.equal(typeof body.userId, 'string');
    assert.equal(typeof body.access_token, 'string');
    const mine = sim.userCreateContact(LOC, { firstName: 'Ann' });
    const theirs = sim.userCreateContact(OTHER, { firstName: 'Bob' });
    assert.equal(await getContact(String(body.access_token), mine.id), 200);
    assert.equal(await getContact(String(body.access_token), theirs.id), 403);
    // A code is good once.
    const again = await post('/oauth/token', tokenForm({ grant_type: 'authorization_code', code }));
    assert.equal(again.status, 401);
    assert.equal(again.body.error, 'UnAuthorized!');
    assert.equal(again.body.error_description, 'Authorization code not found');
  });

  test('a bad client secret is refused with 401 UnAuthorized!', async () => {
    const code = sim.issueAuthorizationCode({ userType: 'Location', locationId: LOC });
    const { status, body } = await post('/oauth/token', { ...tokenForm({ grant_type: 'authorization_code', code }), client_secret: 'wrong' });
    assert.equal(status, 401);
    assert.equal(body.error, 'UnAuthorized!');
    assert.equal(typeof body.error_description, 'string');
  });

  test('refresh tokens rotate and are single-use; a revoked one is invalid_grant; calls are counted per grant', async () => {
    const before = { ...sim.oauthCalls };
    const code = sim.issueAuthorizationCode({ userType: 'Location', locationId: LOC });
    const first = await post('/oauth/token', tokenForm({ grant_type: 'authorization_code', code }));
    const rt1 = String(first.body.refresh_token);
    const second = await post('/oauth/token', tokenForm({ grant_type: 'refresh_token', refresh_token: rt1 }));
    assert.equal(second.status, 200);
    assert.notEqual(second.body.refresh_token, rt1);
    assert.notEqual(second.body.access_token, first.body.access_token);
    const reused = await post('/oauth/token', tokenForm({ grant_type: 'refresh_token', refresh_token: rt1 }));
    assert.equal(reused.status, 400);
    assert.equal(reused.body.error, 'invalid_grant');
    const rt2 = String(second.body.refresh_token);
    sim.revokeRefreshToken(rt2);
    const revoked = await post('/oauth/token', tokenForm({ grant_type: 'refresh_token', refresh_token: rt2 }));
    assert.equal(revoked.status, 400);
    assert.equal(sim.oauthCalls.authorization_code - before.authorization_code, 1);
    assert.equal(sim.oauthCalls.refresh_token - before.refresh_token, 3);
    // The grant types are an enum in oauth.json: another one is refused like any undocumented value.
    const unknownGrant = await post('/oauth/token', tokenForm({ grant_type: 'password' }));
    assert.equal(unknownGrant.status, 422);
    assert.deepEqual(unknownGrant.body.message, ['grant_type must be one of the following values: authorization_code, refresh_token, client_credentials']);
  });
});

describe('POST /oauth/locationToken', () => {
  test('a Company token mints a Location token (no refresh token) for an approved location only', async () => {
    const code = sim.issueAuthorizationCode({ userType: 'Company', companyId: 'comp_agency', approvedLocations: [LOC] });
    const company = await post('/oauth/token', tokenForm({ grant_type: 'authorization_code', code, user_type: 'Company' }));
    assert.equal(company.body.userType, 'Company');
    assert.equal(company.body.locationId, undefined);
    assert.deepEqual(company.body.approvedLocations, [LOC]);
    const companyToken = String(company.body.access_token);
    const contact = sim.userCreateContact(LOC, { firstName: 'Cy' });
    // A company token is not a location token.
    assert.equal(await getContact(companyToken, contact.id), 401);

    const auth = { authorization: `Bearer ${companyToken}`, version: VERSION };
    const minted = await post('/oauth/locationToken', { companyId: 'comp_agency', locationId: LOC }, auth);
    assert.equal(minted.status, 200);
    assert.equal(minted.body.locationId, LOC);
    assert.equal(minted.body.refresh_token, undefined);
    assert.equal(await getContact(String(minted.body.access_token), contact.id), 200);

    const notApproved = await post('/oauth/locationToken', { companyId: 'comp_agency', locationId: OTHER }, auth);
    assert.equal(notApproved.status, 403);
    const noVersion = await post('/oauth/locationToken', { companyId: 'comp_agency', locationId: LOC }, { authorization: auth.authorization });
    assert.equal(noVersion.status, 401);
    const badToken = await post('/oauth/locationToken', { companyId: 'comp_agency', locationId: LOC }, { ...auth, authorization: 'Bearer nope' });
    assert.equal(badToken.status, 401);
    assert.equal(sim.oauthCalls.locationToken, 4);
  });
});
