/**
 * The GHL call budget: the client takes one call before every request (the retry after a token
 * refresh included) and sends nothing when refused; createGhlBudget keys the shared budget per
 * location, tightens it from GHL's headers, blocks it when GHL says spent or answers 429, and reports
 * daily use. The client runs on a MockAgent; the shared budget is an in-memory stand-in.
 */
import { afterEach, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { MockAgent, type Dispatcher } from 'undici';
import { createGhlBudget, DEFAULT_GHL_BUDGET_MARGIN_MS } from '../../../../src/clients/ghl/ghl-budget.js';
import { createGhlClient, type GhlCallBudget, type GhlClient, type GhlClientOptions } from '../../../../src/clients/ghl/ghl-client.js';
import type { GhlRateLimitHeaders } from '../../../../src/clients/ghl/rate-limit-headers.js';
import { createStaticTokenProvider, type GhlTokenProvider } from '../../../../src/clients/ghl/token-provider.js';
import { UpstreamError } from '../../../../src/clients/http/upstream-error.js';
import { RateBudgetExceededError, type BudgetDecision, type BudgetLimit, type RateBudget } from '../../../../src/clients/http/rate-budget-types.js';

const ORIGIN = 'https://ghl.test';
const LOC = 'loc_1';
const TOKEN = 'pit-secret-token-0123456789';
const CONTACT = { id: 'c1', locationId: LOC, firstName: 'Ada' };
const NOTE = { id: 'n1', body: 'hello', contactId: 'c1' };
const DAY_MS = 86_400_000;
const HEADERS_OK = {
  'x-ratelimit-max': '100',
  'x-ratelimit-remaining': '42',
  'x-ratelimit-interval-milliseconds': '10000',
  'x-ratelimit-limit-daily': '200000',
  'x-ratelimit-daily-remaining': '199000',
};

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  assert.fail('expected a rejection');
}

