import { afterEach, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { MockAgent, type Dispatcher } from 'undici';
import {
  createOpinionStageClient,
  DEFAULT_RETRY_AFTER_MS,
  MAX_PAGES,
  nextPageOf,
  type OpinionStageClient,
  type OpinionStageClientOptions,
} from '../../../../src/clients/opinionstage/opinionstage-client.js';
import { OpinionStageClientError } from '../../../../src/clients/opinionstage/opinionstage-client-error.js';
import { UpstreamError } from '../../../../src/clients/http/upstream-error.js';

const ORIGIN = 'https://os.test';
const BASE = `${ORIGIN}/api/v2`;
const API_KEY = 'os-secret-key-0123456789';
const BASIC = `Basic ${Buffer.from(`${API_KEY}:`).toString('base64')}`;
const JSON_API = 'application/vnd.api+json';

const ITEM = { id: 'it1', type: 'item', attributes: { title: 'NPS survey', status: 'published', timestamps: { created: '2026-01-01T00:00:00Z', modified: null } }, links: { landing: 'https://os.test/l/it1' }, extra: 1 };
const RESPONSE = {
  id: 'r1',
  type: 'response',
  attributes: { answers: [{ question: 'q1', selection: ['Yes'] }], result: { title: 'Great', text: null }, timestamps: { created: '2026-01-02T00:00:00Z' }, utm: { contact_id: 'c1' } },
  links: { self: 'https://os.test/api/v2/items/it1/responses/r1' },
};
const QUESTION = (id: string) => ({ id, type: 'question', attributes: { title: `Title ${id}`, kind: 'text', lead: false } });

interface Seen {
  path: string;
  query: Record<string, string>;
  headers: Record<string, string>;
}

interface MockRequest {
  method: string;
  path: string;
  headers?: unknown;
}

function plainHeaders(headers: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (typeof headers === 'object' && headers !== null) {
    for (const [name, value] of Object.entries(headers)) if (typeof value === 'string') out[name.toLowerCase()] = value;
  }
  return out;
}

/** Records what the "server" saw (path, decoded query, headers), then answers with a JSON:API body. */
function answer(seen: Seen[], statusCode: number, data: object | string, headers: Record<string, string> = {}) {
  return (opts: MockRequest) => {
    const url = new URL(opts.path, ORIGIN);
    seen.push({ path: url.pathname, query: Object.fromEntries(url.searchParams), headers: plainHeaders(opts.headers) });
    return { statusCode, data, responseOptions: { headers: { 'content-type': JSON_API, ...headers } } };
  };
}

const under = (prefix: string) => (path: string) => path === prefix || path.startsWith(`${prefix}?`);

let agent: MockAgent;
let pool: ReturnType<MockAgent['get']>;
let client: OpinionStageClient;
let seen: Seen[];

function makeClient(overrides: Partial<OpinionStageClientOptions> = {}): OpinionStageClient {
  return createOpinionStageClient({ baseUrl: BASE, apiKey: API_KEY, timeoutMs: 2_000, dispatcher: agent satisfies Dispatcher, ...overrides });
}

beforeEach(() => {
  agent = new MockAgent();
  agent.disableNetConnect();
  pool = agent.get(ORIGIN);
  seen = [];
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

describe('requests', () => {
  test('sends HTTP Basic (key, empty password) and the JSON:API Accept; parses the vnd.api+json body', async () => {
    pool.intercept({ path: under('/api/v2/items'), method: 'GET' }).reply(answer(seen, 200, { data: [ITEM], meta: { page: { current: 1, total: 1 } }, links: { next: null } }));
    const page = await client.listItems();
    assert.equal(seen.length, 1);
    assert.equal(seen[0]?.headers['authorization'], BASIC);
    assert.equal(BASIC, 'Basic b3Mtc2VjcmV0LWtleS0wMTIzNDU2Nzg5Og==');
    assert.equal(seen[0]?.headers['accept'], JSON_API);
    assert.deepEqual(seen[0]?.query, { 'page[number]': '1', 'page[size]': '50' });
    assert.equal(page.items.length, 1);
    assert.equal(page.items[0]?.id, 'it1');
    assert.equal(page.items[0]?.attributes?.title, 'NPS survey');
    assert.equal(page.items[0]?.['extra'], 1, 'unknown fields are kept');
    assert.equal(page.nextPage, undefined);
  });

  test('asks for the page and size given, and encodes the item id in the path', async () => {
    pool.intercept({ path: under('/api/v2/items/a%2Fb%3Fc/responses'), method: 'GET' }).reply(answer(seen, 200, { data: [RESPONSE], links: { next: null } }));
    const page = await client.listResponses('a/b?c', { number: 3, size: 100 });
    assert.equal(seen[0]?.path, '/api/v2/items/a%2Fb%3Fc/responses');
    assert.deepEqual(seen[0]?.query, { 'page[number]': '3', 'page[size]': '100' });
    assert.equal(page.responses[0]?.id, 'r1');
    assert.deepEqual(page.responses[0]?.attributes?.answers, [{ question: 'q1', selection: ['Yes'] }]);
    assert.equal(page.nextPage, undefined);
  });

  test('refuses ids that URL parsing would resolve away and pages outside 1..100', async () => {
    for (const id of ['', '.', '..']) {
      const error = await rejectsWith(client.listQuestions(id));
      assert.ok(error instanceof OpinionStageClientError);
      assert.equal(error.code, 'OPINIONSTAGE_INVALID_ID');
    }
    for (const page of [{ size: 101 }, { size: 0 }, { number: 0 }, { number: 1.5 }]) {
      const error = await rejectsWith(client.listItems(page));
      assert.ok(error instanceof OpinionStageClientError);
      assert.equal(error.code, 'OPINIONSTAGE_INVALID_REQUEST');
    }
    assert.equal(seen.length, 0, 'nothing was sent');
  });

  test('takes from the budget before every request, and a refusing budget stops the call', async () => {
    let taken = 0;
    await client.close();
    client = makeClient({ budget: { take: async () => void (taken += 1) } });
    pool.intercept({ path: under('/api/v2/items'), method: 'GET' }).reply(answer(seen, 200, { data: [ITEM] }));
    await client.listItems();
    assert.equal(taken, 1);

    await client.close();
    client = makeClient({
      budget: {
        take: async () => {
          throw new Error('budget spent');
        },
      },
    });
    const error = await rejectsWith(client.listItems());
    assert.ok(error instanceof Error);
    assert.equal(error.message, 'budget spent');
    assert.equal(seen.length, 1, 'the refused call never left');
  });

  test('reports each exchange to the observer with system opinionstage', async () => {
    const observed: unknown[] = [];
    await client.close();
    client = makeClient({ observe: (info) => observed.push({ system: info.system, path: info.path, status: info.status }) });
    pool.intercept({ path: under('/api/v2/items'), method: 'GET' }).reply(answer(seen, 200, { data: [] }));
    await client.listItems();
    assert.deepEqual(observed, [{ system: 'opinionstage', path: '/items', status: 200 }]);
  });
});

describe('paging', () => {
  test('listItems: nextPage from links.next (its page[number])', async () => {
    const next = `${BASE}/items?page%5Bnumber%5D=2&page%5Bsize%5D=50`;
    pool.intercept({ path: under('/api/v2/items'), method: 'GET' }).reply(answer(seen, 200, { data: [ITEM], links: { self: 'x', next } }));
    assert.equal((await client.listItems()).nextPage, 2);
  });

  test('listResponses: nextPage from meta.page.current < total when links.next is absent', async () => {
    pool.intercept({ path: under('/api/v2/items/it1/responses'), method: 'GET' }).reply(answer(seen, 200, { data: [RESPONSE], meta: { page: { current: 2, total: 3 } } }));
    assert.equal((await client.listResponses('it1', { number: 2 })).nextPage, 3);
    pool.intercept({ path: under('/api/v2/items/it1/responses'), method: 'GET' }).reply(answer(seen, 200, { data: [RESPONSE], meta: { page: { current: 3, total: 3 } } }));
    assert.equal((await client.listResponses('it1', { number: 3 })).nextPage, undefined);
  });

  test('nextPageOf: rules and guards', () => {
    const data = [{ id: 'x' }];
    assert.equal(nextPageOf({ data, links: { next: '/items?page[number]=7' } }, 6), 7);
    assert.equal(nextPageOf({ data, links: { next: '/items?cursor=abc' } }, 4), 5, 'a link without page[number]: the following page');
    assert.equal(nextPageOf({ data, links: { next: '/items?page[number]=1' } }, 4), 5, 'never goes backwards');
    assert.equal(nextPageOf({ data, links: { next: null }, meta: { page: { current: '1', total: '2' } } }, 1), 2, 'numeric strings in meta');
    assert.equal(nextPageOf({ data, links: { next: null } }, 1), undefined);
    assert.equal(nextPageOf({ data }, 1), undefined, 'no links, no meta: the only page');
    assert.equal(nextPageOf({ data: [], links: { next: '/items?page[number]=2' } }, 1), undefined, 'an empty page is the last');
  });

  test('listAllItems follows links.next with size 100 and drops records a shifted page repeats', async () => {
    const pages = [
      { data: [{ id: 'a' }, { id: 'b' }], links: { next: `${BASE}/items?page[number]=2&page[size]=100` } },
      { data: [{ id: 'b' }, { id: 'c' }], links: { next: `${BASE}/items?page[number]=3&page[size]=100` } },
      { data: [{ id: 'd' }], links: { next: null } },
    ];
    for (const body of pages) pool.intercept({ path: under('/api/v2/items'), method: 'GET' }).reply(answer(seen, 200, body));
    const items = await client.listAllItems();
    assert.deepEqual(
      items.map((item) => item.id),
      ['a', 'b', 'c', 'd'],
    );
    assert.deepEqual(
      seen.map((s) => s.query),
      [1, 2, 3].map((n) => ({ 'page[number]': String(n), 'page[size]': '100' })),
    );
  });

  test('listQuestions follows meta paging over every page', async () => {
    pool.intercept({ path: under('/api/v2/items/it1/questions'), method: 'GET' }).reply(answer(seen, 200, { data: [QUESTION('q1')], meta: { page: { current: 1, total: 2 } } }));
    pool.intercept({ path: under('/api/v2/items/it1/questions'), method: 'GET' }).reply(answer(seen, 200, { data: [QUESTION('q2')], meta: { page: { current: 2, total: 2 } } }));
    const questions = await client.listQuestions('it1');
    assert.deepEqual(
      questions.map((q) => [q.id, q.attributes?.title]),
      [
        ['q1', 'Title q1'],
        ['q2', 'Title q2'],
      ],
    );
    assert.deepEqual(
      seen.map((s) => s.query['page[number]']),
      ['1', '2'],
    );
  });

  test('a walk over all pages stops after MAX_PAGES even if the server always says "more"', async () => {
    let served = 0;
    pool
      .intercept({ path: under('/api/v2/items'), method: 'GET' })
      .reply((opts: MockRequest) => {
        served += 1;
        const number = Number(new URL(opts.path, ORIGIN).searchParams.get('page[number]'));
        return { statusCode: 200, data: { data: [{ id: `i${number}` }], links: { next: `/items?page[number]=${number + 1}` } }, responseOptions: { headers: { 'content-type': JSON_API } } };
      })
      .persist();
    const items = await client.listAllItems();
    assert.equal(served, MAX_PAGES);
    assert.equal(items.length, MAX_PAGES);
  });
});

describe('errors', () => {
  test('401 becomes UpstreamError (opinionstage, UPSTREAM_HTTP) without the key in it', async () => {
    pool
      .intercept({ path: under('/api/v2/items'), method: 'GET' })
      .reply(answer(seen, 401, { errors: [{ status: '401', title: 'Unauthorized', detail: `bad key ${API_KEY}` }] }, { 'x-request-id': 'req-9' }));
    const error = await upstreamError(client.listItems());
    assert.equal(error.system, 'opinionstage');
    assert.equal(error.code, 'UPSTREAM_HTTP');
    assert.equal(error.status, 401);
    assert.equal(error.path, '/items');
    assert.equal(error.requestId, 'req-9');
    assert.equal(error.retryAfterMs, undefined);
    assert.match(error.bodyExcerpt ?? '', /Unauthorized/);
    assert.ok(!JSON.stringify(error.toJSON()).includes(API_KEY), 'the key is redacted');
    assert.ok(!error.message.includes(API_KEY));
  });

  test('403 and 404 become UpstreamError with their status', async () => {
    pool.intercept({ path: under('/api/v2/items/nope/responses'), method: 'GET' }).reply(answer(seen, 404, { errors: [{ status: '404', title: 'Not Found' }] }));
    const notFound = await upstreamError(client.listResponses('nope'));
    assert.equal(notFound.status, 404);
    assert.equal(notFound.path, '/items/nope/responses');
    pool.intercept({ path: under('/api/v2/items/it1/questions'), method: 'GET' }).reply(answer(seen, 403, { errors: [{ status: '403', title: 'Forbidden' }] }));
    const forbidden = await upstreamError(client.listQuestions('it1'));
    assert.equal(forbidden.status, 403);
  });

  test('429 carries Retry-After, or 30 s when the header is missing', async () => {
    pool.intercept({ path: under('/api/v2/items'), method: 'GET' }).reply(answer(seen, 429, { errors: [{ status: '429' }] }, { 'retry-after': '7' }));
    const withHeader = await upstreamError(client.listItems());
    assert.equal(withHeader.status, 429);
    assert.equal(withHeader.retryAfterMs, 7_000);
    pool.intercept({ path: under('/api/v2/items'), method: 'GET' }).reply(answer(seen, 429, ''));
    const bare = await upstreamError(client.listItems());
    assert.equal(bare.retryAfterMs, DEFAULT_RETRY_AFTER_MS);
    assert.equal(DEFAULT_RETRY_AFTER_MS, 30_000);
  });

  test('an unreadable response record is skipped with its reason; null attributes and answers are read; the page stands', async () => {
    const records = [
      { id: 'r1', attributes: { answers: 'nope' } },
      { id: 'r2', attributes: null },
      { id: 'r3', attributes: { answers: null, timestamps: { created: '2026-01-02T03:04:05Z' } } },
      { attributes: { answers: [] } },
      'not a record',
      { id: 'r6', attributes: { answers: [{ question: 'q1', selection: ['Yes'] }] } },
    ];
    pool.intercept({ path: under('/api/v2/items/it1/responses'), method: 'GET' }).reply(answer(seen, 200, { data: records, meta: { page: { current: 1, total: 3 } } }));
    const page = await client.listResponses('it1');
    assert.deepEqual(page.responses.map((response) => response.id), ['r2', 'r3', 'r6']);
    assert.equal(page.responses[0]?.attributes, null);
    assert.equal(page.responses[1]?.attributes?.answers, null);
    assert.equal(page.totalPages, 3);
    assert.equal(page.nextPage, 2);
    assert.deepEqual(page.skipped.map(({ index, id }) => ({ index, id })), [{ index: 0, id: 'r1' }, { index: 3, id: undefined }, { index: 4, id: undefined }]);
    assert.match(page.skipped[0]?.reason ?? '', /attributes\.answers/);
    assert.match(page.skipped[1]?.reason ?? '', /^id:/);

    pool.intercept({ path: under('/api/v2/items'), method: 'GET' }).reply(answer(seen, 200, { items: [] }));
    const noData = await upstreamError(client.listItems());
    assert.equal(noData.code, 'UPSTREAM_BAD_RESPONSE');
    assert.match(noData.bodyExcerpt ?? '', /^data:/);
  });

  test('a 5xx HTML page is an UPSTREAM_HTTP error, not a parse crash', async () => {
    pool.intercept({ path: under('/api/v2/items'), method: 'GET' }).reply(502, '<html>bad gateway</html>', { headers: { 'content-type': 'text/html' } });
    const error = await upstreamError(client.listItems());
    assert.equal(error.code, 'UPSTREAM_HTTP');
    assert.equal(error.status, 502);
    assert.match(error.bodyExcerpt ?? '', /bad gateway/);
  });
});
