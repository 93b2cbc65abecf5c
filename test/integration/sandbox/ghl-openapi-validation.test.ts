/**
 * The GHL simulator holds every request to GHL's official OpenAPI documents (openapi/upstream/ghl/):
 * documented requests pass and are recorded as validated; an undocumented operator, an unknown body
 * or query property, a query value of the wrong type, an undocumented route or a missing Version is
 * refused and listed at GET /__sandbox/undocumented.
 */
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request, type Dispatcher } from 'undici';
import { startGhlSimulator, type GhlSimulator } from '../../../src/sandbox/ghl/simulator.js';

const LOC = 'loc_validation';
const TOKEN = 'pit-validation';

interface Answer {
  status: number;
  body: Record<string, unknown>;
}

interface CallOptions {
  body?: unknown;
  version?: string | null;
  contentType?: string;
}

function record(value: unknown): Record<string, unknown> {
  assert.ok(value !== null && typeof value === 'object' && !Array.isArray(value), `expected an object, got ${JSON.stringify(value)}`);
  return { ...value };
}

function list(value: unknown): Record<string, unknown>[] {
  assert.ok(Array.isArray(value), `expected an array, got ${JSON.stringify(value)}`);
  return value.map(record);
}

describe('GHL simulator: requests validated against the official OpenAPI documents', () => {
  let sim: GhlSimulator;
  let contactId = '';

  async function api(method: Dispatcher.HttpMethod, path: string, options: CallOptions = {}): Promise<Answer> {
    const headers: Record<string, string> = { authorization: `Bearer ${TOKEN}` };
    if (options.version !== null) headers.version = options.version ?? '2021-07-28';
    const body = options.body === undefined ? undefined : typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
    if (body !== undefined) headers['content-type'] = options.contentType ?? 'application/json';
    const response = await request(`${sim.url}${path}`, { method, headers, body });
    const text = await response.body.text();
    return { status: response.statusCode, body: text === '' ? {} : record(JSON.parse(text)) };
  }

  async function undocumented(): Promise<Record<string, unknown>[]> {
    const answer = await request(`${sim.url}/__sandbox/undocumented`);
    return list(record(await answer.body.json()).requests);
  }

  before(async () => {
    sim = await startGhlSimulator({ locations: [{ id: LOC, token: TOKEN }], oauthClients: [{ clientId: 'client-v', clientSecret: 'secret-v' }] });
    const created = await api('POST', '/contacts/', { body: { locationId: LOC, email: 'valid@example.com', firstName: 'Val' } });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    contactId = String(record(created.body.contact).id);
  });
  after(() => sim.close());
  beforeEach(async () => {
    await request(`${sim.url}/__sandbox/undocumented`, { method: 'DELETE' });
  });

  test('documented requests pass and are recorded as validated; nothing is listed', async () => {
    const before = sim.calls.length;
    const fields = await api('GET', `/locations/${LOC}/customFields?model=contact`);
    assert.equal(fields.status, 200);
    const field = await api('POST', `/locations/${LOC}/customFields`, { body: { name: 'Rating', dataType: 'NUMERICAL', model: 'contact' } });
    assert.equal(field.status, 201, JSON.stringify(field.body));
    const fieldId = String(record(field.body.customField).id);
    const answers = [
      await api('PUT', `/contacts/${contactId}`, { body: { lastName: null, customFields: [{ id: fieldId, field_value: 4 }], dateOfBirth: '1990-09-25' } }),
      await api('POST', `/contacts/${contactId}/tags`, { body: { tags: ['a'] } }),
      await api('DELETE', `/contacts/${contactId}/tags`, { body: { tags: ['a'] } }),
      await api('POST', `/contacts/${contactId}/notes`, { body: { body: 'hello' } }),
      await api('POST', `/contacts/${contactId}/tasks`, { body: { title: 'Call', dueDate: '2026-12-01T10:00:00Z', completed: false } }),
      await api('GET', `/contacts/?locationId=${LOC}&limit=10&startAfter=0`),
      await api('GET', `/contacts/${contactId}`, { version: '2023-02-21' }),
      await api('POST', '/contacts/search', {
        body: {
          locationId: LOC,
          pageLimit: 10,
          filters: [
            { field: 'dateUpdated', operator: 'range', value: { gte: '2020-01-01T00:00:00.000Z', lte: Date.now() + 60_000 } },
            { group: 'OR', filters: [{ field: 'email', operator: 'eq', value: 'valid@example.com' }, { field: 'phone', operator: 'exists' }] },
          ],
          sort: [{ field: 'dateUpdated', direction: 'asc' }],
          searchAfter: [0, ''],
        },
      }),
      await api('POST', '/contacts/upsert', { body: { locationId: LOC, email: 'valid@example.com', createNewIfDuplicateAllowed: false } }),
    ];
    for (const answer of answers) assert.ok(answer.status < 300, JSON.stringify(answer.body));
    const calls = sim.calls.slice(before);
    assert.equal(calls.length, answers.length + 2);
    assert.deepEqual(calls.filter((call) => !call.validated), []);
    assert.deepEqual(await undocumented(), []);
  });

  test('an undocumented search operator is 422 and listed', async () => {
    const answer = await api('POST', '/contacts/search', {
      body: { locationId: LOC, pageLimit: 10, filters: [{ field: 'dateUpdated', operator: 'gte', value: '2020-01-01T00:00:00.000Z' }] },
    });
    assert.equal(answer.status, 422);
    assert.equal(answer.body.error, 'Unprocessable Entity');
    const expected = ['filters.0.operator must be one of the following values: eq, not_eq, contains, not_contains, exists, not_exists, range'];
    assert.deepEqual(answer.body.message, expected);
    const [listed, ...rest] = await undocumented();
    assert.deepEqual(rest, []);
    assert.equal(listed?.path, '/contacts/search');
    assert.equal(listed?.status, 422);
    assert.deepEqual(listed?.problems, expected);
    assert.equal(listed?.validated, false);
  });

  test('an unknown body property is 422 "property x should not exist", nested ones too, and nothing is written', async () => {
    const top = await api('PUT', `/contacts/${contactId}`, { body: { firstName: 'Changed', companyName: 'Acme' } });
    assert.equal(top.status, 422);
    assert.deepEqual(top.body.message, ['property companyName should not exist']);
    assert.equal(sim.store.getContact(contactId)?.firstName, 'Val', 'the refused update changed nothing');

    const nested = await api('PUT', `/contacts/${contactId}`, { body: { dndSettings: { SMS: { status: 'active', reason: 'x' } } } });
    assert.equal(nested.status, 422);
    assert.deepEqual(nested.body.message, ['property dndSettings.SMS.reason should not exist']);

    const note = await api('POST', `/contacts/${contactId}/notes`, { body: { body: 'x', kind: 'review' } });
    assert.equal(note.status, 422);
    assert.deepEqual(note.body.message, ['property kind should not exist']);
    assert.deepEqual((await undocumented()).map((item) => item.status), [422, 422, 422]);
  });

  test('a missing Version is refused as GHL does (401) and listed; an unknown one is 400', async () => {
    const missing = await api('GET', `/contacts/${contactId}`, { version: null });
    assert.equal(missing.status, 401);
    assert.equal(missing.body.message, 'version header was not found.');
    const bogus = await api('GET', `/contacts/${contactId}`, { version: 'bogus' });
    assert.equal(bogus.status, 400);
    const listed = await undocumented();
    assert.deepEqual(listed.map((item) => [item.status, item.problems]), [
      [401, ['Version header is missing']],
      [400, ['Version must be one of the following values: 2021-07-28, 2021-04-15, 2023-02-21, v3']],
    ]);
  });

  test('query parameters of the wrong type, missing or unknown are 422', async () => {
    const wrongType = await api('GET', `/contacts/?locationId=${LOC}&limit=many`);
    assert.equal(wrongType.status, 422);
    assert.deepEqual(wrongType.body.message, ['limit must be a number conforming to the specified constraints']);
    const unknown = await api('GET', `/contacts/?locationId=${LOC}&pageLimit=10`);
    assert.equal(unknown.status, 422);
    assert.deepEqual(unknown.body.message, ['property pageLimit should not exist']);
    const missing = await api('GET', '/contacts/search/duplicate?email=valid%40example.com');
    assert.equal(missing.status, 422);
    assert.deepEqual(missing.body.message, ['locationId should not be empty', 'locationId must be a string']);
    const badEnum = await api('GET', `/locations/${LOC}/customFields?model=company`);
    assert.equal(badEnum.status, 422);
    assert.deepEqual(badEnum.body.message, ['model must be one of the following values: contact, opportunity, all']);
    assert.equal((await undocumented()).length, 4);
  });

  test('an undocumented route or method is 404 like GHL, and listed', async () => {
    const route = await api('GET', `/contacts/${contactId}/reviews`);
    assert.equal(route.status, 404);
    assert.equal(route.body.message, `Cannot GET /contacts/${contactId}/reviews`);
    const method = await api('PATCH', `/contacts/${contactId}`, { body: { firstName: 'x' } });
    assert.equal(method.status, 404);
    assert.deepEqual((await undocumented()).map((item) => item.problems), [
      [`GET /contacts/${contactId}/reviews is not a documented operation`],
      [`PATCH /contacts/${contactId} is not a documented operation`],
    ]);
    assert.equal(sim.store.getContact(contactId)?.firstName, 'Val');
  });

  test('a body in an undocumented content type (415), or on an operation without one (422), is listed', async () => {
    const form = await api('POST', `/contacts/${contactId}/notes`, { body: 'body=hello', contentType: 'application/x-www-form-urlencoded' });
    assert.equal(form.status, 415);
    const withBody = await api('DELETE', `/contacts/${contactId}/notes/no_such_note`, { body: { reason: 'x' } });
    assert.equal(withBody.status, 422);
    assert.deepEqual(withBody.body.message, ['this operation takes no body']);
    assert.deepEqual((await undocumented()).map((item) => item.problems), [
      ['content type application/x-www-form-urlencoded is not documented'],
      ['this operation takes no body'],
    ]);
  });

  test('OAuth token requests are held to the document too: an unknown form field is 422', async () => {
    const form = new URLSearchParams({ client_id: 'client-v', client_secret: 'secret-v', grant_type: 'refresh_token', refresh_token: 'r', scope: 'contacts.write' });
    const answer = await request(`${sim.url}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form.toString(),
    });
    assert.equal(answer.statusCode, 422);
    assert.deepEqual(record(await answer.body.json()).message, ['property scope should not exist']);
    const listed = await undocumented();
    assert.deepEqual(listed.map((item) => item.path), ['/oauth/token']);
  });
});
