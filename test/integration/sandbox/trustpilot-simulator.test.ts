/**
 * The Trustpilot simulator's API over real HTTP on loopback: OAuth grants and refresh rotation,
 * public (API key) vs private (Bearer) auth, business units, private review filters and paging,
 * single reviews, consumers, the per-key rate limit (token calls included) and every fault kind.
 */
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTrustpilotSimulator, type TrustpilotSimulator } from '../../../src/sandbox/trustpilot/simulator.js';
import { arr, basic, call, KEY, obj, OWN_BU, PASSWORD, passwordGrant, SECRET, str, TOKEN_PATH, USER, type Answer } from '../../helpers/trustpilot-sim.js';
import { waitFor } from '../../helpers/wait.js';

const apikey = { apikey: KEY };
const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });
const ISO_Z = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?Z$/;

function faultOf(answer: Answer): { faultstring: string; errorcode: string } {
  const fault = obj(obj(answer.json, 'body').fault, 'fault');
  return { faultstring: str(fault.faultstring), errorcode: str(obj(fault.detail).errorcode) };
}

describe('Trustpilot simulator: OAuth tokens', () => {
  let sim: TrustpilotSimulator;
  before(async () => {
    sim = await startTrustpilotSimulator();
  });
  after(() => sim.close());

  test('the password grant answers Trustpilot’s token shape, expires_in as a string, and the token reads private reviews', async () => {
    const { access, refresh, body } = await passwordGrant(sim.url);
    assert.equal(body.expires_in, '359999');
    assert.equal(body.token_type, 'BearerToken');
    assert.match(str(body.issued_at), /^\d{13}$/);
    assert.notEqual(access, refresh);
    const reviews = await call(sim.url, 'GET', `/v1/private/business-units/${OWN_BU}/reviews`, { headers: bearer(access) });
    assert.equal(reviews.status, 200, reviews.text);
    assert.equal(sim.calls[0]?.auth, 'basic');
    assert.equal(sim.calls[1]?.auth, 'bearer');
  });

  test('wrong or missing Basic client credentials → 401 invalid_client', async () => {
    const form = { grant_type: 'password', username: USER, password: PASSWORD };
    for (const headers of [basic(KEY, 'wrong-secret'), basic('other-key', SECRET), {}]) {
      const answer = await call(sim.url, 'POST', `${TOKEN_PATH}/accesstoken`, { headers, form });
      assert.equal(answer.status, 401, answer.text);
      assert.equal(obj(answer.json).error, 'invalid_client');
      assert.equal(obj(answer.json).access_token, undefined);
    }
  });

  test('a wrong password or unknown user → 401 invalid_grant; bad requests → 400/415', async () => {
    for (const form of [
      { grant_type: 'password', username: USER, password: 'nope' },
      { grant_type: 'password', username: 'stranger@sandbox.test', password: PASSWORD },
    ]) {
      const answer = await call(sim.url, 'POST', `${TOKEN_PATH}/accesstoken`, { headers: basic(), form });
      assert.equal(answer.status, 401, answer.text);
      assert.equal(obj(answer.json).error, 'invalid_grant');
    }
    const unsupported = await call(sim.url, 'POST', `${TOKEN_PATH}/accesstoken`, { headers: basic(), form: { grant_type: 'implicit' } });
    assert.equal(unsupported.status, 400);
    assert.equal(obj(unsupported.json).error, 'unsupported_grant_type');
    const missing = await call(sim.url, 'POST', `${TOKEN_PATH}/accesstoken`, { headers: basic(), form: { grant_type: 'password' } });
    assert.equal(missing.status, 400);
    assert.equal(obj(missing.json).error, 'invalid_request');
    const asJson = await call(sim.url, 'POST', `${TOKEN_PATH}/accesstoken`, {
      headers: basic(),
      json: { grant_type: 'password', username: USER, password: PASSWORD },
    });
    assert.equal(asJson.status, 415, asJson.text);
  });

  test('client credentials give an access token without a refresh token', async () => {
    const answer = await call(sim.url, 'POST', `${TOKEN_PATH}/accesstoken`, { headers: basic(), form: { grant_type: 'client_credentials' } });
    assert.equal(answer.status, 200, answer.text);
    const body = obj(answer.json);
    assert.equal(body.expires_in, '359999');
    assert.equal(body.refresh_token, undefined);
  });

  test('refresh rotates both tokens; the old refresh token is refused with 400 invalid_grant, at either URL', async () => {
    const first = await passwordGrant(sim.url);
    const second = await call(sim.url, 'POST', `${TOKEN_PATH}/refresh`, {
      headers: basic(),
      form: { grant_type: 'refresh_token', refresh_token: first.refresh },
    });
    assert.equal(second.status, 200, second.text);
    const pair = obj(second.json);
    assert.notEqual(pair.access_token, first.access);
    assert.notEqual(pair.refresh_token, first.refresh);
    assert.equal(pair.expires_in, '359999');

    for (const path of ['refresh', 'accesstoken']) {
      const reused = await call(sim.url, 'POST', `${TOKEN_PATH}/${path}`, {
        headers: basic(),
        form: { grant_type: 'refresh_token', refresh_token: first.refresh },
      });
      assert.equal(reused.status, 400, reused.text);
      assert.equal(obj(reused.json).error, 'invalid_grant');
    }

    const third = await call(sim.url, 'POST', `${TOKEN_PATH}/accesstoken`, {
      headers: basic(),
      form: { grant_type: 'refresh_token', refresh_token: str(pair.refresh_token) },
    });
    assert.equal(third.status, 200, third.text);
    const fresh = str(obj(third.json).access_token);
    const ok = await call(sim.url, 'GET', `/v1/private/business-units/${OWN_BU}/reviews`, { headers: bearer(fresh) });
    assert.equal(ok.status, 200);
  });

  test('expired access tokens answer 401 until the client refreshes', async () => {
    const { access, refresh } = await passwordGrant(sim.url);
    sim.expireAccessTokens();
    const expired = await call(sim.url, 'GET', `/v1/private/business-units/${OWN_BU}/reviews`, { headers: bearer(access) });
    assert.equal(expired.status, 401);
    assert.equal(faultOf(expired).errorcode, 'keymanagement.service.access_token_expired');
    const renewed = await call(sim.url, 'POST', `${TOKEN_PATH}/refresh`, { headers: basic(), form: { grant_type: 'refresh_token', refresh_token: refresh } });
    assert.equal(renewed.status, 200, renewed.text);
    const again = await call(sim.url, 'GET', `/v1/private/business-units/${OWN_BU}/reviews`, {
      headers: bearer(str(obj(renewed.json).access_token)),
    });
    assert.equal(again.status, 200);
  });

  test('a revoked access token is refused', async () => {
    const { access } = await passwordGrant(sim.url);
    const revoked = await call(sim.url, 'POST', `${TOKEN_PATH}/revoke`, { headers: basic(), form: { token: access } });
    assert.equal(revoked.status, 200, revoked.text);
    const after = await call(sim.url, 'GET', `/v1/private/reviews/whatever`, { headers: bearer(access) });
    assert.equal(after.status, 401);
    assert.equal(faultOf(after).errorcode, 'oauth.v2.InvalidAccessToken');
  });

  test('access tokens expire on their own after accessTokenTtlSeconds', async () => {
    const short = await startTrustpilotSimulator({ accessTokenTtlSeconds: 1 });
    try {
      const { access, body } = await passwordGrant(short.url);
      assert.equal(body.expires_in, '1');
      const path = `/v1/private/business-units/${OWN_BU}/reviews`;
      assert.equal((await call(short.url, 'GET', path, { headers: bearer(access) })).status, 200);
      const status = await waitFor(async () => {
        const answer = (await call(short.url, 'GET', path, { headers: bearer(access) })).status;
        return answer === 200 ? undefined : answer;
      }, 10_000, 'the access token to expire', 100);
      assert.equal(status, 401);
    } finally {
      await short.close();
    }
  });
});