describe('the client takes from its budget', () => {
  let agent: MockAgent;
  let pool: ReturnType<MockAgent['get']>;
  let client: GhlClient | undefined;
  /** Budget calls and requests, in the order they happened. */
  let events: string[];

  beforeEach(() => {
    agent = new MockAgent();
    agent.disableNetConnect();
    pool = agent.get(ORIGIN);
    events = [];
  });

  afterEach(async () => {
    await client?.close();
    client = undefined;
    agent.assertNoPendingInterceptors();
    await agent.close();
  });

  function makeClient(budget: GhlCallBudget, overrides: Partial<GhlClientOptions> = {}): GhlClient {
    client = createGhlClient({
      baseUrl: ORIGIN,
      version: '2021-07-28',
      timeoutMs: 2_000,
      tokens: createStaticTokenProvider(LOC, TOKEN),
      dispatcher: agent satisfies Dispatcher,
      budget,
      ...overrides,
    });
    return client;
  }

  /** Grants `grants` calls (all when undefined), then refuses with `refusal`. */
  function recordingBudget(grants?: number, refusal = new RateBudgetExceededError('ghl', 1_234, 'window')) {
    let granted = 0;
    const headers: [string, GhlRateLimitHeaders][] = [];
    const rateLimited: [string, number | undefined, GhlRateLimitHeaders | undefined][] = [];
    const budget: GhlCallBudget = {
      async take(locationId) {
        events.push(`take ${locationId}`);
        if (grants !== undefined && granted >= grants) throw refusal;
        granted += 1;
      },
      async onHeaders(locationId, info) {
        events.push('headers');
        headers.push([locationId, info]);
      },
      async onRateLimited(locationId, waitMs, info) {
        events.push('rate-limited');
        rateLimited.push([locationId, waitMs, info]);
      },
    };
    return { budget, headers, rateLimited, refusal };
  }

  function reply(status: number, data: object, headers: Record<string, string> = {}) {
    return (opts: { method: string; path: string }) => {
      events.push(`${opts.method} ${opts.path}`);
      return { statusCode: status, data, responseOptions: { headers: { 'content-type': 'application/json', ...headers } } };
    };
  }

  function refreshingTokens(): GhlTokenProvider {
    return {
      async tokenFor() {
        return 'old-token';
      },
      async refresh() {
        return 'new-token';
      },
    };
  }

  test('takes one call before every request, the retry after a token refresh included', async () => {
    const { budget } = recordingBudget();
    const ghl = makeClient(budget, { tokens: refreshingTokens() });
    pool.intercept({ path: '/contacts/c1/notes', method: 'POST', headers: { authorization: 'Bearer old-token' } }).reply(reply(401, { message: 'Invalid token' }));
    pool.intercept({ path: '/contacts/c1/notes', method: 'POST', headers: { authorization: 'Bearer new-token' } }).reply(reply(201, { note: NOTE }));
    pool.intercept({ path: '/contacts/c1', method: 'GET' }).reply(reply(200, { contact: CONTACT }));

    assert.equal((await ghl.createNote(LOC, 'c1', { body: 'hello' })).id, 'n1');
    assert.equal((await ghl.getContact(LOC, 'c1')).id, 'c1');
    assert.deepEqual(events, [
      `take ${LOC}`,
      'POST /contacts/c1/notes',
      `take ${LOC}`,
      'POST /contacts/c1/notes',
      `take ${LOC}`,
      'GET /contacts/c1',
    ]);
  });

  test('a refusal propagates unchanged and nothing is sent', async () => {
    const { budget, refusal } = recordingBudget(0);
    const ghl = makeClient(budget);
    // No interceptor: with net connect disabled, any request would fail with a different error.
    const error = await rejection(ghl.getContact(LOC, 'c1'));
    assert.equal(error, refusal, 'the very RateBudgetExceededError the budget threw');
    assert.ok(error instanceof RateBudgetExceededError);
    assert.equal(error.retryAfterMs, 1_234);
    assert.deepEqual(events, [`take ${LOC}`]);
  });

  test('a refusal of the retry after a refresh propagates, and only the first request was sent', async () => {
    const { budget, refusal } = recordingBudget(1, new RateBudgetExceededError('ghl', 500, 'blocked'));
    const ghl = makeClient(budget, { tokens: refreshingTokens() });
    pool.intercept({ path: '/contacts/c1', method: 'GET', headers: { authorization: 'Bearer old-token' } }).reply(reply(401, { message: 'Invalid token' }));
    const error = await rejection(ghl.getContact(LOC, 'c1'));
    assert.equal(error, refusal);
    assert.deepEqual(events, [`take ${LOC}`, 'GET /contacts/c1', `take ${LOC}`]);
  });

  test('hands X-RateLimit headers to onHeaders, and a 429 (with its wait and any headers) to onRateLimited before the error', async () => {
    const { budget, headers, rateLimited } = recordingBudget();
    const ghl = makeClient(budget);
    pool.intercept({ path: '/contacts/c1', method: 'GET' }).reply(reply(200, { contact: CONTACT }, HEADERS_OK));
    pool.intercept({ path: '/contacts/c1', method: 'GET' }).reply(reply(429, { message: 'Too many' }, { ...HEADERS_OK, 'x-ratelimit-remaining': '0', 'retry-after': '7' }));
    pool.intercept({ path: '/contacts/c1', method: 'GET' }).reply(reply(429, { message: 'Too many' }, { 'x-ratelimit-interval-milliseconds': '2000' }));
    pool.intercept({ path: '/contacts/c1', method: 'GET' }).reply(reply(429, { message: 'Too many' }));

    await ghl.getContact(LOC, 'c1');
    const first = await rejection(ghl.getContact(LOC, 'c1'));
    assert.ok(first instanceof UpstreamError && first.status === 429 && first.retryAfterMs === 7_000);
    const second = await rejection(ghl.getContact(LOC, 'c1'));
    assert.ok(second instanceof UpstreamError && second.retryAfterMs === 2_000);
    const third = await rejection(ghl.getContact(LOC, 'c1'));
    assert.ok(third instanceof UpstreamError && third.status === 429);

    assert.deepEqual(headers, [[LOC, { max: 100, remaining: 42, intervalMs: 10_000, dailyLimit: 200_000, dailyRemaining: 199_000 }]]);
    assert.deepEqual(rateLimited, [
      [LOC, 7_000, { max: 100, remaining: 0, intervalMs: 10_000, dailyLimit: 200_000, dailyRemaining: 199_000 }],
      [LOC, 2_000, { max: undefined, remaining: undefined, intervalMs: 2_000, dailyLimit: undefined, dailyRemaining: undefined }],
      [LOC, undefined, undefined],
    ]);
    assert.deepEqual(events.slice(0, 6), [`take ${LOC}`, 'GET /contacts/c1', 'headers', `take ${LOC}`, 'GET /contacts/c1', 'rate-limited']);
  });

  test('waits for the 429 block to be stored before throwing', async () => {
    let stored = false;
    const ghl = makeClient({
      take: async () => undefined,
      onHeaders: async () => undefined,
      async onRateLimited() {
        await new Promise((resolve) => setTimeout(resolve, 30));
        stored = true;
      },
    });
    pool.intercept({ path: '/contacts/c1', method: 'GET' }).reply(reply(429, { message: 'Too many' }));
    await rejection(ghl.getContact(LOC, 'c1'));
    assert.equal(stored, true);
  });

  test('a failing advisory hook neither fails a done call nor changes a 429', async () => {
    const ghl = makeClient({
      take: async () => undefined,
      onHeaders: () => Promise.reject(new Error('redis down')),
      onRateLimited: () => Promise.reject(new Error('redis down')),
    });
    pool.intercept({ path: '/contacts/c1/notes', method: 'POST' }).reply(reply(201, { note: NOTE }, HEADERS_OK));
    pool.intercept({ path: '/contacts/c1', method: 'GET' }).reply(reply(429, { message: 'Too many' }, { ...HEADERS_OK, 'retry-after': '3' }));
    assert.equal((await ghl.createNote(LOC, 'c1', { body: 'hello' })).id, 'n1', 'the note was written: no retry may follow');
    const error = await rejection(ghl.getContact(LOC, 'c1'));
    assert.ok(error instanceof UpstreamError && error.status === 429 && error.retryAfterMs === 3_000);
  });

  test('a failing take (Redis down) propagates and nothing is sent', async () => {
    const ghl = makeClient({
      take: () => Promise.reject(new Error('connection refused')),
      onHeaders: async () => undefined,
      onRateLimited: async () => undefined,
    });
    await assert.rejects(ghl.getContact(LOC, 'c1'), /connection refused/);
  });
});

