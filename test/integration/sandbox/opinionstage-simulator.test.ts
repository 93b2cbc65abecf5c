/**
 * The Opinion Stage simulator over real HTTP on loopback: Basic-auth refusals, JSON:API collections
 * and their paging links, newest-first responses, questions and lead fields, personal-link parameters,
 * 404s, every injected fault kind and the control API. Webhooks are in opinionstage-webhooks.test.ts.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request, type Dispatcher } from 'undici';
import { z } from 'zod';
import {
  DEFAULT_OPINIONSTAGE_API_KEY,
  startOpinionStageSimulator,
  type OpinionStageSimulator,
} from '../../../src/sandbox/opinionstage/simulator.js';

const JSON_API = 'application/vnd.api+json';
const ISO_Z = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;

const ResourceSchema = z.looseObject({
  id: z.string(),
  type: z.string(),
  // Null for some real response records (the simulator serves them on request).
  attributes: z.looseObject({}).nullable(),
  links: z.looseObject({}).optional(),
});
const CollectionSchema = z.strictObject({
  data: z.array(ResourceSchema),
  meta: z.strictObject({ page: z.strictObject({ current: z.number().int(), total: z.number().int() }) }),
  links: z.strictObject({ self: z.url(), next: z.url().nullable() }),
});
type Collection = z.infer<typeof CollectionSchema>;
const ErrorDocumentSchema = z.strictObject({
  errors: z.array(z.looseObject({ status: z.string(), title: z.string(), detail: z.string().optional() })).min(1),
});
const ResponseAttributesSchema = z.looseObject({
  answers: z.array(z.strictObject({ question: z.string(), selection: z.array(z.string()) })),
  result: z.looseObject({ title: z.string(), text: z.string(), score: z.number().optional() }).nullable(),
  timestamps: z.strictObject({ created: z.string().regex(ISO_Z) }),
  timings: z.strictObject({ duration: z.number() }),
  utm: z.record(z.string(), z.string()),
  hidden_fields: z.record(z.string(), z.string()),
});
const QuestionAttributesSchema = z.strictObject({
  title: z.string(),
  kind: z.string(),
  lead: z.boolean(),
  timestamps: z.strictObject({ created: z.string().regex(ISO_Z), modified: z.string().regex(ISO_Z) }),
});

interface Answer {
  status: number;
  headers: Record<string, string>;
  text: string;
}

function basic(username: string, password = ''): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
}

async function call(
  url: string,
  options: { method?: Dispatcher.HttpMethod; authorization?: string | null; body?: unknown; signal?: AbortSignal } = {},
): Promise<Answer> {
  const headers: Record<string, string> = { accept: JSON_API };
  if (options.authorization !== null) headers.authorization = options.authorization ?? basic(DEFAULT_OPINIONSTAGE_API_KEY);
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const response = await request(url, {
    method: options.method ?? 'GET',
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
    signal: options.signal,
  });
  const text = await response.body.text();
  const flat: Record<string, string> = {};
  for (const [key, value] of Object.entries(response.headers)) if (typeof value === 'string') flat[key] = value;
  return { status: response.statusCode, headers: flat, text };
}

async function collection(url: string): Promise<Collection> {
  const answer = await call(url);
  assert.equal(answer.status, 200, answer.text);
  assert.equal(answer.headers['content-type'], JSON_API);
  return CollectionSchema.parse(JSON.parse(answer.text));
}

async function errorOf(answer: Answer, status: number): Promise<z.infer<typeof ErrorDocumentSchema>> {
  assert.equal(answer.status, status, answer.text);
  assert.equal(answer.headers['content-type'], JSON_API);
  const document = ErrorDocumentSchema.parse(JSON.parse(answer.text));
  assert.equal(document.errors[0]?.status, String(status));
  return document;
}

/** Follows links.next from `first` and returns every page. */
async function allPages(first: string): Promise<Collection[]> {
  const pages: Collection[] = [];
  let next: string | null = first;
  while (next !== null) {
    const page = await collection(next);
    pages.push(page);
    next = page.links.next;
    assert.ok(pages.length < 50, 'paging does not end');
  }
  return pages;
}