describe('Trustpilot simulator: public and private API', () => {
  let sim: TrustpilotSimulator;
  let token: string;
  const unitId = 'bu_example';

  before(async () => {
    sim = await startTrustpilotSimulator();
    sim.addBusinessUnit({ id: unitId, domain: 'www.Example.com', displayName: 'Example Ltd', trustScore: 4.2, stars: 4, totalReviews: 120 });
    token = (await passwordGrant(sim.url)).access;
  });
  after(() => sim.close());

  test('public endpoints want the apikey header or query parameter; a bearer token alone is not enough', async () => {
    const path = `/v1/business-units/${unitId}`;
    assert.equal((await call(sim.url, 'GET', path, { headers: apikey })).status, 200);
    assert.equal((await call(sim.url, 'GET', `${path}?apikey=${KEY}`)).status, 200);
    for (const headers of [{}, { apikey: 'wrong' }, bearer(token)]) {
      const refused = await call(sim.url, 'GET', path, { headers });
      assert.equal(refused.status, 401, JSON.stringify(headers));
      assert.equal(faultOf(refused).faultstring, 'Invalid ApiKey');
    }
    const kinds = sim.calls.slice(-5).map((c) => c.auth);
    assert.deepEqual(kinds, ['apikey', 'apikey', 'none', 'apikey', 'bearer']);
  });

  test('private endpoints want a bearer token; the apikey header is accepted beside it but must be right', async () => {
    const path = `/v1/private/business-units/${OWN_BU}/reviews`;
    assert.equal((await call(sim.url, 'GET', path, { headers: { ...bearer(token), ...apikey } })).status, 200);
    for (const headers of [{}, apikey, bearer('not-a-token')]) {
      const refused = await call(sim.url, 'GET', path, { headers });
      assert.equal(refused.status, 401, JSON.stringify(headers));
      assert.equal(faultOf(refused).errorcode, 'oauth.v2.InvalidAccessToken');
    }
    const wrongKey = await call(sim.url, 'GET', path, { headers: { ...bearer(token), apikey: 'wrong' } });
    assert.equal(wrongKey.status, 401);
    assert.equal(faultOf(wrongKey).faultstring, 'Invalid ApiKey');
  });

  test('another business unit’s private reviews → 403', async () => {
    for (const id of [unitId, 'bu_unknown']) {
      const answer = await call(sim.url, 'GET', `/v1/private/business-units/${id}/reviews`, { headers: bearer(token) });
      assert.equal(answer.status, 403, id);
    }
  });

  test('find matches the domain with or without www., any case, and answers the documented shape', async () => {
    const ids = new Set<unknown>();
    for (const name of ['example.com', 'www.example.com', 'WWW.EXAMPLE.COM']) {
      const answer = await call(sim.url, 'GET', `/v1/business-units/find?name=${encodeURIComponent(name)}`, { headers: apikey });
      assert.equal(answer.status, 200, `${name}: ${answer.text}`);
      const unit = obj(answer.json);
      ids.add(unit.id);
      assert.deepEqual(Object.keys(unit), [
        'links', 'id', 'displayName', 'name', 'websiteUrl', 'country', 'numberOfReviews', 'status', 'score', 'badFit',
      ]);
      assert.deepEqual(unit.name, { identifying: 'example.com', referring: ['example.com', 'www.example.com'] });
      assert.deepEqual(unit.score, { trustScore: 4.2, stars: 4 });
      assert.equal(unit.displayName, 'Example Ltd');
      const counts = obj(unit.numberOfReviews);
      assert.equal(counts.total, 120);
      assert.equal(counts.fourStars, 120);
      assert.equal(counts.oneStar, 0);
    }
    assert.deepEqual([...ids], [unitId]);
    const unknown = await call(sim.url, 'GET', '/v1/business-units/find?name=unknown.example', { headers: apikey });
    assert.equal(unknown.status, 404);
    const missing = await call(sim.url, 'GET', '/v1/business-units/find', { headers: apikey });
    assert.equal(missing.status, 400);
  });

  test('business unit by id; unknown id → 404; our unit counts its live reviews', async () => {
    const answer = await call(sim.url, 'GET', `/v1/business-units/${unitId}`, { headers: apikey });
    assert.equal(obj(answer.json).id, unitId);
    assert.equal((await call(sim.url, 'GET', '/v1/business-units/nope', { headers: apikey })).status, 404);
    const before = obj(obj((await call(sim.url, 'GET', `/v1/business-units/${OWN_BU}`, { headers: apikey })).json).numberOfReviews);
    sim.addReview({ stars: 2, title: 't', text: 'x' });
    const afterCounts = obj(obj((await call(sim.url, 'GET', `/v1/business-units/${OWN_BU}`, { headers: apikey })).json).numberOfReviews);
    assert.equal(Number(afterCounts.total), Number(before.total) + 1);
    assert.equal(Number(afterCounts.twoStars), Number(before.twoStars) + 1);
  });
});

