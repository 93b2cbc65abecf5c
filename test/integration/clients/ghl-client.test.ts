/**
 * The GHL client against the GHL simulator on loopback: every method, plus the refusals GHL sends
 * (401 unknown/revoked token, 404, 422, 429) and a timeout. Asserts what the simulator saw.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createGhlClient, type GhlClient } from '../../../src/clients/ghl/ghl-client.js';
import type { GhlRateLimitHeaders } from '../../../src/clients/ghl/rate-limit-headers.js';
import { createStaticTokenProvider, type GhlTokenProvider } from '../../../src/clients/ghl/token-provider.js';
import { UpstreamError } from '../../../src/clients/http/upstream-error.js';
import { startGhlSimulator, type GhlSimulator } from '../../../src/sandbox/ghl/simulator.js';

const VERSION = '2021-07-28';
const LOC = 'loc_client_it';
const TOKEN = 'pit-client-it-0123456789abcdef';

let sim: GhlSimulator;
let client: GhlClient;
const rateReports: [string, GhlRateLimitHeaders][] = [];

function clientFor(tokens: GhlTokenProvider, timeoutMs = 3_000): GhlClient {
  return createGhlClient({ baseUrl: sim.url, version: VERSION, timeoutMs, tokens });
}

async function upstreamError(promise: Promise<unknown>): Promise<UpstreamError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof UpstreamError, `expected UpstreamError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected a rejection');
}

function lastCall(method: string, pathPart: string) {
  const call = sim.calls.filter((c) => c.method === method && c.path.includes(pathPart)).at(-1);
  assert.ok(call, `the simulator saw no ${method} ${pathPart}`);
  return call;
}

before(async () => {
  sim = await startGhlSimulator({ locations: [{ id: LOC, token: TOKEN }] });
  client = createGhlClient({
    baseUrl: sim.url,
    version: VERSION,
    timeoutMs: 3_000,
    tokens: createStaticTokenProvider(LOC, TOKEN),
    onRateLimitHeaders: (locationId, info) => rateReports.push([locationId, info]),
  });
});

after(async () => {
  await client.close();
  await sim.close();
});

describe('contacts and custom fields', () => {
  test('custom fields: create, then list with model=contact', async () => {
    const field = await client.createCustomField(LOC, { name: 'Trustpilot rating', dataType: 'NUMERICAL', model: 'contact' });
    assert.ok(field.id.length > 0);
    assert.equal(field.name, 'Trustpilot rating');
    const { items } = await client.listCustomFields(LOC);
    const listed = items.find((f) => f.id === field.id);
    assert.ok(listed, 'the new field is listed');
    assert.match(listed.fieldKey ?? '', /^contact\./);
    assert.deepEqual(lastCall('GET', '/customFields').query, { model: 'contact' });
  });

  test('create, read, update, write custom fields, upsert, list, search, delete', async () => {
    const field = await client.createCustomField(LOC, { name: 'Review stars', dataType: 'NUMERICAL' });
    const text = await client.createCustomField(LOC, { name: 'Review title', dataType: 'TEXT' });

    const created = await client.createContact(LOC, { firstName: 'Ada', lastName: 'Lovelace', email: 'ada@example.com' });
    assert.equal(created.email, 'ada@example.com');
    assert.equal(lastCall('POST', '/contacts').status, 201);

    const read = await client.getContact(LOC, created.id);
    assert.equal(read.id, created.id);
    assert.equal(read.firstName, 'Ada');

    const renamed = await client.updateContact(LOC, created.id, { firstName: 'Augusta' });
    assert.equal(renamed.firstName, 'Augusta');

    const withFields = await client.updateContactFields(LOC, created.id, [
      { id: field.id, value: 5 },
      { id: text.id, value: 'Great service' },
    ]);
    assert.deepEqual(lastCall('PUT', `/contacts/${created.id}`).body, {
      customFields: [
        { id: field.id, field_value: 5 },
        { id: text.id, field_value: 'Great service' },
      ],
    });
    const values = new Map((withFields.customFields ?? []).map((cf) => [cf.id, cf.value]));
    assert.equal(values.get(field.id), 5);
    assert.equal(values.get(text.id), 'Great service');
    const reread = await client.getContact(LOC, created.id);
    assert.deepEqual(
      (reread.customFields ?? []).filter((cf) => cf.id === field.id).map((cf) => cf.value),
      [5],
      'reads return {id, value}',
    );

    const again = await client.upsertContact(LOC, { email: 'ada@example.com', lastName: 'King' });
    assert.equal(again.created, false);
    assert.equal(again.contact.id, created.id);
    const fresh = await client.upsertContact(LOC, { email: 'grace@example.com', firstName: 'Grace' });
    assert.equal(fresh.created, true);
    assert.notEqual(fresh.contact.id, created.id);

    const first = await client.listContacts(LOC, { limit: 1 });
    assert.equal(first.items.length, 1);
    assert.ok(first.nextCursor, 'a full page has a cursor');
    const second = await client.listContacts(LOC, { limit: 1, ...first.nextCursor });
    assert.equal(second.items.length, 1);
    assert.notEqual(second.items[0]?.id, first.items[0]?.id, 'the cursor moves on');
    const all = await client.listContacts(LOC, { limit: 100 });
    assert.deepEqual(new Set(all.items.map((c) => c.id)), new Set([created.id, fresh.contact.id]));
    assert.equal(all.nextCursor, undefined);

    const found = await client.searchContacts(LOC, { pageLimit: 10, query: 'grace@example.com' });
    assert.deepEqual(found.items.map((c) => c.id), [fresh.contact.id]);
    assert.equal(found.total, 1);
    const searchBody = lastCall('POST', '/contacts/search').body;
    assert.deepEqual(searchBody, { pageLimit: 10, query: 'grace@example.com', locationId: LOC });
    const sort = [{ field: 'dateAdded', direction: 'asc' as const }];
    const pageOne = await client.searchContacts(LOC, { pageLimit: 1, sort });
    assert.equal(pageOne.total, 2);
    assert.ok(pageOne.nextSearchAfter, 'a full page carries the next searchAfter');
    const pageTwo = await client.searchContacts(LOC, { pageLimit: 1, sort, searchAfter: pageOne.nextSearchAfter });
    assert.deepEqual(new Set([...pageOne.items, ...pageTwo.items].map((c) => c.id)), new Set([created.id, fresh.contact.id]));

    assert.equal(await client.deleteContact(LOC, fresh.contact.id), true);
    const gone = await upstreamError(client.getContact(LOC, fresh.contact.id));
    assert.equal(gone.status, 404);
  });

  test('getContactsByBusiness lists the contacts of one business', async () => {
    const member = sim.userCreateContact(LOC, { email: 'member@example.com', businessId: 'biz_1' });
    sim.userCreateContact(LOC, { email: 'other@example.com', businessId: 'biz_2' });
    const page = await client.getContactsByBusiness(LOC, 'biz_1', { limit: 10 });
    assert.deepEqual(page.items.map((c) => c.id), [member.id]);
    const call = lastCall('GET', '/contacts/business/biz_1');
    assert.equal(call.query['locationId'], LOC);
    assert.equal(call.query['limit'], '10');
  });

  test('tags: add, then remove with a DELETE body', async () => {
    const contact = await client.createContact(LOC, { email: 'tags@example.com', tags: ['existing'] });
    const afterAdd = await client.addTags(LOC, contact.id, ['reviewed', 'vip']);
    assert.deepEqual(new Set(afterAdd), new Set(['existing', 'reviewed', 'vip']));
    const afterRemove = await client.removeTags(LOC, contact.id, ['vip']);
    assert.deepEqual(new Set(afterRemove), new Set(['existing', 'reviewed']));
    assert.deepEqual(lastCall('DELETE', '/tags').body, { tags: ['vip'] });
    assert.deepEqual(new Set((await client.getContact(LOC, contact.id)).tags), new Set(['existing', 'reviewed']));
  });

  test('tasks: create, list, get, update, complete, delete', async () => {
    const contact = await client.createContact(LOC, { email: 'tasks@example.com' });
    const dueDate = '2026-03-01T10:00:00.000Z';
    const task = await client.createTask(LOC, contact.id, { title: 'Ask for a review', body: 'After delivery', dueDate });
    assert.equal(task.title, 'Ask for a review');
    assert.equal(task.completed, false);
    assert.deepEqual(lastCall('POST', '/tasks').body, { title: 'Ask for a review', body: 'After delivery', dueDate, completed: false });

    assert.deepEqual((await client.listTasks(LOC, contact.id)).items.map((t) => t.id), [task.id]);
    assert.equal((await client.getTask(LOC, contact.id, task.id)).body, 'After delivery');
    assert.equal((await client.updateTask(LOC, contact.id, task.id, { title: 'Ask again' })).title, 'Ask again');
    const done = await client.completeTask(LOC, contact.id, task.id);
    assert.equal(done.completed, true);
    assert.deepEqual(lastCall('PUT', '/completed').body, { completed: true });
    assert.equal((await client.getTask(LOC, contact.id, task.id)).completed, true);

    assert.equal(await client.deleteTask(LOC, contact.id, task.id), true);
    assert.equal((await upstreamError(client.getTask(LOC, contact.id, task.id))).status, 404);
    assert.deepEqual((await client.listTasks(LOC, contact.id)).items, []);
  });

  test('notes: create, list, get, update, delete', async () => {
    const contact = await client.createContact(LOC, { email: 'notes@example.com' });
    const note = await client.createNote(LOC, contact.id, { body: 'Left 5 stars' });
    assert.equal(note.body, 'Left 5 stars');
    assert.deepEqual((await client.listNotes(LOC, contact.id)).items.map((n) => n.id), [note.id]);
    assert.equal((await client.getNote(LOC, contact.id, note.id)).body, 'Left 5 stars');
    assert.equal((await client.updateNote(LOC, contact.id, note.id, { body: 'Left 4 stars' })).body, 'Left 4 stars');
    assert.equal((await client.getNote(LOC, contact.id, note.id)).body, 'Left 4 stars');
    assert.equal(await client.deleteNote(LOC, contact.id, note.id), true);
    assert.equal((await upstreamError(client.getNote(LOC, contact.id, note.id))).status, 404);
  });

  test('appointments: the list endpoint answers in the shape the client reads', async () => {
    const contact = await client.createContact(LOC, { email: 'appointments@example.com' });
    const { items } = await client.listAppointments(LOC, contact.id);
    assert.ok(Array.isArray(items));
    assert.equal(lastCall('GET', '/appointments').status, 200);
  });

  test('every call carried the Version header value the simulator accepts, and the budget headers', async () => {
    assert.ok(rateReports.length > 0);
    const [locationId, info] = rateReports.at(-1) ?? [];
    assert.equal(locationId, LOC);
    assert.equal(info?.max, 100);
    assert.equal(info?.intervalMs, 10_000);
    assert.ok((info?.remaining ?? -1) >= 0);
  });
});

describe('refusals', () => {
  test('404 for an unknown contact, with a body excerpt', async () => {
    const error = await upstreamError(client.getContact(LOC, 'no_such_contact'));
    assert.equal(error.code, 'UPSTREAM_HTTP');
    assert.equal(error.status, 404);
    assert.ok((error.bodyExcerpt ?? '').length > 0);
    assert.match(error.requestId ?? '', /\S/, 'the traceId of the body becomes requestId');
    assert.ok(error.bodyExcerpt?.includes(error.requestId ?? '?'));
  });

  test('ids are encoded: an id with a slash reaches the contact route, not another path', async () => {
    const error = await upstreamError(client.getContact(LOC, 'x/notes'));
    assert.equal(error.status, 404);
    assert.equal(sim.calls.at(-1)?.path, '/contacts/x%2Fnotes');
  });

  test('422 for a body GHL rejects, with the validation messages', async () => {
    const error = await upstreamError(client.createContact(LOC, { email: 'not-an-email' }));
    assert.equal(error.status, 422);
    assert.match(error.bodyExcerpt ?? '', /email must be an email/);
    assert.match(error.requestId ?? '', /\S/);
  });

  test('401 for an unknown token: one request, no refresh possible, token not in the error', async () => {
    const bogus = 'pit-unknown-token-zzzzzzzzzzzz';
    const stranger = clientFor(createStaticTokenProvider(LOC, bogus));
    try {
      const before = sim.calls.length;
      const error = await upstreamError(stranger.getContact(LOC, 'anything'));
      assert.equal(error.status, 401);
      assert.equal(sim.calls.length - before, 1);
      for (const text of [error.message, JSON.stringify(error)]) assert.ok(!text.includes(bogus));
    } finally {
      await stranger.close();
    }
  });

  test('401 for a revoked token; a provider that can refresh gets one retry with the new token', async () => {
    const old = 'oauth-old-access-token-111111';
    const fresh = 'oauth-new-access-token-222222';
    sim.addLocation({ id: 'loc_oauth', token: old });
    sim.addLocation({ id: 'loc_oauth', token: fresh });
    sim.revokeToken(old);

    const revoked = clientFor(createStaticTokenProvider('loc_oauth', old));
    const refreshes: string[] = [];
    const refreshing = clientFor({
      tokenFor: async () => old,
      refresh: async (_locationId, rejected) => {
        refreshes.push(rejected);
        return fresh;
      },
    });
    try {
      const error = await upstreamError(revoked.listContacts('loc_oauth'));
      assert.equal(error.status, 401);
      assert.ok(!JSON.stringify(error).includes(old));

      const page = await refreshing.listContacts('loc_oauth');
      assert.deepEqual(page.items, []);
      assert.deepEqual(refreshes, [old]);
    } finally {
      await revoked.close();
      await refreshing.close();
    }
  });

  test('429 from an injected rate-limit fault carries retryAfterMs', async () => {
    const remove = sim.injectFault({ fault: { kind: 'rate-limit', retryAfterSeconds: 3 }, path: /\/contacts\//, times: 1 });
    try {
      const error = await upstreamError(client.getContact(LOC, 'whatever'));
      assert.equal(error.status, 429);
      assert.equal(error.retryAfterMs, 3_000);
    } finally {
      remove();
    }
  });

  test('429 when the burst budget is spent; the hook saw the budget run down', async () => {
    const tight = await startGhlSimulator({ locations: [{ id: LOC, token: TOKEN }], rateLimit: { max: 3, windowMs: 60_000 } });
    const seen: GhlRateLimitHeaders[] = [];
    const limited = createGhlClient({
      baseUrl: tight.url,
      version: VERSION,
      timeoutMs: 3_000,
      tokens: createStaticTokenProvider(LOC, TOKEN),
      onRateLimitHeaders: (_locationId, info) => seen.push(info),
    });
    try {
      for (let i = 0; i < 3; i += 1) await limited.listContacts(LOC);
      const error = await upstreamError(limited.listContacts(LOC));
      assert.equal(error.status, 429);
      assert.ok((error.retryAfterMs ?? 0) > 0 && (error.retryAfterMs ?? 0) <= 60_000, `retryAfterMs ${String(error.retryAfterMs)}`);
      assert.deepEqual(seen.map((s) => s.remaining), [2, 1, 0, 0]);
      assert.ok(seen.every((s) => s.max === 3 && s.intervalMs === 60_000));
    } finally {
      await limited.close();
      await tight.close();
    }
  });

  test('a server that never answers ends in UPSTREAM_TIMEOUT', async () => {
    const impatient = clientFor(createStaticTokenProvider(LOC, TOKEN), 200);
    const remove = sim.injectFault({ fault: { kind: 'timeout' }, path: /\/notes/, times: 1 });
    try {
      const error = await upstreamError(impatient.listNotes(LOC, 'any'));
      assert.equal(error.code, 'UPSTREAM_TIMEOUT');
    } finally {
      remove();
      await impatient.close();
    }
  });
});
