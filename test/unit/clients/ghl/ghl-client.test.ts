import { afterEach, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { MockAgent, type Dispatcher } from 'undici';
import { createGhlClient, type GhlClient, type GhlClientOptions } from '../../../../src/clients/ghl/ghl-client.js';
import { GhlClientError } from '../../../../src/clients/ghl/ghl-client-error.js';
import type { GhlRateLimitHeaders } from '../../../../src/clients/ghl/rate-limit-headers.js';
import { createStaticTokenProvider, type GhlTokenProvider } from '../../../../src/clients/ghl/token-provider.js';
import { UpstreamError } from '../../../../src/clients/http/upstream-error.js';
import type { SearchContactsInput } from '../../../../src/clients/ghl/schemas.js';

const ORIGIN = 'https://ghl.test';
const LOC = 'loc_1';
const TOKEN = 'pit-secret-token-0123456789';
const VERSION = '2021-07-28';

const CONTACT = {
  id: 'c1',
  locationId: LOC,
  firstName: 'Ada',
  lastName: null,
  email: 'ada@example.com',
  tags: ['vip'],
  customFields: [{ id: 'f1', value: '4.5' }],
  somethingGhlAddedLater: { nested: true },
};
const TASK = { id: 't1', title: 'Call back', body: 'About the review', dueDate: '2026-01-02T10:00:00.000Z', completed: false, contactId: 'c1' };
const NOTE = { id: 'n1', body: 'Left a 5-star review', userId: null, dateAdded: '2026-01-01T00:00:00.000Z', contactId: 'c1' };
const FIELD = { id: 'cf1', name: 'Trustpilot rating', fieldKey: 'contact.trustpilot_rating', dataType: 'NUMERICAL', position: 0, locationId: LOC, model: 'contact' };

interface Seen {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: unknown;
}

function plainHeaders(headers: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (typeof headers === 'object' && headers !== null) {
    for (const [name, value] of Object.entries(headers)) if (typeof value === 'string') out[name.toLowerCase()] = value;
  }
  return out;
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

/** A reply callback that records what the "server" saw, then answers with JSON. */
function answer(seen: Seen[], statusCode: number, data: object | string, headers: Record<string, string> = {}): (opts: MockRequest) => MockReply {
  return (opts) => {
    seen.push({
      method: opts.method,
      path: opts.path,
      headers: plainHeaders(opts.headers),
      body: typeof opts.body === 'string' ? (JSON.parse(opts.body) as unknown) : undefined,
    });
    return { statusCode, data, responseOptions: { headers: { 'content-type': 'application/json', ...headers } } };
  };
}

let agent: MockAgent;
let pool: ReturnType<MockAgent['get']>;
let client: GhlClient;
let seen: Seen[];

function makeClient(overrides: Partial<GhlClientOptions> = {}): GhlClient {
  return createGhlClient({
    baseUrl: ORIGIN,
    version: VERSION,
    timeoutMs: 2_000,
    tokens: createStaticTokenProvider(LOC, TOKEN),
    dispatcher: agent satisfies Dispatcher,
    ...overrides,
  });
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

async function clientError(promise: Promise<unknown>): Promise<GhlClientError> {
  const error = await rejectsWith(promise);
  assert.ok(error instanceof GhlClientError, `expected GhlClientError, got ${String(error)}`);
  return error;
}

describe('requests', () => {
  test('sends Bearer token, Version and JSON accept; unwraps the contact and keeps unknown fields', async () => {
    pool.intercept({ path: '/contacts/c1', method: 'GET' }).reply(answer(seen, 200, { contact: CONTACT, traceId: 'tr-1' }));
    const contact = await client.getContact(LOC, 'c1');
    assert.equal(contact.id, 'c1');
    assert.equal(contact.lastName, null);
    assert.deepEqual(contact.customFields, [{ id: 'f1', value: '4.5' }]);
    assert.deepEqual(contact['somethingGhlAddedLater'], { nested: true });
    assert.equal(seen.length, 1);
    assert.equal(seen[0]?.headers['authorization'], `Bearer ${TOKEN}`);
    assert.equal(seen[0]?.headers['version'], VERSION);
    assert.equal(seen[0]?.headers['accept'], 'application/json');
  });

  test('encodes path ids so a slash or question mark cannot change the path', async () => {
    pool.intercept({ path: '/contacts/a%2Fb%3Fc%23d', method: 'GET' }).reply(answer(seen, 200, { contact: { id: 'a/b?c#d' } }));
    const contact = await client.getContact(LOC, 'a/b?c#d');
    assert.equal(contact.id, 'a/b?c#d');
    assert.equal(seen[0]?.path, '/contacts/a%2Fb%3Fc%23d');
  });

  test('refuses ids that URL parsing would resolve away', async () => {
    for (const id of ['', '.', '..']) {
      const error = await clientError(client.getContact(LOC, id));
      assert.equal(error.code, 'GHL_INVALID_ID');
    }
    const error = await clientError(client.deleteTask(LOC, 'c1', '..'));
    assert.equal(error.code, 'GHL_INVALID_ID');
  });

  test('updateContactFields PUTs customFields as {id, field_value} for each value kind', async () => {
    pool.intercept({ path: '/contacts/c1', method: 'PUT' }).reply(answer(seen, 200, { succeded: true, contact: CONTACT }));
    const contact = await client.updateContactFields(LOC, 'c1', [
      { id: 'f1', value: 'text' },
      { id: 'f2', value: 4.5 },
      { id: 'f3', value: ['a', 'b'] },
    ]);
    assert.equal(contact.id, 'c1');
    assert.equal(seen[0]?.headers['content-type'], 'application/json');
    assert.deepEqual(seen[0]?.body, {
      customFields: [
        { id: 'f1', field_value: 'text' },
        { id: 'f2', field_value: 4.5 },
        { id: 'f3', field_value: ['a', 'b'] },
      ],
    });
  });

  test('updateContact sends the patch as given and returns the contact', async () => {
    pool.intercept({ path: '/contacts/c1', method: 'PUT' }).reply(answer(seen, 200, { succeded: true, contact: { ...CONTACT, firstName: 'Grace' } }));
    const contact = await client.updateContact(LOC, 'c1', { firstName: 'Grace', dnd: false });
    assert.equal(contact.firstName, 'Grace');
    assert.deepEqual(seen[0]?.body, { firstName: 'Grace', dnd: false });
  });

  test('write bodies are strict: an unknown key or a bad value never leaves the process', async () => {
    const unknownKey: Record<string, unknown> = { firstName: 'x', companyName: 'not in UpdateContactDto' };
    const first = await clientError(client.updateContact(LOC, 'c1', unknownKey));
    assert.equal(first.code, 'GHL_INVALID_REQUEST');
    assert.match(first.message, /companyName|unrecognized/i);
    const second = await clientError(client.createTask(LOC, 'c1', { title: 'x', dueDate: 'tomorrow' }));
    assert.equal(second.code, 'GHL_INVALID_REQUEST');
    assert.match(second.message, /dueDate/);
    const third = await clientError(client.listContacts(LOC, { limit: 101 }));
    assert.equal(third.code, 'GHL_INVALID_REQUEST');
    const fourth = await clientError(client.addTags(LOC, 'c1', []));
    assert.equal(fourth.code, 'GHL_INVALID_REQUEST');
    assert.equal(seen.length, 0);
  });

  test('createContact and upsertContact put the locationId in the body; upsert reports creation', async () => {
    pool.intercept({ path: '/contacts/', method: 'POST' }).reply(answer(seen, 201, { contact: CONTACT }));
    pool.intercept({ path: '/contacts/upsert', method: 'POST' }).reply(answer(seen, 200, { new: true, contact: CONTACT, traceId: 'tr' }));
    pool.intercept({ path: '/contacts/upsert', method: 'POST' }).reply(answer(seen, 200, { new: false, contact: CONTACT }));
    const created = await client.createContact(LOC, { email: 'ada@example.com', customFields: [{ id: 'f1', field_value: 'x' }] });
    assert.equal(created.id, 'c1');
    assert.deepEqual(seen[0]?.body, { email: 'ada@example.com', customFields: [{ id: 'f1', field_value: 'x' }], locationId: LOC });
    const first = await client.upsertContact(LOC, { email: 'ada@example.com' });
    assert.deepEqual(first, { contact: first.contact, created: true });
    assert.equal(first.contact.id, 'c1');
    assert.deepEqual(seen[1]?.body, { email: 'ada@example.com', locationId: LOC });
    const second = await client.upsertContact(LOC, { email: 'ada@example.com' });
    assert.equal(second.created, false);
  });

  test('deleteContact returns the succeded (sic) flag', async () => {
    pool.intercept({ path: '/contacts/c1', method: 'DELETE' }).reply(answer(seen, 200, { succeded: true }));
    pool.intercept({ path: '/contacts/c2', method: 'DELETE' }).reply(answer(seen, 200, { succeded: false }));
    assert.equal(await client.deleteContact(LOC, 'c1'), true);
    assert.equal(await client.deleteContact(LOC, 'c2'), false);
    assert.deepEqual(seen.map((s) => `${s.method} ${s.path}`), ['DELETE /contacts/c1', 'DELETE /contacts/c2']);
  });

  test('listContacts sends the query and pages with meta, the last item, or not at all', async () => {
    const page = (n: number) => Array.from({ length: n }, (_, i) => ({ id: `c${i}`, dateAdded: `2026-01-0${i + 1}T00:00:00.000Z` }));
    pool
      .intercept({ path: '/contacts/', method: 'GET', query: { locationId: LOC, limit: '2', query: 'ada' } })
      .reply(answer(seen, 200, { contacts: page(2), count: 2, meta: { total: 9, startAfterId: 'c1', startAfter: 1767312000000 } }));
    pool
      .intercept({ path: '/contacts/', method: 'GET', query: { locationId: LOC, limit: '2', startAfterId: 'c1', startAfter: '1767312000000' } })
      .reply(answer(seen, 200, { contacts: page(2), count: 2 }));
    pool.intercept({ path: '/contacts/', method: 'GET', query: { locationId: LOC } }).reply(answer(seen, 200, { contacts: page(3), count: 3 }));

    const first = await client.listContacts(LOC, { limit: 2, query: 'ada' });
    assert.equal(first.items.length, 2);
    assert.equal(first.total, 9);
    assert.deepEqual(first.nextCursor, { startAfterId: 'c1', startAfter: 1767312000000 });
    assert.ok(first.nextCursor);

    const second = await client.listContacts(LOC, { limit: 2, ...first.nextCursor });
    assert.deepEqual(second.nextCursor, { startAfterId: 'c1', startAfter: Date.parse('2026-01-02T00:00:00.000Z') });

    const last = await client.listContacts(LOC);
    assert.equal(last.items.length, 3);
    assert.equal(last.nextCursor, undefined, 'a page shorter than the default 20 is the last');
  });

  test('searchContacts posts the search body with locationId and returns items, total and the next searchAfter', async () => {
    pool.intercept({ path: '/contacts/search', method: 'POST' }).reply(
      answer(seen, 200, {
        contacts: [
          { id: 'c1', searchAfter: [1, 'c1'] },
          { id: 'c2', searchAfter: [2, 'c2'] },
        ],
        total: 5,
      }),
    );
    pool.intercept({ path: '/contacts/search', method: 'POST' }).reply(answer(seen, 200, { contacts: [{ id: 'c3', searchAfter: [3, 'c3'] }], total: 5 }));
    const body = {
      pageLimit: 2,
      query: 'ada',
      filters: [{ field: 'email', operator: 'eq' as const, value: 'ada@example.com' }],
      sort: [{ field: 'dateAdded', direction: 'asc' as const }],
    };
    const first = await client.searchContacts(LOC, body);
    assert.deepEqual(seen[0]?.body, { ...body, locationId: LOC });
    assert.deepEqual(first.items.map((c) => c.id), ['c1', 'c2']);
    assert.equal(first.total, 5);
    assert.deepEqual(first.nextSearchAfter, [2, 'c2']);
    assert.equal(first.cursorShape, 'contact');
    const second = await client.searchContacts(LOC, { pageLimit: 2, searchAfter: first.nextSearchAfter });
    assert.deepEqual(seen[1]?.body, { pageLimit: 2, searchAfter: [2, 'c2'], locationId: LOC });
    assert.equal(second.nextSearchAfter, undefined);
  });

  test('searchContacts also reads a cursor given beside the contacts, and says which shape it read', async () => {
    pool
      .intercept({ path: '/contacts/search', method: 'POST' })
      .reply(answer(seen, 200, { contacts: [{ id: 'c1' }, { id: 'c2' }], total: 3, searchAfter: [2, 'c2'] }));
    const range = { field: 'dateUpdated', operator: 'range' as const, value: { gte: '2026-01-01T00:00:00.000Z' } };
    const page = await client.searchContacts(LOC, { pageLimit: 2, filters: [range] });
    assert.deepEqual(seen[0]?.body, { pageLimit: 2, filters: [range], locationId: LOC });
    assert.deepEqual(page.nextSearchAfter, [2, 'c2']);
    assert.equal(page.cursorShape, 'response');
  });

  test('searchContacts refuses an operator GHL does not document before sending anything', async () => {
    const filters = [{ field: 'dateUpdated', operator: 'gte', value: '2026-01-01' }] as unknown as SearchContactsInput['filters'];
    await assert.rejects(client.searchContacts(LOC, { pageLimit: 2, filters }), /invalid GHL contact search/);
    assert.equal(seen.length, 0);
  });

  test('getContactsByBusiness sends locationId, limit and skip', async () => {
    pool
      .intercept({ path: '/contacts/business/b%201', method: 'GET', query: { locationId: LOC, limit: '10', skip: '20' } })
      .reply(answer(seen, 200, { contacts: [CONTACT], count: 21 }));
    const page = await client.getContactsByBusiness(LOC, 'b 1', { limit: 10, skip: 20 });
    assert.deepEqual(page.items.map((c) => c.id), ['c1']);
    assert.equal(page.total, 21);
  });

  test('task endpoints: bodies, paths and unwrapping', async () => {
    pool.intercept({ path: '/contacts/c1/tasks', method: 'GET' }).reply(answer(seen, 200, { tasks: [TASK] }));
    pool.intercept({ path: '/contacts/c1/tasks', method: 'POST' }).reply(answer(seen, 201, { task: TASK }));
    pool.intercept({ path: '/contacts/c1/tasks/t1', method: 'GET' }).reply(answer(seen, 200, { task: TASK }));
    pool.intercept({ path: '/contacts/c1/tasks/t1', method: 'PUT' }).reply(answer(seen, 200, { task: { ...TASK, title: 'New' } }));
    pool.intercept({ path: '/contacts/c1/tasks/t1/completed', method: 'PUT' }).reply(answer(seen, 200, { task: { ...TASK, completed: true } }));
    pool.intercept({ path: '/contacts/c1/tasks/t1/completed', method: 'PUT' }).reply(answer(seen, 200, { task: TASK }));
    pool.intercept({ path: '/contacts/c1/tasks/t1', method: 'DELETE' }).reply(answer(seen, 200, { succeded: true }));

    assert.deepEqual((await client.listTasks(LOC, 'c1')).items, [TASK]);
    const created = await client.createTask(LOC, 'c1', { title: 'Call back', body: 'About the review', dueDate: TASK.dueDate, assignedTo: 'u1' });
    assert.equal(created.id, 't1');
    assert.deepEqual(seen[1]?.body, { title: 'Call back', body: 'About the review', dueDate: TASK.dueDate, completed: false, assignedTo: 'u1' });
    assert.equal((await client.getTask(LOC, 'c1', 't1')).title, 'Call back');
    assert.equal((await client.updateTask(LOC, 'c1', 't1', { title: 'New' })).title, 'New');
    assert.deepEqual(seen[3]?.body, { title: 'New' });
    assert.equal((await client.completeTask(LOC, 'c1', 't1')).completed, true);
    assert.deepEqual(seen[4]?.body, { completed: true });
    await client.completeTask(LOC, 'c1', 't1', false);
    assert.deepEqual(seen[5]?.body, { completed: false });
    assert.equal(await client.deleteTask(LOC, 'c1', 't1'), true);
  });

  test('note endpoints: bodies, paths and unwrapping', async () => {
    pool.intercept({ path: '/contacts/c1/notes', method: 'GET' }).reply(answer(seen, 200, { notes: [NOTE] }));
    pool.intercept({ path: '/contacts/c1/notes', method: 'POST' }).reply(answer(seen, 201, { note: NOTE }));
    pool.intercept({ path: '/contacts/c1/notes/n1', method: 'GET' }).reply(answer(seen, 200, { note: NOTE }));
    pool.intercept({ path: '/contacts/c1/notes/n1', method: 'PUT' }).reply(answer(seen, 200, { note: { ...NOTE, body: 'Edited' } }));
    pool.intercept({ path: '/contacts/c1/notes/n1', method: 'DELETE' }).reply(answer(seen, 200, { succeded: true }));

    assert.deepEqual((await client.listNotes(LOC, 'c1')).items.map((n) => n.id), ['n1']);
    assert.equal((await client.createNote(LOC, 'c1', { body: 'Left a 5-star review', userId: 'u1' })).id, 'n1');
    assert.deepEqual(seen[1]?.body, { body: 'Left a 5-star review', userId: 'u1' });
    assert.equal((await client.getNote(LOC, 'c1', 'n1')).userId, null);
    assert.equal((await client.updateNote(LOC, 'c1', 'n1', { body: 'Edited' })).body, 'Edited');
    assert.deepEqual(seen[3]?.body, { body: 'Edited' });
    assert.equal(await client.deleteNote(LOC, 'c1', 'n1'), true);
  });

  test('appointments are unwrapped from `events`', async () => {
    pool.intercept({ path: '/contacts/c1/appointments', method: 'GET' }).reply(answer(seen, 200, { events: [{ id: 'e1', title: 'Demo', startTime: '2026-01-01T10:00:00Z' }] }));
    const { items } = await client.listAppointments(LOC, 'c1');
    assert.deepEqual(items.map((e) => e.title), ['Demo']);
  });

  test('addTags POSTs and removeTags DELETEs a JSON {tags} body', async () => {
    pool.intercept({ path: '/contacts/c1/tags', method: 'POST' }).reply(answer(seen, 201, { tags: ['vip', 'reviewed'] }));
    pool.intercept({ path: '/contacts/c1/tags', method: 'DELETE' }).reply(answer(seen, 200, { tags: ['vip'] }));
    assert.deepEqual(await client.addTags(LOC, 'c1', ['reviewed']), ['vip', 'reviewed']);
    assert.deepEqual(await client.removeTags(LOC, 'c1', ['reviewed']), ['vip']);
    assert.deepEqual(seen.map((s) => [s.method, s.body, s.headers['content-type']]), [
      ['POST', { tags: ['reviewed'] }, 'application/json'],
      ['DELETE', { tags: ['reviewed'] }, 'application/json'],
    ]);
  });

  test('custom field definitions: list with model=contact, create with the DTO body', async () => {
    pool.intercept({ path: '/locations/loc_1/customFields', method: 'GET', query: { model: 'contact' } }).reply(answer(seen, 200, { customFields: [FIELD] }));
    pool.intercept({ path: '/locations/loc_1/customFields', method: 'POST' }).reply(answer(seen, 201, { customField: FIELD }));
    const { items } = await client.listCustomFields(LOC);
    assert.deepEqual(items.map((f) => f.fieldKey), ['contact.trustpilot_rating']);
    const created = await client.createCustomField(LOC, { name: 'Trustpilot rating', dataType: 'NUMERICAL', model: 'contact' });
    assert.equal(created.id, 'cf1');
    assert.deepEqual(seen[1]?.body, { name: 'Trustpilot rating', dataType: 'NUMERICAL', model: 'contact' });
  });

  test('passes the transport observer through', async () => {
    const statuses: (number | string)[] = [];
    await client.close();
    client = makeClient({ observe: (info) => statuses.push(`${info.system} ${info.method} ${info.status}`) });
    pool.intercept({ path: '/contacts/c1', method: 'GET' }).reply(answer(seen, 200, { contact: CONTACT }));
    await client.getContact(LOC, 'c1');
    assert.deepEqual(statuses, ['ghl GET 200']);
  });
});

describe('tokens', () => {
  function refreshingProvider(fresh: string | undefined): GhlTokenProvider & { refreshes: [string, string][] } {
    const refreshes: [string, string][] = [];
    return {
      refreshes,
      async tokenFor() {
        return 'old-token';
      },
      async refresh(locationId, rejected) {
        refreshes.push([locationId, rejected]);
        return fresh;
      },
    };
  }

  test('a 401 triggers one refresh and one retry with the new token', async () => {
    const tokens = refreshingProvider('new-token');
    await client.close();
    client = makeClient({ tokens });
    pool
      .intercept({ path: '/contacts/c1/notes', method: 'POST', headers: { authorization: 'Bearer old-token' } })
      .reply(answer(seen, 401, { statusCode: 401, message: 'Invalid token: access token is invalid', error: 'Unauthorized' }));
    pool.intercept({ path: '/contacts/c1/notes', method: 'POST', headers: { authorization: 'Bearer new-token' } }).reply(answer(seen, 201, { note: NOTE }));
    const note = await client.createNote(LOC, 'c1', { body: 'hello' });
    assert.equal(note.id, 'n1');
    assert.deepEqual(tokens.refreshes, [[LOC, 'old-token']]);
    assert.equal(seen.length, 2);
    assert.deepEqual(seen[1]?.body, { body: 'hello' }, 'the retry repeats the same call');
  });

  test('a second 401 after a refresh is thrown, without a second refresh', async () => {
    const tokens = refreshingProvider('new-token');
    await client.close();
    client = makeClient({ tokens });
    pool.intercept({ path: '/contacts/c1', method: 'GET' }).reply(answer(seen, 401, { statusCode: 401, message: 'Invalid token' })).times(2);
    const error = await upstreamError(client.getContact(LOC, 'c1'));
    assert.equal(error.status, 401);
    assert.equal(tokens.refreshes.length, 1);
    assert.equal(seen.length, 2);
  });

  test('a 401 with a private token (no refresh) is one request and an error with no token in it', async () => {
    pool
      .intercept({ path: '/contacts/c1', method: 'GET' })
      // A server that echoes the credential back must not leak it into our error either.
      .reply(answer(seen, 401, { statusCode: 401, message: `Invalid token: ${TOKEN}`, error: 'Unauthorized', traceId: 'tr-401' }));
    const error = await upstreamError(client.getContact(LOC, 'c1'));
    assert.equal(error.code, 'UPSTREAM_HTTP');
    assert.equal(error.status, 401);
    assert.equal(error.requestId, 'tr-401');
    assert.equal(seen.length, 1);
    for (const text of [error.message, JSON.stringify(error), error.bodyExcerpt ?? '', String(error.stack)]) {
      assert.ok(!text.includes(TOKEN), `token leaked into: ${text}`);
    }
    assert.match(error.bodyExcerpt ?? '', /\[Redacted\]/);
  });

  test('the static provider refuses other locations with GHL_LOCATION_NOT_SERVED', async () => {
    const error = await clientError(client.getContact('loc_other', 'c1'));
    assert.equal(error.code, 'GHL_LOCATION_NOT_SERVED');
    assert.match(error.message, /loc_other/);
    assert.ok(!error.message.includes(TOKEN));
    assert.equal(await createStaticTokenProvider(LOC, TOKEN).refresh(LOC, TOKEN), undefined);
  });
});

describe('errors', () => {
  test('404 carries status, traceId and a body excerpt', async () => {
    pool.intercept({ path: '/contacts/nope', method: 'GET' }).reply(answer(seen, 404, { statusCode: 404, message: 'Contact not found', traceId: 'tr-404' }));
    const error = await upstreamError(client.getContact(LOC, 'nope'));
    assert.equal(error.status, 404);
    assert.equal(error.system, 'ghl');
    assert.equal(error.requestId, 'tr-404');
    assert.match(error.bodyExcerpt ?? '', /Contact not found/);
    assert.equal(error.path, '/contacts/nope');
  });

  test('422 keeps the validation message array in the excerpt', async () => {
    pool
      .intercept({ path: '/contacts/c1/tasks', method: 'POST' })
      .reply(answer(seen, 422, { statusCode: 422, message: ['dueDate must be a valid ISO 8601 date string'], error: 'Unprocessable Entity', traceId: 'tr-422' }));
    const error = await upstreamError(client.createTask(LOC, 'c1', { title: 'x', dueDate: '2026-01-01T00:00:00Z' }));
    assert.equal(error.status, 422);
    assert.equal(error.requestId, 'tr-422');
    assert.match(error.bodyExcerpt ?? '', /dueDate must be a valid ISO 8601/);
    assert.equal(error.retryAfterMs, undefined);
  });

  test('429 takes retryAfterMs from Retry-After', async () => {
    pool
      .intercept({ path: '/contacts/c1', method: 'GET' })
      .reply(answer(seen, 429, { statusCode: 429, message: 'Too many requests' }, { 'retry-after': '7', 'x-ratelimit-interval-milliseconds': '10000' }));
    const error = await upstreamError(client.getContact(LOC, 'c1'));
    assert.equal(error.status, 429);
    assert.equal(error.retryAfterMs, 7_000);
  });

  test('429 without Retry-After waits one X-RateLimit-Interval-Milliseconds window', async () => {
    pool
      .intercept({ path: '/contacts/c1', method: 'GET' })
      .reply(answer(seen, 429, { statusCode: 429, message: 'Too many requests' }, { 'x-ratelimit-interval-milliseconds': '10000', 'x-ratelimit-remaining': '0' }));
    const error = await upstreamError(client.getContact(LOC, 'c1'));
    assert.equal(error.retryAfterMs, 10_000);
  });

  test('a 2xx body that does not match the schema is UPSTREAM_BAD_RESPONSE', async () => {
    pool.intercept({ path: '/contacts/c1', method: 'GET' }).reply(answer(seen, 200, { contact: { name: 'no id' }, traceId: 'tr-bad' }));
    const error = await upstreamError(client.getContact(LOC, 'c1'));
    assert.equal(error.code, 'UPSTREAM_BAD_RESPONSE');
    assert.equal(error.status, 200);
    assert.equal(error.requestId, 'tr-bad');
    assert.match(error.bodyExcerpt ?? '', /contact\.id/);
  });

  test('no answer within timeoutMs is UPSTREAM_TIMEOUT', async () => {
    await client.close();
    client = makeClient({ timeoutMs: 50 });
    // The reply would have been a success: an UPSTREAM_TIMEOUT shows the deadline ended the call.
    pool.intercept({ path: '/contacts/c1', method: 'GET' }).reply(answer(seen, 200, { contact: CONTACT })).delay(1_000);
    const error = await upstreamError(client.getContact(LOC, 'c1'));
    assert.equal(error.code, 'UPSTREAM_TIMEOUT');
  });
});

describe('rate-limit headers', () => {
  test('onRateLimitHeaders gets the parsed budget per location, on success and on 429', async () => {
    const reports: [string, GhlRateLimitHeaders][] = [];
    await client.close();
    client = makeClient({ onRateLimitHeaders: (locationId, info) => reports.push([locationId, info]) });
    const budget = {
      'x-ratelimit-max': '100',
      'x-ratelimit-remaining': '98',
      'x-ratelimit-interval-milliseconds': '10000',
      'x-ratelimit-limit-daily': '200000',
      'x-ratelimit-daily-remaining': '199990',
    };
    pool.intercept({ path: '/contacts/c1', method: 'GET' }).reply(answer(seen, 200, { contact: CONTACT }, budget));
    pool.intercept({ path: '/contacts/c1', method: 'GET' }).reply(answer(seen, 429, {}, { ...budget, 'x-ratelimit-remaining': '0' }));
    pool.intercept({ path: '/contacts/c1', method: 'GET' }).reply(answer(seen, 200, { contact: CONTACT }));
    await client.getContact(LOC, 'c1');
    await upstreamError(client.getContact(LOC, 'c1'));
    await client.getContact(LOC, 'c1');
    assert.deepEqual(reports, [
      [LOC, { max: 100, remaining: 98, intervalMs: 10_000, dailyLimit: 200_000, dailyRemaining: 199_990 }],
      [LOC, { max: 100, remaining: 0, intervalMs: 10_000, dailyLimit: 200_000, dailyRemaining: 199_990 }],
    ]);
  });
});