describe('Trustpilot simulator: reviews and consumers', () => {
  let sim: TrustpilotSimulator;
  let token: string;
  const reviewsPath = `/v1/private/business-units/${OWN_BU}/reviews`;
  const get = (path: string): Promise<Answer> => call(sim.url, 'GET', path, { headers: bearer(token) });

  before(async () => {
    sim = await startTrustpilotSimulator();
    token = (await passwordGrant(sim.url)).access;
    const start = Date.parse('2026-01-01T00:00:00Z');
    for (let n = 0; n < 25; n += 1) {
      sim.addReview({
        id: `review_${String(n).padStart(2, '0')}`,
        stars: ((n % 5) + 1) as 1 | 2 | 3 | 4 | 5,
        title: `Review ${n}`,
        text: `Text ${n}`,
        createdAt: new Date(start + n * 3_600_000).toISOString(),
        ...(n === 3 ? { referenceId: 'ghl-contact-ABC', referralEmail: 'Jane.Doe@Example.com', consumerId: 'consumer_jane', consumerName: 'Jane Doe' } : {}),
        ...(n === 4 ? { referenceId: 'ghl-contact-abc' } : {}),
        ...(n === 7 ? { consumerId: 'consumer_jane' } : {}),
      });
    }
  });
  after(() => sim.close());

  test('referenceId filters exactly and referralEmail case-insensitively', async () => {
    const byRef = arr(obj((await get(`${reviewsPath}?referenceId=ghl-contact-ABC`)).json).reviews);
    assert.deepEqual(byRef.map((r) => obj(r).id), ['review_03']);
    const byEmail = arr(obj((await get(`${reviewsPath}?referralEmail=${encodeURIComponent('jane.doe@EXAMPLE.com')}`)).json).reviews);
    assert.deepEqual(byEmail.map((r) => obj(r).id), ['review_03']);
    const none = obj((await get(`${reviewsPath}?referralEmail=nobody@example.com`)).json);
    assert.deepEqual(none, { links: [], reviews: [] });
  });

  test('pages by page/perPage, newest first, with a next-page link only while more exist', async () => {
    const seen: unknown[] = [];
    let path: string | undefined = `${reviewsPath}?perPage=10`;
    const nextLinks: boolean[] = [];
    while (path !== undefined) {
      const body = obj((await get(path)).json);
      seen.push(...arr(body.reviews).map((r) => obj(r).id));
      const next = arr(body.links).map((l) => obj(l)).find((l) => l.rel === 'next-page');
      nextLinks.push(next !== undefined);
      if (next) {
        assert.equal(next.method, 'GET');
        const href = new URL(str(next.href));
        assert.equal(href.origin, sim.url);
        assert.equal(href.searchParams.get('perPage'), '10');
        path = `${href.pathname}${href.search}`;
      } else path = undefined;
    }
    assert.deepEqual(nextLinks, [true, true, false]);
    assert.equal(seen.length, 25);
    assert.equal(seen[0], 'review_24');
    assert.equal(seen[24], 'review_00');

    const defaults = obj((await get(reviewsPath)).json);
    assert.equal(arr(defaults.reviews).length, 20);
    const asc = obj((await get(`${reviewsPath}?orderBy=createdat.asc&perPage=2&page=2`)).json);
    assert.deepEqual(arr(asc.reviews).map((r) => obj(r).id), ['review_02', 'review_03']);
    assert.deepEqual(arr(asc.links).map((l) => obj(l).rel), ['prev-page', 'next-page']);
    const since = obj((await get(`${reviewsPath}?startDateTime=2026-01-01T22:00:00&perPage=100`)).json);
    assert.deepEqual(arr(since.reviews).map((r) => obj(r).id), ['review_24', 'review_23', 'review_22']);
    const fives = obj((await get(`${reviewsPath}?stars=5&perPage=100`)).json);
    assert.ok(arr(fives.reviews).every((r) => obj(r).stars === 5));
    assert.equal(arr(fives.reviews).length, 5);
  });

  test('bad paging and dates → 400', async () => {
    for (const query of ['perPage=101', 'perPage=0', 'page=0', 'page=x', 'orderBy=random', 'startDateTime=yesterday']) {
      const answer = await get(`${reviewsPath}?${query}`);
      assert.equal(answer.status, 400, query);
    }
  });

  test('a private review carries every field, null when empty, dates in UTC with Z', async () => {
    const review = obj((await get('/v1/private/reviews/review_03')).json);
    for (const key of ['updatedAt', 'companyReply', 'location', 'reportData']) {
      assert.ok(Object.hasOwn(review, key), key);
      assert.equal(review[key], null, key);
    }
    assert.equal(review.referenceId, 'ghl-contact-ABC');
    assert.equal(review.referralEmail, 'Jane.Doe@Example.com');
    assert.match(str(review.createdAt), ISO_Z);
    assert.equal(review.createdAt, '2026-01-01T03:00:00.000Z');
    assert.deepEqual(review.consumer, { displayLocation: null, numberOfReviews: 2, displayName: 'Jane Doe', id: 'consumer_jane' });
    assert.deepEqual(obj(review.businessUnit).id, OWN_BU);
    const links = arr(review.links).map((l) => obj(l));
    assert.ok(links.some((l) => l.rel === 'reviews' && l.href === `${sim.url}/v1/reviews/review_03`));
    assert.ok(links.some((l) => l.href === 'https://www.trustpilot.com/reviews/review_03'));
    const organic = obj((await get('/v1/private/reviews/review_05')).json);
    assert.equal(organic.referenceId, null);
    assert.equal(organic.referralEmail, null);
  });

  test('the public review has no private fields; edits move updatedAt, a reply sets companyReply only', async () => {
    const publicReview = async (): Promise<Record<string, unknown>> => {
      const answer = await call(sim.url, 'GET', '/v1/reviews/review_10', { headers: apikey });
      assert.equal(answer.status, 200, answer.text);
      return obj(answer.json);
    };
    const first = await publicReview();
    assert.equal(first.referenceId, undefined);
    assert.equal(first.referralEmail, undefined);
    assert.equal(first.updatedAt, null);
    assert.equal(first.companyReply, null);
    // Keys and order of examples/review-get.example.json, then the links, businessUnit and complianceLabels of the developer site.
    assert.deepEqual(Object.keys(first), [
      'id', 'stars', 'title', 'text', 'language', 'createdAt', 'updatedAt', 'numberOfLikes', 'isVerified', 'companyReply', 'consumer',
      'links', 'businessUnit', 'complianceLabels',
    ]);
    assert.deepEqual(Object.keys(obj(first.consumer)), ['displayLocation', 'numberOfReviews', 'displayName', 'id']);

    const edited = sim.updateReview('review_10', { stars: 1, text: 'Changed my mind' });
    assert.equal(edited.stars, 1);
    assert.ok(edited.updatedAt !== null && Date.parse(edited.updatedAt) > Date.parse(edited.createdAt));
    const second = await publicReview();
    assert.equal(second.text, 'Changed my mind');
    assert.equal(second.updatedAt, edited.updatedAt);

    const replied = sim.replyToReview('review_10', 'Sorry to hear that');
    assert.equal(replied.updatedAt, edited.updatedAt);
    assert.equal(replied.companyReply?.text, 'Sorry to hear that');
    assert.equal(replied.companyReply?.updatedAt, null);
    const third = await publicReview();
    assert.equal(obj(third.companyReply).text, 'Sorry to hear that');
    const reEdited = sim.replyToReview('review_10', 'Sorry, fixed now');
    assert.ok(reEdited.companyReply?.updatedAt !== null && reEdited.companyReply?.updatedAt !== undefined);
    const responded = obj((await get(`${reviewsPath}?responded=true`)).json);
    assert.deepEqual(arr(responded.reviews).map((r) => obj(r).id), ['review_10']);
  });

  test('a deleted review answers 404 on the private and public endpoints and leaves the list', async () => {
    sim.addReview({ id: 'doomed', stars: 3, title: 'x', text: 'y', referenceId: 'ref-doomed' });
    assert.equal((await get('/v1/private/reviews/doomed')).status, 200);
    sim.deleteReview('doomed');
    assert.equal((await get('/v1/private/reviews/doomed')).status, 404);
    assert.equal((await call(sim.url, 'GET', '/v1/reviews/doomed', { headers: apikey })).status, 404);
    assert.deepEqual(arr(obj((await get(`${reviewsPath}?referenceId=ref-doomed`)).json).reviews), []);
    assert.throws(() => sim.deleteReview('doomed'), (error: unknown) => error instanceof Error && 'statusCode' in error && error.statusCode === 404);
  });

  test('consumer profile and consumer with review count; unknown consumer → 404', async () => {
    const profile = obj((await call(sim.url, 'GET', '/v1/consumers/consumer_jane/profile', { headers: apikey })).json);
    assert.deepEqual(Object.keys(profile).sort(), [
      'about', 'birthYear', 'city', 'country', 'createdAt', 'displayName', 'gender', 'hasImage', 'id', 'locale', 'profileImage',
    ]);
    assert.equal(profile.id, 'consumer_jane');
    assert.equal(profile.displayName, 'Jane Doe');
    const consumer = obj((await call(sim.url, 'GET', '/v1/consumers/consumer_jane', { headers: apikey })).json);
    assert.equal(consumer.numberOfReviews, 2);
    assert.equal(consumer.displayName, 'Jane Doe');
    assert.equal((await call(sim.url, 'GET', '/v1/consumers/nobody/profile', { headers: apikey })).status, 404);
  });

  test('seeding input is validated', () => {
    assert.throws(() => sim.updateReview('review_01', { stars: 6 }), /stars/);
    assert.throws(() => sim.addReview({ stars: 5, title: 't', text: 'x', businessUnitId: 'bu_nope' }), /HTTP 404/);
    assert.throws(() => sim.addReview({ id: 'review_01', stars: 5, title: 't', text: 'x' }), /HTTP 400/);
  });
});

