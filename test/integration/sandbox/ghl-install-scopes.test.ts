/**
 * The simulator's install page and scopes: `/v2/oauth/chooselocation` needs the app's version_id and
 * grants exactly the scopes requested; every API call, and POST /oauth/locationToken, is refused with
 * GHL's 401 when the token lacks the scope the endpoint needs.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CHOOSE_LOCATION_PATH, startGhlSimulator, type GhlSimulator } from '../../../src/sandbox/ghl/simulator.js';

const VERSION = '2021-07-28';
const CLIENT = { clientId: 'client-scopes-it', clientSecret: 'secret-scopes-it', versionId: 'ver-scopes-it' };
const LOC = 'loc_scopes_1';
const REDIRECT = 'https://bridge.example.com/oauth/callback';
const SCOPE_DENIED = 'The token is not authorized for this scope.';

let sim: GhlSimulator;

before(async () => {
  sim = await startGhlSimulator({ locations: [{ id: LOC, token: 'pit-read-only', scopes: ['contacts.readonly'] }], oauthClients: [CLIENT] });
});

after(async () => {
  await sim.close();
});

function installPage(params: Record<string, string>) {
  return fetch(`${sim.url}${CHOOSE_LOCATION_PATH}?${new URLSearchParams(params).toString()}`, { redirect: 'manual' });
}

const pageParams = (scope: string) => ({ response_type: 'code', client_id: CLIENT.clientId, version_id: CLIENT.versionId, redirect_uri: REDIRECT, scope, state: 's-1' });

/** Installs through the page with `scope`, then trades the code: the token response. */
async function installWith(scope: string): Promise<Record<string, unknown>> {
  const page = await installPage(pageParams(scope));
  assert.equal(page.status, 302);
  const back = new URL(page.headers.get('location') ?? '');
  assert.equal(back.searchParams.get('state'), 's-1', 'the state comes back');
  const form = { client_id: CLIENT.clientId, client_secret: CLIENT.clientSecret, grant_type: 'authorization_code', code: back.searchParams.get('code') ?? '' };
  const response = await fetch(`${sim.url}/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form).toString() });
  assert.equal(response.status, 200);
  return (await response.json()) as Record<string, unknown>;
}

async function call(token: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${sim.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, version: VERSION, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('GET /v2/oauth/chooselocation', () => {
  test('refuses a request without version_id, or with another version', async () => {
    const { version_id: _omitted, ...withoutVersion } = pageParams('contacts.readonly');
    const missing = await installPage(withoutVersion);
    assert.equal(missing.status, 400);
    assert.equal(((await missing.json()) as { error: string }).error, 'error.noversionid');
    const other = await installPage({ ...pageParams('contacts.readonly'), version_id: 'ver-someone-else' });
    assert.equal(other.status, 400);
    await other.arrayBuffer();
  });

  test('refuses an unknown client and a response_type other than code', async () => {
    const unknown = await installPage({ ...pageParams('contacts.readonly'), client_id: 'nobody' });
    assert.equal(unknown.status, 400);
    await unknown.arrayBuffer();
    const implicit = await installPage({ ...pageParams('contacts.readonly'), response_type: 'token' });
    assert.equal(implicit.status, 400);
    await implicit.arrayBuffer();
  });

  test('grants only the scopes requested: a read-only install cannot write', async () => {
    const tokens = await installWith('contacts.readonly');
    assert.equal(tokens.scope, 'contacts.readonly');
    const token = String(tokens.access_token);
    const contact = sim.userCreateContact(LOC, { firstName: 'Scoped' });
    assert.equal((await call(token, 'GET', `/contacts/${contact.id}`)).status, 200);
    assert.equal((await call(token, 'POST', '/contacts/search', { locationId: LOC, pageLimit: 1 })).status, 200, 'search is a read');
    const write = await call(token, 'PUT', `/contacts/${contact.id}`, { firstName: 'Changed' });
    assert.equal(write.status, 401);
    assert.equal(write.body.message, SCOPE_DENIED);
    assert.equal((await call(token, 'GET', `/locations/${LOC}/customFields`)).status, 401);
    assert.equal(sim.store.getContact(contact.id)?.firstName, 'Scoped', 'nothing written');
  });

  test('a private token is held to its scopes as well', async () => {
    const contact = sim.userCreateContact(LOC, { firstName: 'Private' });
    assert.equal((await call('pit-read-only', 'GET', `/contacts/${contact.id}`)).status, 200);
    const note = await call('pit-read-only', 'POST', `/contacts/${contact.id}/notes`, { body: 'hello' });
    assert.equal(note.status, 401);
    assert.equal(note.body.message, SCOPE_DENIED);
  });
});

describe('POST /oauth/locationToken', () => {
  async function companyToken(scopes: string[]): Promise<string> {
    const code = sim.issueAuthorizationCode({ userType: 'Company', companyId: 'comp_scopes', approvedLocations: [LOC], scopes });
    const form = { client_id: CLIENT.clientId, client_secret: CLIENT.clientSecret, grant_type: 'authorization_code', code, user_type: 'Company' };
    const response = await fetch(`${sim.url}/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form).toString() });
    return String(((await response.json()) as Record<string, unknown>).access_token);
  }

  async function mint(token: string) {
    const response = await fetch(`${sim.url}/oauth/locationToken`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, version: VERSION, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ companyId: 'comp_scopes', locationId: LOC }).toString(),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  test('needs oauth.write, and the location token carries the install scopes', async () => {
    const refused = await mint(await companyToken(['contacts.readonly', 'contacts.write']));
    assert.equal(refused.status, 401);
    assert.equal(refused.body.message, SCOPE_DENIED);
    const granted = await mint(await companyToken(['contacts.readonly', 'oauth.readonly', 'oauth.write']));
    assert.equal(granted.status, 200);
    assert.equal(granted.body.scope, 'contacts.readonly oauth.readonly oauth.write');
    const contact = sim.userCreateContact(LOC, { firstName: 'Minted' });
    assert.equal((await call(String(granted.body.access_token), 'GET', `/contacts/${contact.id}`)).status, 200);
    assert.equal((await call(String(granted.body.access_token), 'DELETE', `/contacts/${contact.id}`)).status, 401);
  });
});