/** An in-memory RateBudget: decisions from a script, usage from a settable count, calls recorded. */
function fakeBudget(decide: (key: string, limit: BudgetLimit) => BudgetDecision = () => ({ ok: true, retryAfterMs: 0, remaining: 1 })) {
  const takes: [string, BudgetLimit][] = [];
  const blocks: [string, number][] = [];
  const settles: [string, string, number, number | undefined][] = [];
  const lookbacks: number[] = [];
  const state = { windowCount: 0, failing: false };
  const budget: RateBudget = {
    async take(key, limit) {
      takes.push([key, limit]);
      return decide(key, limit);
    },
    async settle(key, grant, windowMs, earlierMs) {
      settles.push([key, grant, windowMs, earlierMs]);
    },
    async block(key, untilMs) {
      if (state.failing) throw new Error('redis down');
      blocks.push([key, untilMs]);
    },
    async usage(_key, limit) {
      if (state.failing) throw new Error('redis down');
      lookbacks.push(limit.windowMs);
      return { window: state.windowCount, day: 0 };
    },
  };
  return { budget, takes, blocks, settles, lookbacks, state };
}

const CONFIGURED: BudgetLimit = { max: 100, windowMs: 10_000, daily: 200_000 };
const NOW = Date.UTC(2026, 0, 2, 12, 0, 0);
const headers = (info: Partial<GhlRateLimitHeaders>): GhlRateLimitHeaders => ({
  max: undefined,
  remaining: undefined,
  intervalMs: undefined,
  dailyLimit: undefined,
  dailyRemaining: undefined,
  ...info,
});

