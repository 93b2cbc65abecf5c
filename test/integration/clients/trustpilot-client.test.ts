/**
 * The Trustpilot client against the Trustpilot simulator on loopback: every method, the whole token
 * life (password grant, reuse, proactive refresh, expiry → refresh → retry, spent refresh token →
 * password grant), 401/404/429, a timeout, and two workers sharing one token through Redis.
 * Asserts what the simulator saw.
 */
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { UpstreamError } from '../../../src/clients/http/upstream-error.js';
import { createMemoryTokenStore, type TrustpilotTokenStore } from '../../../src/clients/trustpilot/token-store.js';
import { createTrustpilotClient, type TrustpilotClient, type TrustpilotClientOptions } from '../../../src/clients/trustpilot/trustpilot-client.js';
import { TrustpilotClientError } from '../../../src/clients/trustpilot/trustpilot-client-error.js';
import { createRedisTokenStore } from '../../../src/state/trustpilot-token-store.js';
import { startTrustpilotSimulator, type RecordedCall, type TrustpilotSimulator } from '../../../src/sandbox/trustpilot/simulator.js';
import { startRedisServer, type RedisServerHandle } from '../../helpers/redis-server.js';

const KEY = 'tp-client-it-key';
const SECRET = 'tp-client-it-secret-0123456789';
const USER = 'owner@client-it.test';
const PASS = 'client-it-password-9876543210';
const OWN_BU = 'bu_client_it_own';
const TOKEN_PATH = '/v1/oauth/oauth-business-users-for-applications/accesstoken';
const REFRESH_PATH = '/v1/oauth/oauth-business-users-for-applications/refresh';

let sim: TrustpilotSimulator;
let redisServer: RedisServerHandle;
let store: TrustpilotTokenStore;
let client: TrustpilotClient;
let budgetTaken = 0;
let mark = 0;
const opened: TrustpilotClient[] = [];

function makeClient(overrides: Partial<TrustpilotClientOptions> = {}): TrustpilotClient {
  const made = createTrustpilotClient({
    baseUrl: sim.url,
    apiKey: KEY,
    apiSecret: SECRET,
    username: USER,
    password: PASS,
    timeoutMs: 3_000,
    budget: {
      async take() {
        budgetTaken += 1;
      },
    },
    tokenStore: store,
    ...overrides,
  });
  opened.push(made);
  return made;
}

/** The calls the simulator saw since the last `beforeEach`. */
const since = (): RecordedCall[] => sim.calls.slice(mark);
const tokenCalls = () => since().filter((call) => call.path.startsWith('/v1/oauth/'));