describe('Trustpilot simulator: rate limit', () => {
  test('every call of the key counts, token calls included; call max+1 → 429 with Retry-After', async () => {
    const sim = await startTrustpilotSimulator({ rateLimit: { max: 4, windowMs: 60_000 } });
    try {
      const token = (await passwordGrant(sim.url)).access;
      assert.equal((await call(sim.url, 'GET', `/v1/business-units/${OWN_BU}`, { headers: apikey })).status, 200);
      assert.equal((await call(sim.url, 'GET', `/v1/private/business-units/${OWN_BU}/reviews`, { headers: bearer(token) })).status, 200);
      // Refused auth of the key still counts.
      const badSecret = await call(sim.url, 'POST', `${TOKEN_PATH}/accesstoken`, { headers: basic(KEY, 'bad'), form: { grant_type: 'client_credentials' } });
      assert.equal(badSecret.status, 401);
      // Calls that do not name our key are not ours to count.
      assert.equal((await call(sim.url, 'GET', `/v1/business-units/${OWN_BU}`, { headers: { apikey: 'other' } })).status, 401);
      const over = await call(sim.url, 'POST', `${TOKEN_PATH}/accesstoken`, { headers: basic(), form: { grant_type: 'client_credentials' } });
      assert.equal(over.status, 429, over.text);
      const retryAfter = Number(over.headers['retry-after']);
      assert.ok(retryAfter >= 1 && retryAfter <= 60, `retry-after ${String(over.headers['retry-after'])}`);
      assert.equal(faultOf(over).errorcode, 'policies.ratelimit.QuotaViolation');
      const publicOver = await call(sim.url, 'GET', `/v1/business-units/${OWN_BU}`, { headers: apikey });
      assert.equal(publicOver.status, 429);
      assert.equal(sim.maxCallsInAnyWindow(), 6);
      assert.deepEqual(sim.calls.map((c) => c.status), [200, 200, 200, 401, 401, 429, 429]);
    } finally {
      await sim.close();
    }
  });
});