describe('createGhlBudget', () => {
  test('takes from ghl:<locationId> with the configured limit plus the margin, per location', async () => {
    const fake = fakeBudget();
    const ghl = createGhlBudget({ budget: fake.budget, limit: CONFIGURED, now: () => NOW });
    await ghl.take('locA');
    await ghl.forLocation('locB').take();
    const padded = { ...CONFIGURED, windowMs: 10_000 + DEFAULT_GHL_BUDGET_MARGIN_MS };
    assert.deepEqual(fake.takes, [
      ['ghl:locA', padded],
      ['ghl:locB', padded],
    ]);
  });

  test('a refusal becomes RateBudgetExceededError with the wait and scope; a spent day reports full use', async () => {
    const usage: [string, number][] = [];
    let scope: 'window' | 'day' = 'window';
    const fake = fakeBudget(() => ({ ok: false, retryAfterMs: 4_321, remaining: 0, scope }));
    const ghl = createGhlBudget({ budget: fake.budget, limit: CONFIGURED, onDailyUsage: (loc, used) => usage.push([loc, used]) });
    const windowError = await rejection(ghl.take('locA'));
    assert.ok(windowError instanceof RateBudgetExceededError);
    assert.deepEqual([windowError.system, windowError.retryAfterMs, windowError.scope], ['ghl', 4_321, 'window']);
    assert.deepEqual(usage, []);
    scope = 'day';
    const dayError = await rejection(ghl.forLocation('locA').take());
    assert.ok(dayError instanceof RateBudgetExceededError && dayError.scope === 'day');
    assert.deepEqual(usage, [['locA', 1]]);
  });

  test('GHL at remaining 0 with our own window not full blocks the location for a whole padded interval', async () => {
    const fake = fakeBudget();
    fake.state.windowCount = 40;
    const ghl = createGhlBudget({ budget: fake.budget, limit: CONFIGURED, marginMs: 50, now: () => NOW });
    await ghl.onHeaders('locA', headers({ max: 100, remaining: 0, intervalMs: 10_000, dailyRemaining: 5_000 }));
    assert.deepEqual(fake.blocks, [['ghl:locA', NOW + 10_050]]);
  });

  test('GHL at remaining 0 while our own window is full blocks nothing: the log already holds the next call', async () => {
    const fake = fakeBudget();
    fake.state.windowCount = 100;
    const ghl = createGhlBudget({ budget: fake.budget, limit: CONFIGURED, now: () => NOW });
    await ghl.onHeaders('locA', headers({ max: 100, remaining: 0, intervalMs: 10_000 }));
    assert.deepEqual(fake.blocks, []);
    // Our own calls are counted over two windows: grants GHL still counted when it answered may have
    // left our one-window count by the time it is read.
    assert.deepEqual(fake.lookbacks, [2 * (10_000 + DEFAULT_GHL_BUDGET_MARGIN_MS)]);
  });

  test('an answered call frees its slot without the in-flight margin; a call with no answer keeps it', async () => {
    const fake = fakeBudget(() => ({ ok: true, retryAfterMs: 0, remaining: 1, grant: 'g1' }));
    const ghl = createGhlBudget({ budget: fake.budget, limit: CONFIGURED, marginMs: 250 });
    const answered = await ghl.take('locA');
    await answered?.(true);
    const failed = await ghl.take('locA');
    await failed?.(false);
    assert.deepEqual(fake.settles, [
      ['ghl:locA', 'g1', 10_250, 250],
      ['ghl:locA', 'g1', 10_250, 0],
    ]);
  });

  test('remaining above 0 blocks nothing; a spent day blocks until the next UTC midnight', async () => {
    const fake = fakeBudget();
    const ghl = createGhlBudget({ budget: fake.budget, limit: CONFIGURED, now: () => NOW });
    await ghl.onHeaders('locA', headers({ remaining: 3, dailyRemaining: 10 }));
    assert.deepEqual(fake.blocks, []);
    await ghl.onHeaders('locA', headers({ remaining: 3, dailyRemaining: 0 }));
    assert.deepEqual(fake.blocks, [['ghl:locA', (Math.floor(NOW / DAY_MS) + 1) * DAY_MS]]);
  });

  test("GHL's headers tighten the location's limit but never loosen GHL_RATE_LIMIT", async () => {
    const fake = fakeBudget();
    const ghl = createGhlBudget({ budget: fake.budget, limit: CONFIGURED, marginMs: 0 });
    await ghl.onHeaders('locA', headers({ max: 25, intervalMs: 10_000, dailyLimit: 10_000 }));
    assert.deepEqual(ghl.limitFor('locA'), { max: 25, windowMs: 10_000, daily: 10_000 });
    assert.deepEqual(ghl.limitFor('locB'), CONFIGURED, 'other locations keep the configured limit');
    await ghl.take('locA');
    assert.deepEqual(fake.takes.at(-1), ['ghl:locA', { max: 25, windowMs: 10_000, daily: 10_000 }]);

    // A looser report (GHL raised the plan) replaces the tighter one, but stays within the configuration.
    await ghl.onHeaders('locA', headers({ max: 1_000, intervalMs: 1_000, dailyLimit: 1_000_000 }));
    assert.deepEqual(ghl.limitFor('locA'), CONFIGURED);
    await ghl.onHeaders('locA', headers({ max: 100, intervalMs: 60_000 }));
    assert.deepEqual(ghl.limitFor('locA'), { ...CONFIGURED, windowMs: 60_000 });
    // Nonsense is ignored (correctGhlLimit falls back to the configured value).
    await ghl.onHeaders('locA', headers({ max: 0, intervalMs: 0 }));
    assert.deepEqual(ghl.limitFor('locA'), CONFIGURED);
  });

  test('reports the daily share used from GHL counts, against the daily limit we enforce', async () => {
    const usage: number[] = [];
    const fake = fakeBudget();
    const ghl = createGhlBudget({ budget: fake.budget, limit: CONFIGURED, onDailyUsage: (_loc, used) => usage.push(used) });
    await ghl.onHeaders('locA', headers({ dailyLimit: 200_000, dailyRemaining: 20_000 }));
    await ghl.onHeaders('locA', headers({ remaining: 5 }));
    await ghl.onHeaders('locA', headers({ dailyRemaining: 150_000 }));
    const small = createGhlBudget({ budget: fake.budget, limit: { ...CONFIGURED, daily: 1_000 }, onDailyUsage: (_loc, used) => usage.push(used) });
    // GHL counts 900 calls today (other apps included) against our own cap of 1,000.
    await small.onHeaders('locA', headers({ dailyLimit: 200_000, dailyRemaining: 199_100 }));
    await small.onHeaders('locA', headers({ dailyLimit: 200_000, dailyRemaining: 0 }));
    assert.deepEqual(usage, [0.9, 0.25, 0.9, 1]);
  });

  test('never rejects: Redis errors in onHeaders and onRateLimited and a throwing usage callback are swallowed', async () => {
    const fake = fakeBudget();
    fake.state.failing = true;
    const ghl = createGhlBudget({
      budget: fake.budget,
      limit: CONFIGURED,
      onDailyUsage: () => {
        throw new Error('alerting bug');
      },
    });
    await ghl.onHeaders('locA', headers({ remaining: 0, dailyRemaining: 0, dailyLimit: 200_000 }));
    await ghl.onRateLimited('locA', 1_000, headers({ dailyRemaining: 0 }));
    await ghl.onRateLimited('locA', undefined, undefined);
    assert.deepEqual(fake.blocks, []);
  });

  test('a 429 blocks the location for Retry-After (not a whole interval for its remaining 0), else a padded interval', async () => {
    const fake = fakeBudget();
    const ghl = createGhlBudget({ budget: fake.budget, limit: CONFIGURED, marginMs: 50, now: () => NOW });
    await ghl.onRateLimited('locA', 7_000, headers({ remaining: 0, intervalMs: 10_000 }));
    await ghl.onRateLimited('locB', undefined, undefined);
    assert.deepEqual(fake.blocks, [
      ['ghl:locA', NOW + 7_000],
      ['ghl:locB', NOW + 10_050],
    ]);
  });

  test("a 429 learns from its headers: GHL's lower limit, and a spent day blocks until the next UTC midnight", async () => {
    const usage: number[] = [];
    const fake = fakeBudget();
    const ghl = createGhlBudget({ budget: fake.budget, limit: CONFIGURED, marginMs: 0, now: () => NOW, onDailyUsage: (_loc, used) => usage.push(used) });
    await ghl.onRateLimited('locA', 1_000, headers({ max: 25, remaining: 0, dailyLimit: 200_000, dailyRemaining: 0 }));
    assert.deepEqual(ghl.limitFor('locA'), { ...CONFIGURED, max: 25 });
    assert.deepEqual(fake.blocks, [
      ['ghl:locA', NOW + 1_000],
      ['ghl:locA', (Math.floor(NOW / DAY_MS) + 1) * DAY_MS],
    ]);
    assert.deepEqual(usage, [1]);
  });

  test('usage reports the enforced limit with the counts', async () => {
    const fake = fakeBudget();
    fake.state.windowCount = 7;
    const ghl = createGhlBudget({ budget: fake.budget, limit: CONFIGURED, marginMs: 0 });
    assert.deepEqual(await ghl.usage('locA'), { window: 7, day: 0, limit: CONFIGURED });
  });

  test('refuses a bad margin at construction', () => {
    assert.throws(() => createGhlBudget({ budget: fakeBudget().budget, limit: CONFIGURED, marginMs: -1 }), RangeError);
    assert.throws(() => createGhlBudget({ budget: fakeBudget().budget, limit: CONFIGURED, marginMs: 1.5 }), RangeError);
  });
});
