import { afterEach, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { MockAgent } from 'undici';
import { UpstreamError } from '../../../../src/clients/http/upstream-error.js';
import { createMemoryTokenStore, type TrustpilotTokenStore } from '../../../../src/clients/trustpilot/token-store.js';
import { createTrustpilotClient, type TrustpilotClient, type TrustpilotClientOptions } from '../../../../src/clients/trustpilot/trustpilot-client.js';
import { TrustpilotClientError } from '../../../../src/clients/trustpilot/trustpilot-client-error.js';

const ORIGIN = 'https://tp.test';
const KEY = 'tp-api-key-0123456789';
const SECRET = 'tp-api-secret-abcdefghij';
const USER = 'owner@business.example';
const PASS = 'business-password-987654';
const BASIC = Buffer.from(`${KEY}:${SECRET}`).toString('base64');
const BU = 'bu_own_1';
const TOKEN_PATH = '/v1/oauth/oauth-business-users-for-applications/accesstoken';
const REFRESH_PATH = '/v1/oauth/oauth-business-users-for-applications/refresh';
const HOUR = 3_600_000;

const BUSINESS_UNIT = {
  id: '507f191e810c19729de860ea',
  displayName: 'Trustpilot',
  name: { identifying: 'trustpilot.com', referring: ['trustpilot.com', 'www.trustpilot.com'] },
  websiteUrl: 'http://www.trustpilot.com',
  country: 'DK',
  numberOfReviews: { total: 14, usedForTrustScoreCalculation: 12, oneStar: 2, twoStars: 3, threeStars: 2, fourStars: 5, fiveStars: 2 },
  status: 'active',
  score: { trustScore: 4.6, stars: 4.5 },
  badFit: null,
  links: [],
};
const PRIVATE_REVIEW = {
  id: 'r1',
  consumer: { id: 'cons1', displayName: 'Ada', displayLocation: null, numberOfReviews: 1 },
  businessUnit: { id: BU, identifyingName: 'example.com', displayName: 'Example' },
  stars: 5,
  title: 'Great',
  text: 'Really great',
  language: 'en',
  location: null,
  createdAt: '2026-01-02T03:04:05',
  updatedAt: null,
  experiencedAt: '2026-01-01T00:00:00Z',
  referralEmail: 'ada@example.com',
  referenceId: 'ghl-contact-1',
  source: 'AFSv2',
  companyReply: null,
  tags: [],
  findReviewer: null,
  isVerified: true,
  numberOfLikes: 0,
  status: 'active',
};

interface Seen {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: unknown;
}

interface MockRequest {
  method: string;
  path: string;
  headers?: unknown;
  body?: unknown;
}

interface MockReply {
  statusCode: number;
  data: object | string;
  responseOptions: { headers: Record<string, string> };
}

function plainHeaders(headers: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (typeof headers === 'object' && headers !== null) {
    for (const [name, value] of Object.entries(headers)) if (typeof value === 'string') out[name.toLowerCase()] = value;
  }
  return out;
}

function parseBody(headers: Record<string, string>, body: unknown): unknown {
  if (typeof body !== 'string') return undefined;
  if ((headers['content-type'] ?? '').includes('x-www-form-urlencoded')) return Object.fromEntries(new URLSearchParams(body));
  return JSON.parse(body) as unknown;
}

/** A reply callback that records what the "server" saw, then answers with JSON. */
function answer(statusCode: number, data: object | string | ((seen: Seen) => object | string), headers: Record<string, string> = {}): (opts: MockRequest) => MockReply {
  return (opts) => {
    const requestHeaders = plainHeaders(opts.headers);
    const entry: Seen = { method: opts.method, path: opts.path, headers: requestHeaders, body: parseBody(requestHeaders, opts.body) };
    seen.push(entry);
    const payload = typeof data === 'function' ? data(entry) : data;
    return { statusCode, data: payload, responseOptions: { headers: { 'content-type': 'application/json', ...headers } } };
  };
}

const grant = (access: string, refresh: string | undefined, expiresIn: string | number = '359999') =>
  answer(200, { access_token: access, ...(refresh === undefined ? {} : { refresh_token: refresh }), expires_in: expiresIn, token_type: 'BearerToken', issued_at: String(Date.now()) });

let agent: MockAgent;
let pool: ReturnType<MockAgent['get']>;
let store: TrustpilotTokenStore;
let client: TrustpilotClient;
let seen: Seen[];
let budgetTaken: number;

function makeClient(overrides: Partial<TrustpilotClientOptions> = {}): TrustpilotClient {
  return createTrustpilotClient({
    baseUrl: ORIGIN,
    apiKey: KEY,
    apiSecret: SECRET,
    username: USER,
    password: PASS,
    timeoutMs: 2_000,
    budget: {
      async take() {
        budgetTaken += 1;
      },
    },
    tokenStore: store,
    dispatcher: agent,
    ...overrides,
  });
}

beforeEach(() => {
  agent = new MockAgent();
  agent.disableNetConnect();
  pool = agent.get(ORIGIN);
  seen = [];
  budgetTaken = 0;
  store = createMemoryTokenStore();
  client = makeClient();
});

afterEach(async () => {
  await client.close();
  agent.assertNoPendingInterceptors();
  await agent.close();
});

async function rejectsWith(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  assert.fail('expected a rejection');
}

async function upstreamError(promise: Promise<unknown>): Promise<UpstreamError> {
  const error = await rejectsWith(promise);
  assert.ok(error instanceof UpstreamError, `expected UpstreamError, got ${String(error)}`);
  return error;
}

async function clientError(promise: Promise<unknown>): Promise<TrustpilotClientError> {
  const error = await rejectsWith(promise);
  assert.ok(error instanceof TrustpilotClientError, `expected TrustpilotClientError, got ${String(error)}`);
  return error;
}

const reviewsPath = `/v1/private/business-units/${BU}/reviews`;

describe('public calls', () => {
  test('findBusinessUnit sends the apikey header and the domain as name, and no Bearer', async () => {
    pool.intercept({ path: '/v1/business-units/find', method: 'GET', query: { name: 'trustpilot.com' } }).reply(answer(200, BUSINESS_UNIT));
    const unit = await client.findBusinessUnit(' trustpilot.com ');
    assert.equal(unit?.id, BUSINESS_UNIT.id);
    assert.equal(unit?.score?.trustScore, 4.6);
    assert.equal(unit?.numberOfReviews?.total, 14);
    assert.equal(unit?.badFit, null);
    assert.equal(seen[0]?.headers['apikey'], KEY);
    assert.equal(seen[0]?.headers['authorization'], undefined);
    assert.equal(budgetTaken, 1);
  });

  test('findBusinessUnit: 404 is "not on Trustpilot"; getBusinessUnit: 404 is an error', async () => {
    pool.intercept({ path: '/v1/business-units/find', method: 'GET', query: { name: 'nobody.example' } }).reply(answer(404, { message: 'Not found' }));
    pool.intercept({ path: '/v1/business-units/missing', method: 'GET' }).reply(answer(404, { message: 'Not found' }));
    assert.equal(await client.findBusinessUnit('nobody.example'), undefined);
    const error = await upstreamError(client.getBusinessUnit('missing'));
    assert.equal(error.status, 404);
    assert.equal(error.system, 'trustpilot');
    assert.equal(budgetTaken, 2);
  });

  test('findBusinessUnit refuses an empty domain before any call', async () => {
    assert.equal((await clientError(client.findBusinessUnit('  '))).code, 'TRUSTPILOT_INVALID_REQUEST');
    assert.equal(budgetTaken, 0);
  });

  test('getBusinessUnit encodes the id; a trailing /v1 in the base URL is tolerated', async () => {
    await client.close();
    client = makeClient({ baseUrl: `${ORIGIN}/v1/` });
    pool.intercept({ path: '/v1/business-units/a%2Fb%3Fc', method: 'GET' }).reply(answer(200, { ...BUSINESS_UNIT, id: 'a/b?c' }));
    assert.equal((await client.getBusinessUnit('a/b?c')).id, 'a/b?c');
    assert.equal((await clientError(client.getBusinessUnit('..'))).code, 'TRUSTPILOT_INVALID_ID');
  });

  test('getReview and getConsumerProfile: shapes with nulls and zone-less dates; 404 → undefined', async () => {
    pool.intercept({ path: '/v1/reviews/rv1', method: 'GET' }).reply(
      answer(200, {
        id: 'rv1',
        stars: 5,
        title: 'My review',
        text: null,
        createdAt: '2013-09-07T13:37:00',
        updatedAt: null,
        companyReply: { text: 'Thanks', createdAt: '2013-09-08T10:00:00.5', updatedAt: null },
        consumer: { displayLocation: null, numberOfReviews: 1, displayName: 'John Doe', id: 'c1' },
        somethingNew: true,
      }),
    );
    pool.intercept({ path: '/v1/reviews/gone', method: 'GET' }).reply(answer(404, { message: 'Not found' }));
    pool.intercept({ path: '/v1/consumers/c1/profile', method: 'GET' }).reply(
      answer(200, { id: 'c1', displayName: 'Jane Doe', city: null, createdAt: '2013-09-07T13:37:00', hasImage: true, profileImage: { image24x24: { url: 'u', width: 24, height: '24' } } }),
    );
    pool.intercept({ path: '/v1/consumers/c2/profile', method: 'GET' }).reply(answer(404, { message: 'Not found' }));

    const review = await client.getReview('rv1');
    assert.equal(review?.createdAt, '2013-09-07T13:37:00.000Z', 'zone-less is read as UTC');
    assert.equal(review?.updatedAt, null);
    assert.equal(review?.companyReply?.createdAt, '2013-09-08T10:00:00.500Z');
    assert.equal(review?.consumer?.displayName, 'John Doe');
    assert.equal(review?.['somethingNew'], true);
    assert.equal(await client.getReview('gone'), undefined);
    const profile = await client.getConsumerProfile('c1');
    assert.equal(profile?.displayName, 'Jane Doe');
    assert.equal(profile?.createdAt, '2013-09-07T13:37:00.000Z');
    assert.equal(await client.getConsumerProfile('c2'), undefined);
    assert.ok(seen.every((s) => s.headers['apikey'] === KEY && s.headers['authorization'] === undefined));
  });

  test('a body that does not match the schema is UPSTREAM_BAD_RESPONSE', async () => {
    pool.intercept({ path: '/v1/reviews/rv1', method: 'GET' }).reply(answer(200, { stars: 5 }));
    const error = await upstreamError(client.getReview('rv1'));
    assert.equal(error.code, 'UPSTREAM_BAD_RESPONSE');
  });

  test('429 carries Retry-After in ms, or 60 s when Trustpilot sends none', async () => {
    pool.intercept({ path: '/v1/reviews/a', method: 'GET' }).reply(answer(429, { message: 'Too many requests' }, { 'retry-after': '7' }));
    pool.intercept({ path: '/v1/reviews/b', method: 'GET' }).reply(answer(429, 'Too many requests', { 'content-type': 'text/plain' }));
    pool.intercept({ path: '/v1/reviews/c', method: 'GET' }).reply(answer(503, { message: 'busy' }));
    const a = await upstreamError(client.getReview('a'));
    assert.equal(a.status, 429);
    assert.equal(a.retryAfterMs, 7_000);
    assert.equal((await upstreamError(client.getReview('b'))).retryAfterMs, 60_000);
    assert.equal((await upstreamError(client.getReview('c'))).retryAfterMs, undefined, 'the 60 s default is for 429 only');
  });
});

describe('password grant and Bearer calls', () => {
  test('the first private call grants with Basic key:secret and a form body; expires_in is a string', async () => {
    pool.intercept({ path: TOKEN_PATH, method: 'POST' }).reply(grant('access-1', 'refresh-1'));
    pool.intercept({ path: '/v1/private/reviews/r1', method: 'GET' }).reply(answer(200, PRIVATE_REVIEW));
    const before = Date.now();
    const review = await client.getPrivateReview('r1');
    assert.equal(review?.referenceId, 'ghl-contact-1');
    assert.equal(review?.referralEmail, 'ada@example.com');
    assert.equal(review?.createdAt, '2026-01-02T03:04:05.000Z');

    const [token, call] = seen;
    assert.equal(token?.method, 'POST');
    assert.equal(token?.headers['authorization'], `Basic ${BASIC}`);
    assert.equal(token?.headers['content-type'], 'application/x-www-form-urlencoded');
    assert.deepEqual(token?.body, { grant_type: 'password', username: USER, password: PASS });
    assert.equal(call?.headers['authorization'], 'Bearer access-1');
    assert.equal(call?.headers['apikey'], KEY);

    const stored = await store.get();
    assert.equal(stored?.accessToken, 'access-1');
    assert.equal(stored?.refreshToken, 'refresh-1');
    assert.ok(stored !== undefined && stored.expiresAt >= before + 359_999_000 && stored.expiresAt <= Date.now() + 359_999_000);
    assert.equal(budgetTaken, 2, 'the token call takes from the budget too');
  });

  test('a valid stored token is reused without a token call', async () => {
    await store.set({ accessToken: 'stored-access', refreshToken: 'stored-refresh', expiresAt: Date.now() + HOUR });
    pool.intercept({ path: '/v1/private/reviews/r1', method: 'GET' }).reply(answer(200, PRIVATE_REVIEW)).times(2);
    await client.getPrivateReview('r1');
    await client.getPrivateReview('r1');
    assert.deepEqual(seen.map((s) => s.headers['authorization']), ['Bearer stored-access', 'Bearer stored-access']);
    assert.equal(budgetTaken, 2);
  });

  test('a token within 60 s of expiry is refreshed first, and the rotated refresh token is stored', async () => {
    await store.set({ accessToken: 'old-access', refreshToken: 'refresh-1', expiresAt: Date.now() + 30_000 });
    pool.intercept({ path: REFRESH_PATH, method: 'POST' }).reply(grant('access-2', 'refresh-2', 359999));
    pool.intercept({ path: '/v1/private/reviews/r1', method: 'GET' }).reply(answer(200, PRIVATE_REVIEW));
    await client.getPrivateReview('r1');
    assert.equal(seen[0]?.headers['authorization'], `Basic ${BASIC}`);
    assert.deepEqual(seen[0]?.body, { grant_type: 'refresh_token', refresh_token: 'refresh-1' });
    assert.equal(seen[1]?.headers['authorization'], 'Bearer access-2');
    const stored = await store.get();
    assert.equal(stored?.accessToken, 'access-2');
    assert.equal(stored?.refreshToken, 'refresh-2');
    assert.equal(budgetTaken, 2);
  });

  test('a refresh answer without a refresh token keeps the previous one', async () => {
    await store.set({ accessToken: 'old-access', refreshToken: 'refresh-1', expiresAt: Date.now() - 1 });
    pool.intercept({ path: REFRESH_PATH, method: 'POST' }).reply(grant('access-2', undefined));
    pool.intercept({ path: '/v1/private/reviews/r1', method: 'GET' }).reply(answer(200, PRIVATE_REVIEW));
    await client.getPrivateReview('r1');
    assert.equal((await store.get())?.refreshToken, 'refresh-1');
  });

  test('a 401 triggers one refresh and one retry with the new token', async () => {
    await store.set({ accessToken: 'revoked-access', refreshToken: 'refresh-1', expiresAt: Date.now() + HOUR });
    pool.intercept({ path: '/v1/private/reviews/r1', method: 'GET', headers: { authorization: 'Bearer revoked-access' } }).reply(answer(401, { message: 'Unauthorized' }));
    pool.intercept({ path: REFRESH_PATH, method: 'POST' }).reply(grant('access-2', 'refresh-2'));
    pool.intercept({ path: '/v1/private/reviews/r1', method: 'GET', headers: { authorization: 'Bearer access-2' } }).reply(answer(200, PRIVATE_REVIEW));
    assert.equal((await client.getPrivateReview('r1'))?.id, 'r1');
    assert.deepEqual(seen.map((s) => s.path), ['/v1/private/reviews/r1', REFRESH_PATH, '/v1/private/reviews/r1']);
    assert.equal((await store.get())?.refreshToken, 'refresh-2');
    assert.equal(budgetTaken, 3);
  });

  test('a second 401 is thrown after one renewal, with no token in the error', async () => {
    await store.set({ accessToken: 'bad-access-1', refreshToken: 'refresh-1', expiresAt: Date.now() + HOUR });
    pool
      .intercept({ path: reviewsPath, method: 'GET' })
      .reply(answer(401, (s) => ({ message: 'Unauthorized', echo: s.headers['authorization'] })))
      .times(2);
    pool.intercept({ path: REFRESH_PATH, method: 'POST' }).reply(grant('bad-access-2', 'refresh-2'));
    const error = await upstreamError(client.listPrivateReviews(BU, {}));
    assert.equal(error.status, 401);
    assert.equal(seen.filter((s) => s.path.startsWith('/v1/oauth')).length, 1);
    const text = `${JSON.stringify(error)} ${error.message} ${error.bodyExcerpt ?? ''}`;
    assert.ok(!text.includes('bad-access-1') && !text.includes('bad-access-2'), text);
    assert.match(error.bodyExcerpt ?? '', /\[Redacted\]/);
  });

  test('a rejected refresh token falls back to the password grant', async () => {
    await store.set({ accessToken: 'old-access', refreshToken: 'spent-refresh', expiresAt: Date.now() - 1 });
    pool.intercept({ path: REFRESH_PATH, method: 'POST' }).reply(answer(400, { error: 'invalid_grant' }));
    pool.intercept({ path: TOKEN_PATH, method: 'POST' }).reply(grant('access-3', 'refresh-3'));
    pool.intercept({ path: '/v1/private/reviews/r1', method: 'GET' }).reply(answer(200, PRIVATE_REVIEW));
    await client.getPrivateReview('r1');
    assert.deepEqual((seen[1]?.body as Record<string, string>)['grant_type'], 'password');
    assert.equal(seen[2]?.headers['authorization'], 'Bearer access-3');
    assert.deepEqual(await store.get().then((t) => [t?.accessToken, t?.refreshToken]), ['access-3', 'refresh-3']);
    assert.equal(budgetTaken, 3);
  });

  test('a refresh that fails for another reason (5xx, 429) is thrown, not turned into a password grant', async () => {
    await store.set({ accessToken: 'old-access', refreshToken: 'refresh-1', expiresAt: Date.now() - 1 });
    pool.intercept({ path: REFRESH_PATH, method: 'POST' }).reply(answer(429, { message: 'refreshing too often' }));
    const error = await upstreamError(client.getPrivateReview('r1'));
    assert.equal(error.status, 429);
    assert.equal(error.retryAfterMs, 60_000);
    assert.equal((await store.get())?.refreshToken, 'refresh-1', 'the store is left as it was');
  });

  test('a failed grant echoing our secrets never shows them', async () => {
    pool.intercept({ path: TOKEN_PATH, method: 'POST' }).reply(answer(401, (s) => ({ error: 'invalid_client', saw: s.body, auth: s.headers['authorization'], key: KEY })));
    const error = await upstreamError(client.getPrivateReview('r1'));
    assert.equal(error.status, 401);
    const text = `${JSON.stringify(error)} ${error.message}`;
    for (const secret of [PASS, SECRET, BASIC, KEY, USER]) assert.ok(!text.includes(secret), `${secret} leaked: ${text}`);
    assert.equal(await store.get(), undefined);
  });

  test('a failed refresh echoing the refresh token never shows it', async () => {
    await store.set({ accessToken: 'old-access', refreshToken: 'refresh-secret-xyz', expiresAt: Date.now() - 1 });
    pool.intercept({ path: REFRESH_PATH, method: 'POST' }).reply(answer(500, (s) => ({ saw: s.body })));
    const error = await upstreamError(client.getPrivateReview('r1'));
    assert.ok(!JSON.stringify(error).includes('refresh-secret-xyz'));
  });

  test('concurrent private calls with no token share one grant', async () => {
    pool.intercept({ path: TOKEN_PATH, method: 'POST' }).reply(grant('access-1', 'refresh-1'));
    pool.intercept({ path: '/v1/private/reviews/r1', method: 'GET' }).reply(answer(200, PRIVATE_REVIEW)).times(3);
    await Promise.all([client.getPrivateReview('r1'), client.getPrivateReview('r1'), client.getPrivateReview('r1')]);
    assert.equal(seen.filter((s) => s.path === TOKEN_PATH).length, 1);
    assert.equal(budgetTaken, 4);
  });

  test('without secret, username and password, private calls are refused before any call', async () => {
    await client.close();
    client = makeClient({ apiSecret: undefined, password: '' });
    assert.equal(client.canReadPrivateReviews, false);
    assert.equal((await clientError(client.getPrivateReview('r1'))).code, 'TRUSTPILOT_PRIVATE_NOT_CONFIGURED');
    assert.equal((await clientError(client.listPrivateReviews(BU, {}))).code, 'TRUSTPILOT_PRIVATE_NOT_CONFIGURED');
    assert.equal(budgetTaken, 0);
    assert.equal(makeClient().canReadPrivateReviews, true);
  });

  test('getPrivateReview: 404 → undefined', async () => {
    await store.set({ accessToken: 'a', expiresAt: Date.now() + HOUR });
    pool.intercept({ path: '/v1/private/reviews/deleted', method: 'GET' }).reply(answer(404, { message: 'Not found' }));
    assert.equal(await client.getPrivateReview('deleted'), undefined);
  });
});

describe('budget', () => {
  test('every call takes from the budget first; a spent budget stops the call and is not caught', async () => {
    const spent = new Error('budget spent');
    let allowed = 2;
    await client.close();
    client = makeClient({
      budget: {
        async take() {
          budgetTaken += 1;
          if (allowed-- <= 0) throw spent;
        },
      },
    });
    pool.intercept({ path: TOKEN_PATH, method: 'POST' }).reply(grant('access-1', 'refresh-1'));
    pool.intercept({ path: '/v1/private/reviews/r1', method: 'GET' }).reply(answer(200, PRIVATE_REVIEW));
    await client.getPrivateReview('r1');
    assert.equal(await rejectsWith(client.getReview('rv1')), spent);
    assert.equal(budgetTaken, 3);
    assert.equal(seen.length, 2, 'the refused call never left');
  });

  test('a spent budget during renewal leaves the lock free for the next attempt', async () => {
    let refuse = true;
    await client.close();
    client = makeClient({
      budget: {
        async take() {
          budgetTaken += 1;
          if (refuse) throw new Error('budget spent');
        },
      },
    });
    await rejectsWith(client.getPrivateReview('r1'));
    refuse = false;
    pool.intercept({ path: TOKEN_PATH, method: 'POST' }).reply(grant('access-1', 'refresh-1'));
    pool.intercept({ path: '/v1/private/reviews/r1', method: 'GET' }).reply(answer(200, PRIVATE_REVIEW));
    assert.equal((await client.getPrivateReview('r1'))?.id, 'r1');
  });
});

describe('listPrivateReviews', () => {
  beforeEach(async () => {
    await store.set({ accessToken: 'access', expiresAt: Date.now() + HOUR });
  });

  test('sends the filters, startDateTime in the documented zone-less UTC form, and follows the next-page link', async () => {
    pool
      .intercept({
        path: reviewsPath,
        method: 'GET',
        query: { referenceId: 'ghl-contact-1', referralEmail: 'ada@example.com', page: '2', perPage: '50', orderBy: 'createdat.asc', startDateTime: '2026-01-02T01:04:05' },
      })
      .reply(answer(200, { reviews: [PRIVATE_REVIEW], links: [{ rel: 'next-page', href: `https://api.trustpilot.com${reviewsPath}?page=3&perPage=50`, method: 'GET' }] }));
    const page = await client.listPrivateReviews(BU, {
      referenceId: 'ghl-contact-1',
      referralEmail: 'ada@example.com',
      page: 2,
      perPage: 50,
      orderBy: 'createdat.asc',
      startDateTime: '2026-01-02T03:04:05.678+02:00',
    });
    assert.deepEqual(page.reviews.map((r) => r.id), ['r1']);
    assert.equal(page.nextPage, 3);
    assert.equal(seen[0]?.headers['authorization'], 'Bearer access');
    assert.equal(seen[0]?.headers['apikey'], KEY);
  });

  test('links without next-page end the listing even on a full page; no links: a full page means more', async () => {
    pool.intercept({ path: reviewsPath, method: 'GET', query: { perPage: '1' } }).reply(answer(200, { reviews: [PRIVATE_REVIEW], links: [] }));
    pool.intercept({ path: reviewsPath, method: 'GET', query: { perPage: '1', page: '4' } }).reply(answer(200, { reviews: [PRIVATE_REVIEW] }));
    pool.intercept({ path: reviewsPath, method: 'GET', query: {} }).reply(answer(200, { reviews: [PRIVATE_REVIEW], links: null }));
    pool.intercept({ path: reviewsPath, method: 'GET', query: { page: '9' } }).reply(answer(200, { reviews: null }));
    assert.equal((await client.listPrivateReviews(BU, { perPage: 1 })).nextPage, undefined);
    assert.equal((await client.listPrivateReviews(BU, { perPage: 1, page: 4 })).nextPage, 5);
    assert.equal((await client.listPrivateReviews(BU, {})).nextPage, undefined, 'one review of a default 20 is the last page');
    assert.deepEqual(await client.listPrivateReviews(BU, { page: 9 }), { reviews: [] });
  });

  test('the filter is strict: unknown keys and out-of-range values never leave the process', async () => {
    const bad: unknown[] = [{ perPage: 101 }, { page: 0 }, { orderBy: 'stars.desc' }, { startDateTime: 'yesterday' }, { referenceId: '' }, { email: 'x' }];
    for (const filter of bad) {
      // @ts-expect-error -- deliberately malformed filters
      const error = await clientError(client.listPrivateReviews(BU, filter));
      assert.equal(error.code, 'TRUSTPILOT_INVALID_REQUEST');
      assert.ok(!error.message.includes('ada@'), 'values are not echoed');
    }
    assert.equal(budgetTaken, 0);
  });

  test('passes the transport observer through', async () => {
    const statuses: (number | string)[] = [];
    await client.close();
    client = makeClient({ observe: (info) => statuses.push(`${info.system} ${info.status}`) });
    pool.intercept({ path: reviewsPath, method: 'GET' }).reply(answer(200, { reviews: [] }));
    await client.listPrivateReviews(BU, {});
    assert.deepEqual(statuses, ['trustpilot 200']);
  });
});