async function upstreamError(promise: Promise<unknown>): Promise<UpstreamError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof UpstreamError, `expected UpstreamError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected a rejection');
}

let acmeId = '';
let reviewIds: string[] = [];

before(async () => {
  sim = await startTrustpilotSimulator({ apiKey: KEY, apiSecret: SECRET, users: [{ username: USER, password: PASS }], businessUnitId: OWN_BU });
  redisServer = await startRedisServer();
  acmeId = sim.addBusinessUnit({ domain: 'acme.example', displayName: 'Acme', trustScore: 4.2, stars: 4, totalReviews: 120 }).id;
  reviewIds = [
    sim.addReview({ stars: 5, title: 'Great', text: 'Loved it', referenceId: 'ghl-c1', referralEmail: 'Ada@Example.com', consumerName: 'Ada', consumerId: 'cons_ada', createdAt: '2026-01-01T10:00:00Z' }).id,
    sim.addReview({ stars: 4, title: 'Good', text: 'Fine', referenceId: 'ghl-c2', referralEmail: 'bob@example.com', createdAt: '2026-01-02T10:00:00' }).id,
    sim.addReview({ stars: 2, title: 'Meh', text: 'Slow', referenceId: 'ghl-c2', referralEmail: 'bob@example.com', createdAt: '2026-01-03T10:00:00Z' }).id,
    sim.addReview({ stars: 1, title: 'Bad', text: 'Broken', createdAt: '2026-01-04T10:00:00Z' }).id,
    sim.addReview({ stars: 3, title: 'Other unit', text: 'x', businessUnitId: acmeId, referenceId: 'ghl-c1', createdAt: '2026-01-05T10:00:00Z' }).id,
  ];
});

after(async () => {
  for (const made of opened) await made.close();
  await sim.close();
  await redisServer.close();
});

beforeEach(() => {
  sim.clearFaults();
  store = createMemoryTokenStore();
  client = makeClient();
  budgetTaken = 0;
  mark = sim.calls.length;
});

describe('public calls (apikey)', () => {
  test('findBusinessUnit by identifying or referring name; unknown domain → undefined', async () => {
    const unit = await client.findBusinessUnit('acme.example');
    assert.equal(unit?.id, acmeId);
    assert.equal(unit?.displayName, 'Acme');
    assert.equal(unit?.score?.trustScore, 4.2);
    assert.equal(unit?.score?.stars, 4);
    assert.equal(unit?.numberOfReviews?.total, 121, 'the seeded 120 plus the one review written for it');
    assert.equal((await client.findBusinessUnit('www.acme.example'))?.id, acmeId);
    assert.equal(await client.findBusinessUnit('nobody.example'), undefined);
    assert.deepEqual(since().map((call) => [call.path, call.query['name'], call.auth, call.status]), [
      ['/v1/business-units/find', 'acme.example', 'apikey', 200],
      ['/v1/business-units/find', 'www.acme.example', 'apikey', 200],
      ['/v1/business-units/find', 'nobody.example', 'apikey', 404],
    ]);
    assert.equal(budgetTaken, 3);
  });

  test('getBusinessUnit; an unknown id is a 404 error', async () => {
    assert.equal((await client.getBusinessUnit(acmeId)).name?.identifying, 'acme.example');
    const error = await upstreamError(client.getBusinessUnit('bu_unknown'));
    assert.equal(error.status, 404);
    assert.equal(error.system, 'trustpilot');
  });

  test('getReview and getConsumerProfile; unknown ids → undefined', async () => {
    const review = await client.getReview(reviewIds[0] ?? '');
    assert.equal(review?.stars, 5);
    assert.equal(review?.title, 'Great');
    assert.equal(review?.createdAt, '2026-01-01T10:00:00.000Z');
    assert.equal(review?.['referralEmail'], undefined, 'the public shape carries no email');
    const consumerId = review?.consumer?.id;
    assert.ok(consumerId);
    const profile = await client.getConsumerProfile(consumerId);
    assert.equal(profile?.id, consumerId);
    assert.equal(profile?.displayName, 'Ada');
    assert.equal(await client.getReview('rv_unknown'), undefined);
    assert.equal(await client.getConsumerProfile('cons_unknown'), undefined);
    assert.ok(since().every((call) => call.auth === 'apikey'));
  });

  test('a wrong API key is a 401 that does not show the key', async () => {
    const wrong = makeClient({ apiKey: 'tp-wrong-key-123' });
    const error = await upstreamError(wrong.findBusinessUnit('acme.example'));
    assert.equal(error.status, 401);
    assert.ok(!JSON.stringify(error).includes('tp-wrong-key-123'));
  });
});

describe('private calls (Bearer) and the token life', () => {
  test('grant once, then reuse: one password grant for several calls', async () => {
    const first = await client.getPrivateReview(reviewIds[0] ?? '');
    assert.equal(first?.referenceId, 'ghl-c1');
    assert.equal(first?.referralEmail, 'Ada@Example.com');
    await client.listPrivateReviews(OWN_BU, {});
    assert.deepEqual(since().map((call) => [call.path, call.auth, call.status]), [
      [TOKEN_PATH, 'basic', 200],
      [`/v1/private/reviews/${reviewIds[0] ?? ''}`, 'bearer', 200],
      [`/v1/private/business-units/${OWN_BU}/reviews`, 'bearer', 200],
    ]);
    const stored = await store.get();
    assert.ok(stored?.refreshToken);
    assert.ok(stored.expiresAt > Date.now() + 359_000_000, 'expires_in "359999" read as seconds');
    assert.equal(budgetTaken, since().length, 'every call, the token call included, took from the budget');
  });

  test('expired access tokens: 401 → one refresh → retry; the rotated refresh token is stored', async () => {
    await client.getPrivateReview(reviewIds[0] ?? '');
    const before = await store.get();
    sim.expireAccessTokens();
    assert.equal((await client.getPrivateReview(reviewIds[1] ?? ''))?.id, reviewIds[1]);
    assert.deepEqual(since().map((call) => [call.path.replace(/\/[^/]+$/, '/…'), call.status]), [
      ['/v1/oauth/oauth-business-users-for-applications/…', 200],
      ['/v1/private/reviews/…', 200],
      ['/v1/private/reviews/…', 401],
      ['/v1/oauth/oauth-business-users-for-applications/…', 200],
      ['/v1/private/reviews/…', 200],
    ]);
    assert.equal(tokenCalls()[1]?.path, REFRESH_PATH);
    const after = await store.get();
    assert.notEqual(after?.accessToken, before?.accessToken);
    assert.notEqual(after?.refreshToken, before?.refreshToken);
    assert.equal(budgetTaken, 5);
  });

  test('a token within 60 s of expiry is refreshed before the call', async () => {
    await client.getPrivateReview(reviewIds[0] ?? '');
    const current = await store.get();
    assert.ok(current);
    await store.set({ ...current, expiresAt: Date.now() + 30_000 });
    await client.getPrivateReview(reviewIds[0] ?? '');
    assert.deepEqual(since().map((call) => [call.path.startsWith('/v1/oauth') ? call.path : 'api', call.status]), [
      [TOKEN_PATH, 200],
      ['api', 200],
      [REFRESH_PATH, 200],
      ['api', 200],
    ]);
  });

  test('a spent refresh token (rejected) falls back to the password grant', async () => {
    await client.getPrivateReview(reviewIds[0] ?? '');
    const spent = await store.get();
    assert.ok(spent);
    sim.expireAccessTokens();
    await client.getPrivateReview(reviewIds[0] ?? ''); // rotates: `spent.refreshToken` is now invalid
    await store.set({ ...spent, expiresAt: Date.now() - 1 });
    assert.equal((await client.getPrivateReview(reviewIds[0] ?? ''))?.id, reviewIds[0]);
    assert.deepEqual(tokenCalls().map((call) => [call.path, call.status]), [
      [TOKEN_PATH, 200],
      [REFRESH_PATH, 200],
      [REFRESH_PATH, 400],
      [TOKEN_PATH, 200],
    ]);
  });

  test('a wrong password is a 401 whose error shows no credential', async () => {
    const wrong = makeClient({ password: 'wrong-password-555' });
    const error = await upstreamError(wrong.getPrivateReview(reviewIds[0] ?? ''));
    assert.equal(error.status, 401);
    const text = JSON.stringify(error);
    for (const secret of ['wrong-password-555', SECRET, USER]) assert.ok(!text.includes(secret), text);
    assert.equal(await store.get(), undefined);
  });

  test('without business-user credentials private calls are refused locally', async () => {
    const publicOnly = makeClient({ apiSecret: undefined, username: undefined, password: undefined });
    assert.equal(publicOnly.canReadPrivateReviews, false);
    await assert.rejects(publicOnly.getPrivateReview('x'), (error: unknown) => error instanceof TrustpilotClientError && error.code === 'TRUSTPILOT_PRIVATE_NOT_CONFIGURED');
    assert.equal(since().length, 0);
  });
});

describe('private reviews', () => {
  test('filter by referenceId and by referralEmail (case-insensitive); only our business unit', async () => {
    const byRef = await client.listPrivateReviews(OWN_BU, { referenceId: 'ghl-c2', orderBy: 'createdat.asc' });
    assert.deepEqual(byRef.reviews.map((review) => review.id), [reviewIds[1], reviewIds[2]]);
    assert.equal(byRef.nextPage, undefined);
    assert.equal(byRef.reviews[0]?.createdAt, '2026-01-02T10:00:00.000Z');
    const byEmail = await client.listPrivateReviews(OWN_BU, { referralEmail: 'ada@example.com' });
    assert.deepEqual(byEmail.reviews.map((review) => [review.id, review.referenceId]), [[reviewIds[0], 'ghl-c1']]);
    const error = await upstreamError(client.listPrivateReviews(acmeId, {}));
    assert.equal(error.status, 403);
  });

  test('pages with nextPage until the last page; startDateTime narrows', async () => {
    const seenIds: string[] = [];
    let page: number | undefined = 1;
    let pages = 0;
    while (page !== undefined) {
      const answer: { reviews: { id: string }[]; nextPage?: number } = await client.listPrivateReviews(OWN_BU, { page, perPage: 1, orderBy: 'createdat.desc' });
      seenIds.push(...answer.reviews.map((review) => review.id));
      page = answer.nextPage;
      pages += 1;
      assert.ok(pages <= 10, 'paging ends');
    }
    assert.deepEqual(seenIds, [reviewIds[3], reviewIds[2], reviewIds[1], reviewIds[0]]);
    assert.equal(pages, 4);

    const recent = await client.listPrivateReviews(OWN_BU, { startDateTime: '2026-01-02T12:00:00+02:00', orderBy: 'createdat.asc' });
    assert.deepEqual(recent.reviews.map((review) => review.id), [reviewIds[1], reviewIds[2], reviewIds[3]], 'inclusive, read as 10:00 UTC');
    assert.equal(since().at(-1)?.query['startDateTime'], '2026-01-02T10:00:00');
  });

  test('getPrivateReview: a deleted review → undefined', async () => {
    const doomed = sim.addReview({ stars: 3, title: 'Soon gone', text: 'x', referenceId: 'ghl-c9' });
    assert.equal((await client.getPrivateReview(doomed.id))?.referenceId, 'ghl-c9');
    sim.deleteReview(doomed.id);
    assert.equal(await client.getPrivateReview(doomed.id), undefined);
  });
});

describe('refusals', () => {
  test('429 with Retry-After, on an API call and on a token call', async () => {
    sim.injectFault({ fault: { kind: 'rate-limit', retryAfterSeconds: 3 }, path: /business-units\/find/, times: 1 });
    const error = await upstreamError(client.findBusinessUnit('acme.example'));
    assert.equal(error.status, 429);
    assert.equal(error.retryAfterMs, 3_000);
    sim.injectFault({ fault: { kind: 'rate-limit', retryAfterSeconds: 5 }, path: /oauth/, times: 1 });
    const tokenError = await upstreamError(client.getPrivateReview(reviewIds[0] ?? ''));
    assert.equal(tokenError.status, 429);
    assert.equal(tokenError.retryAfterMs, 5_000);
  });

  test('the simulator\'s own rate limit counts token calls; the client reports its Retry-After', async () => {
    const limited = await startTrustpilotSimulator({ apiKey: KEY, apiSecret: SECRET, users: [{ username: USER, password: PASS }], rateLimit: { max: 2, windowMs: 60_000 } });
    try {
      const limitedClient = makeClient({ baseUrl: limited.url, tokenStore: createMemoryTokenStore() });
      await limitedClient.listPrivateReviews('bu_sandbox_own', {}); // grant + call = 2
      const error = await upstreamError(limitedClient.findBusinessUnit('ghl-bridge-sandbox.test'));
      assert.equal(error.status, 429);
      assert.ok(error.retryAfterMs !== undefined && error.retryAfterMs > 0 && error.retryAfterMs <= 60_000, String(error.retryAfterMs));
    } finally {
      await limited.close();
    }
  });

  test('a 5xx is an error with the status; a timeout is UPSTREAM_TIMEOUT', async () => {
    sim.injectFault({ fault: { kind: 'status', status: 503 }, path: /\/v1\/reviews\//, times: 1 });
    assert.equal((await upstreamError(client.getReview(reviewIds[0] ?? ''))).status, 503);
    const quick = makeClient({ timeoutMs: 200 });
    sim.injectFault({ fault: { kind: 'timeout' }, path: /\/v1\/reviews\//, times: 1 });
    assert.equal((await upstreamError(quick.getReview(reviewIds[0] ?? ''))).code, 'UPSTREAM_TIMEOUT');
  });
});

describe('two workers sharing the token through Redis', () => {
  test('concurrent first calls make one grant; after expiry, concurrent retries make one refresh', async () => {
    const prefix = `tp-it-${randomBytes(4).toString('hex')}`;
    const keys = [randomBytes(32)];
    const redisA = new Redis(redisServer.url);
    const redisB = new Redis(redisServer.url);
    try {
      const workerA = makeClient({ tokenStore: createRedisTokenStore(redisA, prefix, keys, { lockPollMs: 5 }) });
      const workerB = makeClient({ tokenStore: createRedisTokenStore(redisB, prefix, keys, { lockPollMs: 5 }) });
      const id = reviewIds[0] ?? '';
      await Promise.all([workerA.getPrivateReview(id), workerB.getPrivateReview(id), workerA.getPrivateReview(id), workerB.getPrivateReview(id)]);
      assert.deepEqual(tokenCalls().map((call) => call.path), [TOKEN_PATH]);

      sim.expireAccessTokens();
      const results = await Promise.all([workerA.getPrivateReview(id), workerB.getPrivateReview(id)]);
      assert.deepEqual(results.map((review) => review?.id), [id, id]);
      assert.deepEqual(tokenCalls().map((call) => [call.path, call.status]), [
        [TOKEN_PATH, 200],
        [REFRESH_PATH, 200],
      ]);
      assert.equal(budgetTaken, since().length);
    } finally {
      await redisA.quit();
      await redisB.quit();
    }
  });
});