const minutesAgo = (minutes: number): string => new Date(Date.UTC(2026, 10, 20, 12, 0) - minutes * 60_000).toISOString();

describe('Opinion Stage simulator: auth and collections', () => {
  let sim: OpinionStageSimulator;

  before(async () => {
    sim = await startOpinionStageSimulator();
  });
  after(async () => {
    await sim.close();
  });

  test('the API wants Basic auth with the key as username and an empty password; anything else is a JSON:API 401', async () => {
    assert.equal(sim.apiBaseUrl, `${sim.url}/api/v2`);
    const url = `${sim.apiBaseUrl}/items`;
    const refusals = [
      null,
      basic('wrong-key'),
      basic(DEFAULT_OPINIONSTAGE_API_KEY, 'not-empty'),
      `Bearer ${DEFAULT_OPINIONSTAGE_API_KEY}`,
      'Basic !!!',
    ];
    for (const authorization of refusals) {
      const answer = await call(url, { authorization });
      const document = await errorOf(answer, 401);
      assert.equal(document.errors[0]?.title, 'Unauthorized');
      assert.match(answer.headers['www-authenticate'] ?? '', /^Basic /);
    }
    await collection(url);
    assert.deepEqual(
      sim.calls.map((c) => [c.auth, c.status, c.accept]),
      [
        ['none', 401, JSON_API],
        ['basic', 401, JSON_API],
        ['basic', 401, JSON_API],
        ['bearer', 401, JSON_API],
        ['basic', 401, JSON_API],
        ['basic', 200, JSON_API],
      ],
    );
  });

  test('a custom key replaces the default one', async () => {
    const other = await startOpinionStageSimulator({ apiKey: 'k-123' });
    try {
      await errorOf(await call(`${other.apiBaseUrl}/items`), 401);
      assert.equal((await call(`${other.apiBaseUrl}/items`, { authorization: basic('k-123') })).status, 200);
    } finally {
      await other.close();
    }
  });

  test('items come newest first in pages of 25 by default, with absolute self/next links and next null at the end', async () => {
    const empty = await collection(`${sim.apiBaseUrl}/items`);
    assert.deepEqual(empty.data, []);
    assert.equal(empty.links.next, null);

    const ids: string[] = [];
    for (let n = 0; n < 30; n += 1) {
      ids.push(sim.addItem({ title: `Quiz ${n}`, createdAt: minutesAgo(100 - n), questions: [] }).id);
    }
    const newestFirst = [...ids].reverse();

    const pages = await allPages(`${sim.apiBaseUrl}/items`);
    assert.deepEqual(
      pages.map((p) => [p.data.length, p.meta.page.current, p.meta.page.total]),
      [
        [25, 1, 2],
        [5, 2, 2],
      ],
    );
    assert.deepEqual(pages.flatMap((p) => p.data.map((r) => r.id)), newestFirst);
    const [first] = pages;
    assert.ok(first);
    assert.ok(first.links.self.startsWith(`${sim.apiBaseUrl}/items?`));
    const next = new URL(first.links.next ?? '');
    assert.equal(next.searchParams.get('page[number]'), '2');
    assert.equal(next.searchParams.get('page[size]'), '25');

    const sized = await collection(`${sim.apiBaseUrl}/items?page[number]=3&page[size]=7`);
    assert.deepEqual(sized.data.map((r) => r.id), newestFirst.slice(14, 21));
    assert.deepEqual(sized.meta.page, { current: 3, total: 5 });
    assert.equal(new URL(sized.links.next ?? '').searchParams.get('page[number]'), '4');

    const beyond = await collection(`${sim.apiBaseUrl}/items?page[number]=9&page[size]=10`);
    assert.deepEqual([beyond.data.length, beyond.meta.page.current, beyond.meta.page.total, beyond.links.next], [0, 9, 3, null]);

    const item = pages[0]?.data[0];
    assert.ok(item);
    assert.equal(item.type, 'item');
    const attributes = z
      .looseObject({
        title: z.string(),
        status: z.string(),
        kind: z.string(),
        embed: z.strictObject({ iframe: z.string(), script: z.string() }),
        timestamps: z.strictObject({ created: z.string().regex(ISO_Z), modified: z.string().regex(ISO_Z) }),
      })
      .parse(item.attributes);
    assert.deepEqual([attributes.title, attributes.kind, attributes.status], ['Quiz 29', 'quiz', 'published']);
    const links = z.looseObject({ self: z.url(), landing: z.url(), results: z.url() }).parse(item.links);
    assert.equal(links.self, `${sim.apiBaseUrl}/items/${item.id}`);
    assert.equal(links.landing, `${sim.url}/page/${item.id}`);
    assert.deepEqual(item.relationships, { questions: { links: { related: `${sim.apiBaseUrl}/items/${item.id}/questions` } } });
  });

  test('page[size] is capped at 100 and bad page parameters are a JSON:API 400', async () => {
    for (let n = 0; n < 80; n += 1) sim.addItem({ title: `Filler ${n}`, questions: [] });
    const capped = await collection(`${sim.apiBaseUrl}/items?page[size]=500`);
    assert.equal(capped.data.length, 100);
    assert.equal(capped.meta.page.total, 2);
    assert.equal(new URL(capped.links.self).searchParams.get('page[size]'), '100');
    assert.equal(new URL(capped.links.next ?? '').searchParams.get('page[size]'), '100');

    for (const query of ['page[number]=0', 'page[number]=-1', 'page[size]=abc', 'page[size]=0', 'page[number]=1.5']) {
      const document = await errorOf(await call(`${sim.apiBaseUrl}/items?${query}`), 400);
      assert.match(document.errors[0]?.detail ?? '', /positive integer/);
    }
  });
});

