/**
 * Several accounts in the Trustpilot simulator, over real HTTP on loopback: each application's key and
 * secret get tokens only for themselves, a token is bound to its key, a business user reads privately
 * only its own unit (another unit's listing and reviews are a 403), public endpoints answer any known
 * key for any unit, each key has its own rate-limit window, and each unit's review events go to its
 * account's webhook URL. The default account behaves as before.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { startTrustpilotSimulator, type TrustpilotSimulator } from '../../../src/sandbox/trustpilot/simulator.js';
import { arr, basic, call, KEY, obj, OWN_BU, PASSWORD, passwordGrant, str, TOKEN_PATH, USER } from '../../helpers/trustpilot-sim.js';
import { waitFor } from '../../helpers/wait.js';

const OTHER = { apiKey: 'tp-other-key', apiSecret: 'tp-other-secret', users: [{ username: 'boss@other.test', password: 'other-password' }], businessUnitId: 'bu_other', domain: 'other-business.test' };

describe('Trustpilot simulator with several accounts', () => {
  let sim: TrustpilotSimulator;
  let receiver: Server;
  let receiverUrl = '';
  const received: { path: string; body: string }[] = [];

  before(async () => {
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        received.push({ path: req.url ?? '', body: Buffer.concat(chunks).toString('utf8') });
        res.end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const address = receiver.address();
    assert.ok(address !== null && typeof address === 'object');
    receiverUrl = `http://127.0.0.1:${address.port}`;
    sim = await startTrustpilotSimulator({ rateLimit: { max: 1000, windowMs: 60_000 }, webhookUrl: `${receiverUrl}/default`, accounts: [{ ...OTHER, webhookUrl: `${receiverUrl}/other` }] });
  });

  after(async () => {
    await sim.close();
    await new Promise<void>((resolve) => receiver.close(() => resolve()));
  });

  async function otherToken(): Promise<string> {
    const answer = await call(sim.url, 'POST', `${TOKEN_PATH}/accesstoken`, {
      headers: basic(OTHER.apiKey, OTHER.apiSecret),
      form: { grant_type: 'password', username: 'boss@other.test', password: 'other-password' },
    });
    assert.equal(answer.status, 200, answer.text);
    assert.equal(obj(answer.json).client_id, OTHER.apiKey, 'the token is issued to the asking application');
    return str(obj(answer.json).access_token);
  }

  test("each application's business users get tokens with its own credentials only", async () => {
    const wrongSecret = await call(sim.url, 'POST', `${TOKEN_PATH}/accesstoken`, {
      headers: basic(OTHER.apiKey, 'tp-sandbox-secret'),
      form: { grant_type: 'password', username: 'boss@other.test', password: 'other-password' },
    });
    assert.equal(wrongSecret.status, 401, 'another application’s secret is refused');
    const foreignUser = await call(sim.url, 'POST', `${TOKEN_PATH}/accesstoken`, {
      headers: basic(OTHER.apiKey, OTHER.apiSecret),
      form: { grant_type: 'password', username: USER, password: PASSWORD },
    });
    assert.equal(foreignUser.status, 401, 'the default account’s business user is unknown to the other application');
    assert.equal(obj(foreignUser.json).error, 'invalid_grant');
    const { refresh } = await passwordGrant(sim.url);
    const crossRefresh = await call(sim.url, 'POST', `${TOKEN_PATH}/refresh`, { headers: basic(OTHER.apiKey, OTHER.apiSecret), form: { grant_type: 'refresh_token', refresh_token: refresh } });
    assert.equal(crossRefresh.status, 400, 'a refresh token works only for the application that got it');
  });

  test('a business user reads privately only its own unit: another unit, known or not, is a 403', async () => {
    const own = sim.addReview({ businessUnitId: OTHER.businessUnitId, stars: 5, title: 'Other', text: 'Of the other unit.', referralEmail: 'x@other.test' });
    const theirs = sim.addReview({ stars: 2, title: 'Default', text: 'Of the default unit.', referralEmail: 'y@default.test' });
    const token = await otherToken();
    const bearer = { authorization: `Bearer ${token}` };
    const listing = await call(sim.url, 'GET', `/v1/private/business-units/${OTHER.businessUnitId}/reviews`, { headers: bearer });
    assert.equal(listing.status, 200, listing.text);
    assert.deepEqual(arr(obj(listing.json).reviews).map((review) => obj(review).id), [own.id]);
    assert.equal((await call(sim.url, 'GET', `/v1/private/reviews/${own.id}`, { headers: bearer })).status, 200);

    assert.equal((await call(sim.url, 'GET', `/v1/private/business-units/${OWN_BU}/reviews`, { headers: bearer })).status, 403);
    assert.equal((await call(sim.url, 'GET', `/v1/private/reviews/${theirs.id}`, { headers: bearer })).status, 403);
    assert.equal((await call(sim.url, 'GET', `/v1/private/business-units/bu_nobody/reviews`, { headers: bearer })).status, 403);
    const defaultBearer = { authorization: `Bearer ${(await passwordGrant(sim.url)).access}` };
    assert.equal((await call(sim.url, 'GET', `/v1/private/business-units/${OTHER.businessUnitId}/reviews`, { headers: defaultBearer })).status, 403);
    assert.equal((await call(sim.url, 'GET', `/v1/private/reviews/${own.id}`, { headers: defaultBearer })).status, 403);
    assert.equal((await call(sim.url, 'GET', `/v1/private/reviews/${theirs.id}`, { headers: defaultBearer })).status, 200);
    // The apikey header next to a token must be the token's own key.
    assert.equal((await call(sim.url, 'GET', `/v1/private/reviews/${own.id}`, { headers: { ...bearer, apikey: KEY } })).status, 401);
  });

  test('public endpoints answer any known key for any unit; an unknown key is refused', async () => {
    for (const apikey of [KEY, OTHER.apiKey]) {
      assert.equal((await call(sim.url, 'GET', `/v1/business-units/${OWN_BU}`, { headers: { apikey } })).status, 200);
      assert.equal((await call(sim.url, 'GET', `/v1/business-units/${OTHER.businessUnitId}`, { headers: { apikey } })).status, 200);
      const found = await call(sim.url, 'GET', `/v1/business-units/find?name=${OTHER.domain}`, { headers: { apikey } });
      assert.equal(obj(found.json).id, OTHER.businessUnitId);
    }
    assert.equal((await call(sim.url, 'GET', `/v1/business-units/${OWN_BU}`, { headers: { apikey: 'tp-unknown-key' } })).status, 401);
  });

  test('each key has its own rate-limit window', async () => {
    const before = { own: sim.maxCallsInAnyWindow(), other: sim.maxCallsInAnyWindow(OTHER.apiKey) };
    for (let index = 0; index < 3; index++) await call(sim.url, 'GET', `/v1/business-units/${OWN_BU}`, { headers: { apikey: OTHER.apiKey } });
    assert.equal(sim.maxCallsInAnyWindow(OTHER.apiKey), before.other + 3);
    assert.equal(sim.maxCallsInAnyWindow(), before.own, "the default key's window saw none of them");
    assert.equal(sim.maxCallsInAnyWindow(KEY), before.own);
  });

  test("each unit's review events go to its own account's webhook URL", async () => {
    await sim.idle();
    received.length = 0;
    const earlier = sim.accountDeliveries(OTHER.apiKey).length;
    const other = sim.addReview({ businessUnitId: OTHER.businessUnitId, stars: 4, title: 'Hooked', text: 'To the other URL.' });
    sim.updateReview(other.id, { stars: 3 });
    sim.deleteReview(other.id);
    const mine = sim.addReview({ stars: 4, title: 'Default hook', text: 'To the default URL.' });
    await sim.idle();
    await waitFor(() => (received.length >= 4 ? true : undefined), 10_000, 'four deliveries');
    const to = (path: string) => received.filter((entry) => entry.path === path).map((entry) => entry.body);
    assert.equal(to('/other').length, 3);
    assert.ok(to('/other').every((body) => body.includes(other.id)));
    assert.deepEqual(to('/default').length, 1);
    assert.ok(to('/default')[0]?.includes(mine.id));
    assert.equal(sim.accountDeliveries(OTHER.apiKey).length, earlier + 3);
    assert.ok(sim.deliveries.every((delivery) => !delivery.body.includes(other.id)), 'none of the other unit’s events in the default account’s deliveries');
    sim.setAccountWebhookUrl(OTHER.apiKey, undefined);
    sim.addReview({ businessUnitId: OTHER.businessUnitId, stars: 4, title: 'Unhooked', text: 'Nowhere.' });
    await sim.idle();
    assert.equal(sim.accountDeliveries(OTHER.apiKey).length, earlier + 3, 'no URL, no delivery');
    assert.throws(() => sim.setAccountWebhookUrl('tp-unknown-key', undefined), /No account/);
    assert.equal((await call(sim.url, 'PUT', '/__sandbox/webhook-url', { json: { url: `${receiverUrl}/other`, apiKey: OTHER.apiKey } })).status, 200);
    assert.equal((await call(sim.url, 'PUT', '/__sandbox/webhook-url', { json: { url: null, apiKey: 'tp-unknown-key' } })).status, 404);
    sim.addReview({ businessUnitId: OTHER.businessUnitId, stars: 5, title: 'Rehooked', text: 'Back to the other URL.' });
    await sim.idle();
    assert.equal(sim.accountDeliveries(OTHER.apiKey).length, earlier + 4, 'the control API set the account’s URL');
  });
});