describe('Trustpilot simulator: faults', () => {
  let sim: TrustpilotSimulator;
  let token: string;
  const privatePath = `/v1/private/business-units/${OWN_BU}/reviews`;
  before(async () => {
    sim = await startTrustpilotSimulator();
    token = (await passwordGrant(sim.url)).access;
  });
  after(() => sim.close());
  beforeEach(() => sim.clearFaults());

  test('a status fault answers its status once, then the API answers again', async () => {
    sim.injectFault({ fault: { kind: 'status', status: 503 }, path: /^\/v1\/private\//, times: 1 });
    const unavailable = await call(sim.url, 'GET', privatePath, { headers: bearer(token) });
    assert.equal(unavailable.status, 503);
    assert.equal(obj(unavailable.json).message, 'Injected fault');
    assert.equal((await call(sim.url, 'GET', privatePath, { headers: bearer(token) })).status, 200);
  });

  test('a rate-limit fault answers 429 with its Retry-After', async () => {
    sim.injectFault({ fault: { kind: 'rate-limit', retryAfterSeconds: 7 }, method: 'GET', times: 1 });
    const limited = await call(sim.url, 'GET', privatePath, { headers: bearer(token) });
    assert.equal(limited.status, 429);
    assert.equal(limited.headers['retry-after'], '7');
    assert.equal((await call(sim.url, 'GET', privatePath, { headers: bearer(token) })).status, 200);
  });

  test('a token-expired fault answers 401 until it is removed', async () => {
    const remove = sim.injectFault({ fault: { kind: 'token-expired' }, path: /reviews/ });
    for (let n = 0; n < 2; n += 1) {
      const expired = await call(sim.url, 'GET', privatePath, { headers: bearer(token) });
      assert.equal(expired.status, 401);
      assert.equal(faultOf(expired).errorcode, 'keymanagement.service.access_token_expired');
    }
    remove();
    assert.equal((await call(sim.url, 'GET', privatePath, { headers: bearer(token) })).status, 200);
  });

  test('latency delays the answer', async () => {
    sim.injectFault({ fault: { kind: 'latency', ms: 150 }, times: 1 });
    const started = Date.now();
    assert.equal((await call(sim.url, 'GET', `/v1/business-units/${OWN_BU}`, { headers: apikey })).status, 200);
    assert.ok(Date.now() - started >= 140, `answered after ${Date.now() - started} ms`);
  });

  test('timeout never answers; the call is recorded with status 0', async () => {
    sim.injectFault({ fault: { kind: 'timeout' }, times: 1 });
    await assert.rejects(call(sim.url, 'GET', `/v1/business-units/${OWN_BU}`, { headers: apikey, signal: AbortSignal.timeout(200) }));
    assert.equal(sim.calls.at(-1)?.status, 0);
    assert.equal((await call(sim.url, 'GET', `/v1/business-units/${OWN_BU}`, { headers: apikey })).status, 200);
  });
});