describe('Opinion Stage simulator: responses and questions', () => {
  let sim: OpinionStageSimulator;

  before(async () => {
    sim = await startOpinionStageSimulator();
  });
  after(async () => {
    await sim.close();
  });

  test('responses come newest first across pages, whatever the insertion order, with answers pointing at question ids', async () => {
    const item = sim.addItem({
      title: 'Product quiz',
      type: 'quiz',
      questions: [
        { id: 'q_email', title: 'Your email', kind: 'email' },
        { title: 'Favourite colour', kind: 'single_choice' },
        { title: 'Toppings', kind: 'multiple_choice' },
      ],
    });
    const expected: string[] = [];
    // Inserted out of time order: the listing sorts by timestamps.created, not by arrival.
    for (const minutes of [50, 10, 40, 20, 30, 60, 0]) {
      const response = sim.addResponse(item.id, {
        answers: { q_email: `r${minutes}@example.com`, 'Favourite colour': 'blue', Toppings: ['cheese', 'olives'] },
        result: { title: `Result ${minutes}`, text: 'You are a pizza', score: minutes },
        createdAt: minutesAgo(minutes),
      });
      expected[minutes / 10] = response.id;
    }

    const pages = await allPages(`${sim.apiBaseUrl}/items/${item.id}/responses?page[size]=3`);
    assert.deepEqual(
      pages.map((p) => [p.data.length, p.meta.page.current, p.meta.page.total]),
      [
        [3, 1, 3],
        [3, 2, 3],
        [1, 3, 3],
      ],
    );
    assert.equal(pages.at(-1)?.links.next, null);
    const listed = pages.flatMap((p) => p.data);
    assert.deepEqual(
      listed.map((r) => r.id),
      expected,
    );

    const colour = item.questions[1]?.id;
    const toppings = item.questions[2]?.id;
    assert.ok(colour !== undefined && toppings !== undefined);
    const newest = listed[0];
    assert.ok(newest);
    assert.equal(newest.type, 'response');
    const attributes = ResponseAttributesSchema.parse(newest.attributes);
    assert.deepEqual(attributes.answers, [
      { question: 'q_email', selection: ['r0@example.com'] },
      { question: colour, selection: ['blue'] },
      { question: toppings, selection: ['cheese', 'olives'] },
    ]);
    assert.deepEqual(attributes.result, { title: 'Result 0', text: 'You are a pizza', score: 0 });
    assert.equal(attributes.timestamps.created, minutesAgo(0));
    assert.deepEqual(newest.links, { self: `${sim.apiBaseUrl}/items/${item.id}/responses/${newest.id}` });

    const questions = await collection(`${sim.apiBaseUrl}/items/${item.id}/questions`);
    assert.deepEqual(
      questions.data.map((q) => {
        const a = QuestionAttributesSchema.parse(q.attributes);
        return [q.id, q.type, a.title, a.kind, a.lead];
      }),
      [
        ['q_email', 'question', 'Your email', 'email', true],
        [colour, 'question', 'Favourite colour', 'single_choice', false],
        [toppings, 'question', 'Toppings', 'multiple_choice', false],
      ],
    );
    const answered = new Set(attributes.answers.map((a) => a.question));
    assert.deepEqual(new Set(questions.data.map((q) => q.id)), answered);
  });

  test('lead questions are lead: true for lead kinds unless the input says otherwise', async () => {
    const item = sim.addItem({
      title: 'Lead form',
      type: 'form',
      questions: [
        { title: 'Name', kind: 'name' },
        { title: 'Phone', kind: 'phone' },
        { title: 'Work email', kind: 'email', lead: false },
        { title: 'Company', kind: 'text', lead: true },
      ],
    });
    const questions = await collection(`${sim.apiBaseUrl}/items/${item.id}/questions?page[size]=2`);
    assert.deepEqual(questions.meta.page, { current: 1, total: 2 });
    const rest = await collection(questions.links.next ?? '');
    assert.deepEqual(
      [...questions.data, ...rest.data].map((q) => QuestionAttributesSchema.parse(q.attributes)).map((a) => [a.kind, a.lead]),
      [
        ['name', true],
        ['phone', true],
        ['email', false],
        ['text', true],
      ],
    );
  });

  test('the personal link parameters of a response show up in utm and hidden_fields; a form without result has result null', async () => {
    const item = sim.addItem({ title: 'Survey', type: 'survey', questions: [{ title: 'Email', kind: 'email' }] });
    const query = { contact_id: 'ghl_contact_42', email: 'lead@example.com', utm_source: 'ghl' };
    const response = sim.addResponse(item.id, { answers: { Email: 'lead@example.com' }, query });
    const page = await collection(`${sim.apiBaseUrl}/items/${item.id}/responses`);
    assert.deepEqual(page.data.map((r) => r.id), [response.id]);
    const attributes = ResponseAttributesSchema.parse(page.data[0]?.attributes);
    assert.deepEqual(attributes.utm, query);
    assert.deepEqual(attributes.hidden_fields, query);
    assert.equal(attributes.result, null);

    const plain = sim.addResponse(item.id, { answers: {} });
    const again = await collection(`${sim.apiBaseUrl}/items/${item.id}/responses`);
    assert.equal(again.data[0]?.id, plain.id);
    const plainAttributes = ResponseAttributesSchema.parse(again.data[0]?.attributes);
    assert.deepEqual([plainAttributes.utm, plainAttributes.hidden_fields, plainAttributes.answers], [{}, {}, []]);
  });

  test('the response order is a switch: oldest first lists the same responses reversed, across pages', async () => {
    const item = sim.addItem({ title: 'Order switch', type: 'survey', questions: [{ id: 'q-o', title: 'Anything?', kind: 'text' }] });
    for (let i = 0; i < 30; i++) sim.addResponse(item.id, { id: `order-${i}`, answers: { 'q-o': `a${i}` }, createdAt: minutesAgo(60 - i), sendWebhook: false });
    const ids = async () => (await allPages(`${sim.apiBaseUrl}/items/${item.id}/responses?page[size]=7`)).flatMap((page) => page.data.map((r) => r.id));
    const newestFirst = await ids();
    assert.equal(newestFirst[0], 'order-29');
    sim.setResponseOrder('oldest-first');
    try {
      assert.deepEqual(await ids(), [...newestFirst].reverse());
    } finally {
      sim.setResponseOrder('newest-first');
    }
    assert.deepEqual(await ids(), newestFirst);
  });

  test('records can be served with null attributes or null answers, as real records are', async () => {
    const item = sim.addItem({ title: 'Null records', type: 'form', questions: [{ id: 'q-n', title: 'Email', kind: 'email' }] });
    sim.addResponse(item.id, { id: 'null-attr', answers: { 'q-n': 'a@example.com' }, createdAt: minutesAgo(2), nulls: 'attributes', sendWebhook: false });
    sim.addResponse(item.id, { id: 'null-answers', answers: { 'q-n': 'b@example.com' }, createdAt: minutesAgo(1), nulls: 'answers', sendWebhook: false });
    const page = await collection(`${sim.apiBaseUrl}/items/${item.id}/responses`);
    const byId = new Map(page.data.map((r) => [r.id, r]));
    assert.equal(byId.get('null-attr')?.attributes, null);
    const withNullAnswers = z.looseObject({ answers: z.null(), timestamps: z.looseObject({ created: z.string() }) }).parse(byId.get('null-answers')?.attributes);
    assert.equal(withNullAnswers.timestamps.created, minutesAgo(1));
  });

  test('an item\'s questions can be made to answer 404 while its responses are still served', async () => {
    const item = sim.addItem({ title: 'Hidden questions', type: 'survey', questions: [{ id: 'q-h', title: 'Why?', kind: 'text' }] });
    sim.addResponse(item.id, { answers: { 'q-h': 'because' }, sendWebhook: false });
    sim.hideQuestions(item.id);
    const document = await errorOf(await call(`${sim.apiBaseUrl}/items/${item.id}/questions`), 404);
    assert.match(document.errors[0]?.detail ?? '', /Questions of item/);
    assert.equal((await collection(`${sim.apiBaseUrl}/items/${item.id}/responses`)).data.length, 1);
    sim.hideQuestions(item.id, false);
    assert.equal((await collection(`${sim.apiBaseUrl}/items/${item.id}/questions`)).data.length, 1);
  });

  test('an unknown item is a JSON:API 404 for responses and questions, and so is an unknown route', async () => {
    for (const path of ['/items/nope/responses', '/items/nope/questions', '/items/nope/whatever', '/responses']) {
      const document = await errorOf(await call(`${sim.apiBaseUrl}${path}`), 404);
      assert.equal(document.errors[0]?.title, 'Not Found');
    }
    assert.throws(() => sim.addResponse('nope', { answers: {} }), { name: 'JsonApiError', statusCode: 404 });
  });

  test('bad seeds are refused: unknown question, duplicate ids, invalid input', async () => {
    const item = sim.addItem({ id: 'item_fixed', title: 'Fixed', questions: [{ id: 'q1', title: 'Q1', kind: 'text' }] });
    assert.equal(item.id, 'item_fixed');
    assert.throws(() => sim.addResponse(item.id, { answers: { 'No such question': 'x' } }), { statusCode: 422 });
    assert.throws(() => sim.addItem({ id: 'item_fixed', title: 'Again', questions: [] }), { statusCode: 409 });
    assert.throws(
      () => sim.addItem({ title: 'Twice', questions: [{ id: 'a', title: 'A', kind: 'text' }, { id: 'a', title: 'B', kind: 'text' }] }),
      { statusCode: 409 },
    );
    sim.addResponse(item.id, { id: 'resp_1', answers: { q1: 'x' } });
    assert.throws(() => sim.addResponse(item.id, { id: 'resp_1', answers: {} }), { statusCode: 409 });
    assert.throws(() => sim.addResponse(item.id, { answers: {}, createdAt: 'yesterday-ish' }), { statusCode: 422 });
  });
});

describe('Opinion Stage simulator: injected faults', () => {
  let sim: OpinionStageSimulator;
  let itemsUrl: string;

  before(async () => {
    sim = await startOpinionStageSimulator();
    itemsUrl = `${sim.apiBaseUrl}/items`;
  });
  after(async () => {
    await sim.close();
  });

  test('status: a JSON:API error once (times), matched by method and path; an object body is served as given', async () => {
    const item = sim.addItem({ title: 'Faulty', questions: [] });
    sim.injectFault({ fault: { kind: 'status', status: 503 }, path: /\/responses$/, times: 1 });
    assert.equal((await call(itemsUrl)).status, 200, 'other paths are untouched');
    await errorOf(await call(`${itemsUrl}/${item.id}/responses`), 503);
    assert.equal((await call(`${itemsUrl}/${item.id}/responses`)).status, 200, 'times: 1 fires once');

    sim.injectFault({ fault: { kind: 'status', status: 502, body: { oops: true } }, method: 'GET', times: 1 });
    const raw = await call(itemsUrl);
    assert.equal(raw.status, 502);
    assert.deepEqual(JSON.parse(raw.text), { oops: true });

    sim.injectFault({ fault: { kind: 'status', status: 500 }, method: 'POST' });
    assert.equal((await call(itemsUrl)).status, 200, 'a POST rule leaves GETs alone');
    sim.clearFaults();
  });

  test('rate-limit: 429 with Retry-After; token-expired: 401 even with the right key', async () => {
    sim.injectFault({ fault: { kind: 'rate-limit', retryAfterSeconds: 7 }, times: 1 });
    const limited = await call(itemsUrl);
    await errorOf(limited, 429);
    assert.equal(limited.headers['retry-after'], '7');

    const remove = sim.injectFault({ fault: { kind: 'token-expired' } });
    await errorOf(await call(itemsUrl), 401);
    await errorOf(await call(itemsUrl), 401);
    remove();
    assert.equal((await call(itemsUrl)).status, 200);
  });

  test('latency delays the answer; timeout never answers and leaves status 0; malformed-body is a 200 that is not JSON', async () => {
    sim.injectFault({ fault: { kind: 'latency', ms: 150 }, times: 1 });
    const started = performance.now();
    assert.equal((await call(itemsUrl)).status, 200);
    assert.ok(performance.now() - started >= 140, 'latency was applied');

    sim.injectFault({ fault: { kind: 'timeout' }, times: 1 });
    await assert.rejects(call(itemsUrl, { signal: AbortSignal.timeout(200) }), { name: 'TimeoutError' });
    assert.equal(sim.calls.at(-1)?.status, 0);
    assert.equal((await call(itemsUrl)).status, 200, 'the next call is served');

    sim.injectFault({ fault: { kind: 'malformed-body' }, times: 1 });
    const broken = await call(itemsUrl);
    assert.equal(broken.status, 200);
    assert.equal(broken.headers['content-type'], JSON_API);
    assert.throws(() => JSON.parse(broken.text), SyntaxError);
  });

  test('auth is checked before faults: a wrong key is a 401 and leaves the fault armed', async () => {
    sim.injectFault({ fault: { kind: 'status', status: 500 }, times: 1 });
    await errorOf(await call(itemsUrl, { authorization: basic('wrong') }), 401);
    await errorOf(await call(itemsUrl), 500);
    assert.equal((await call(itemsUrl)).status, 200);
  });
});

describe('Opinion Stage simulator: control API', () => {
  let sim: OpinionStageSimulator;

  before(async () => {
    sim = await startOpinionStageSimulator();
  });
  after(async () => {
    await sim.close();
  });

  const control = (method: Dispatcher.HttpMethod, path: string, body?: unknown): Promise<Answer> =>
    call(`${sim.url}/__sandbox${path}`, { method, body, authorization: null });

  test('items and responses created through the control API are served by the API; bad input is a 422 with pointers', async () => {
    const created = await control('POST', '/items', {
      title: 'Control quiz',
      type: 'poll',
      questions: [{ id: 'q_mail', title: 'Email', kind: 'email' }],
    });
    assert.equal(created.status, 201, created.text);
    const { item } = z.object({ item: z.looseObject({ id: z.string(), landingUrl: z.url() }) }).parse(JSON.parse(created.text));

    const answered = await control('POST', `/items/${item.id}/responses`, {
      answers: { q_mail: 'ctl@example.com' },
      query: { contact_id: 'c_9' },
      createdAt: '2026-11-01T10:00:00+01:00',
    });
    assert.equal(answered.status, 201, answered.text);
    const { response } = z.object({ response: z.looseObject({ id: z.string(), createdAt: z.string() }) }).parse(JSON.parse(answered.text));
    assert.equal(response.createdAt, '2026-11-01T09:00:00.000Z');

    const page = await collection(`${sim.apiBaseUrl}/items/${item.id}/responses`);
    assert.deepEqual(page.data.map((r) => r.id), [response.id]);
    const attributes = ResponseAttributesSchema.parse(page.data[0]?.attributes);
    assert.deepEqual(attributes.utm, { contact_id: 'c_9' });
    assert.equal(attributes.timestamps.created, '2026-11-01T09:00:00.000Z');

    const invalid = await control('POST', '/items', { title: '', questions: [{ title: 'x' }], extra: 1 });
    assert.equal(invalid.status, 422);
    const pointers = ErrorDocumentSchema.parse(JSON.parse(invalid.text)).errors.map((e) => z.object({ source: z.object({ pointer: z.string() }) }).parse(e).source.pointer);
    assert.ok(pointers.includes('/title'), pointers.join());
    assert.ok(pointers.includes('/questions/0/kind'), pointers.join());
    assert.equal((await control('POST', '/items/nope/responses', { answers: {} })).status, 404);
  });

  test('calls can be read and cleared; control requests are not recorded', async () => {
    await call(`${sim.apiBaseUrl}/items?page[size]=5`);
    const listed = await control('GET', '/calls');
    const { calls } = z.object({ calls: z.array(z.looseObject({ path: z.string(), query: z.record(z.string(), z.string()), status: z.number() })) }).parse(JSON.parse(listed.text));
    assert.deepEqual(calls.at(-1), { ...calls.at(-1), path: '/api/v2/items', query: { 'page[size]': '5' }, status: 200 });
    assert.ok(calls.every((c) => c.path.startsWith('/api/v2/')));
    assert.equal((await control('DELETE', '/calls')).status, 200);
    assert.equal(sim.calls.length, 0);
  });

  test('faults can be added, removed one by one and cleared', async () => {
    const added = await control('POST', '/faults', { fault: { kind: 'status', status: 504 }, path: '^/api/v2/items$' });
    assert.equal(added.status, 201, added.text);
    const { id } = z.object({ id: z.string() }).parse(JSON.parse(added.text));
    await errorOf(await call(`${sim.apiBaseUrl}/items`), 504);
    assert.equal((await control('DELETE', `/faults/${id}`)).status, 200);
    assert.equal((await control('DELETE', `/faults/${id}`)).status, 404);
    assert.equal((await call(`${sim.apiBaseUrl}/items`)).status, 200);

    await control('POST', '/faults', { fault: { kind: 'rate-limit' } });
    await errorOf(await call(`${sim.apiBaseUrl}/items`), 429);
    assert.equal((await control('DELETE', '/faults')).status, 200);
    assert.equal((await call(`${sim.apiBaseUrl}/items`)).status, 200);

    assert.equal((await control('POST', '/faults', { fault: { kind: 'status', status: 500 }, path: '(' })).status, 422);
    assert.equal((await control('POST', '/faults', { fault: { kind: 'explode' } })).status, 422);
  });
});
