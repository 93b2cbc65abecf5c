/**
 * The GHL simulator over real HTTP on loopback: auth refusals, contact/task/note/tag/custom-field round
 * trips, upsert matching, search and list paging, error shapes, rate limits, injected faults and the
 * control API. Webhook delivery is covered in ghl-webhooks.test.ts.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request, type Dispatcher } from 'undici';
import { startGhlSimulator, type GhlSimulator } from '../../../src/sandbox/ghl/simulator.js';
import { waitFor } from '../../helpers/wait.js';

const LOC = 'loc_sandbox_1';
const TOKEN = 'pit-sandbox-1';
const OTHER_LOC = 'loc_other';
const OTHER_TOKEN = 'pit-other';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

interface CallOptions {
  body?: unknown;
  token?: string | null;
  version?: string | null;
  signal?: AbortSignal;
}

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: Record<string, unknown>;
}

function record(value: unknown): Record<string, unknown> {
  assert.ok(value !== null && typeof value === 'object' && !Array.isArray(value), `expected an object, got ${JSON.stringify(value)}`);
  return { ...value };
}

function list(value: unknown): Record<string, unknown>[] {
  assert.ok(Array.isArray(value), `expected an array, got ${JSON.stringify(value)}`);
  return value.map(record);
}

function str(value: unknown): string {
  assert.equal(typeof value, 'string');
  return String(value);
}

async function call(base: string, method: Dispatcher.HttpMethod, path: string, options: CallOptions = {}): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (options.token !== null) headers.authorization = `Bearer ${options.token ?? TOKEN}`;
  if (options.version !== null) headers.version = options.version ?? '2021-07-28';
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const response = await request(`${base}${path}`, {
    method,
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
    signal: options.signal,
  });
  const text = await response.body.text();
  const flat: Record<string, string> = {};
  for (const [key, value] of Object.entries(response.headers)) if (typeof value === 'string') flat[key] = value;
  return { status: response.statusCode, headers: flat, body: text === '' ? {} : record(JSON.parse(text)) };
}

describe('GHL simulator API', () => {
  let sim: GhlSimulator;
  const api = (method: Dispatcher.HttpMethod, path: string, options?: CallOptions) => call(sim.url, method, path, options);
  const createContact = async (fields: Record<string, unknown>, token = TOKEN, locationId = LOC) => {
    const answer = await api('POST', '/contacts/', { body: { locationId, ...fields }, token });
    assert.equal(answer.status, 201, JSON.stringify(answer.body));
    return record(answer.body.contact);
  };

  before(async () => {
    sim = await startGhlSimulator({
      locations: [
        { id: LOC, token: TOKEN },
        { id: OTHER_LOC, token: OTHER_TOKEN },
      ],
    });
  });
  after(() => sim.close());

  describe('auth and versions', () => {
    test('a missing or unknown token gets 401 with the documented body, a traceId and rate headers', async () => {
      for (const token of [null, 'pit-nobody']) {
        const answer = await api('GET', '/contacts/anything', { token });
        assert.equal(answer.status, 401);
        assert.equal(answer.body.statusCode, 401);
        assert.equal(answer.body.message, 'Invalid token: access token is invalid');
        assert.equal(answer.body.error, 'Unauthorized');
        assert.match(str(answer.body.traceId), UUID);
        assert.equal(answer.headers['x-ratelimit-max'], '100');
      }
    });

    test('a revoked token gets 401 Invalid JWT while other tokens keep working', async () => {
      sim.addLocation({ id: 'loc_revoked', token: 'pit-revoked' });
      const ok = await api('GET', '/locations/loc_revoked/customFields', { token: 'pit-revoked' });
      assert.equal(ok.status, 200);
      sim.revokeToken('pit-revoked');
      const refused = await api('GET', '/locations/loc_revoked/customFields', { token: 'pit-revoked' });
      assert.equal(refused.status, 401);
      assert.equal(refused.body.message, 'Invalid JWT');
      assert.equal((await api('GET', `/locations/${LOC}/customFields`)).status, 200);
    });

    test("another location's token gets 403 on contacts, queries and location paths", async () => {
      const contact = await createContact({ email: 'owner@example.com' });
      const expected = { statusCode: 403, message: 'The token does not have access to this location.' };
      const byId = await api('GET', `/contacts/${str(contact.id)}`, { token: OTHER_TOKEN });
      assert.equal(byId.status, 403);
      assert.deepEqual({ statusCode: byId.body.statusCode, message: byId.body.message }, expected);
      const byQuery = await api('GET', `/contacts/?locationId=${LOC}`, { token: OTHER_TOKEN });
      assert.equal(byQuery.status, 403);
      const byBody = await api('POST', '/contacts/', { body: { locationId: LOC, email: 'x@example.com' }, token: OTHER_TOKEN });
      assert.equal(byBody.status, 403);
      const byPath = await api('GET', `/locations/${LOC}/customFields`, { token: OTHER_TOKEN });
      assert.equal(byPath.status, 403);
      const write = await api('PUT', `/contacts/${str(contact.id)}`, { body: { firstName: 'Eve' }, token: OTHER_TOKEN });
      assert.equal(write.status, 403);
      assert.equal(sim.store.getContact(str(contact.id))?.firstName, undefined);
    });

    test('a missing Version header gets 401 and an unknown one 400; the four known versions pass', async () => {
      const missing = await api('GET', `/locations/${LOC}/customFields`, { version: null });
      assert.equal(missing.status, 401);
      assert.equal(missing.body.message, 'version header was not found.');
      const bogus = await api('GET', `/locations/${LOC}/customFields`, { version: 'bogus-version' });
      assert.equal(bogus.status, 400);
      assert.equal(bogus.body.message, "Invalid API version segment 'bogus-version' at position 0");
      for (const version of ['2021-07-28', '2021-04-15', '2023-02-21', 'v3']) {
        assert.equal((await api('GET', `/locations/${LOC}/customFields`, { version })).status, 200, version);
      }
    });
  });

  describe('contacts', () => {
    let fieldId = '';
    before(async () => {
      const created = await api('POST', `/locations/${LOC}/customFields`, {
        body: { name: 'Trustpilot Rating', dataType: 'NUMERICAL', model: 'contact' },
      });
      assert.equal(created.status, 201);
      fieldId = str(record(created.body.customField).id);
    });

    test('create, read, update and delete round trip with GHL response shapes', async () => {
      const answer = await api('POST', '/contacts', {
        body: { locationId: LOC, firstName: 'Ada', lastName: 'Lovelace', email: 'Ada@Example.com', companyName: 'Engines' },
      });
      assert.equal(answer.status, 201);
      const contact = record(answer.body.contact);
      assert.equal(contact.name, 'Ada Lovelace');
      assert.equal(contact.emailLowerCase, 'ada@example.com');
      assert.match(str(answer.body.traceId), UUID);

      const read = await api('GET', `/contacts/${str(contact.id)}`);
      assert.equal(read.status, 200);
      assert.deepEqual(record(read.body.contact), contact);

      const updated = await api('PUT', `/contacts/${str(contact.id)}`, { body: { website: 'https://ada.example' } });
      assert.equal(updated.status, 200);
      assert.equal(updated.body.succeded, true);
      const after1 = record(updated.body.contact);
      assert.equal(after1.website, 'https://ada.example');
      assert.ok(str(after1.dateUpdated) > str(contact.dateUpdated));

      // A PUT that changes nothing still answers 200 and still moves dateUpdated.
      const same = await api('PUT', `/contacts/${str(contact.id)}`, { body: {} });
      assert.equal(same.status, 200);
      assert.ok(str(record(same.body.contact).dateUpdated) > str(after1.dateUpdated));

      const deleted = await api('DELETE', `/contacts/${str(contact.id)}`);
      assert.equal(deleted.status, 200);
      assert.equal(deleted.body.succeded, true);
      const gone = await api('GET', `/contacts/${str(contact.id)}`);
      assert.equal(gone.status, 404);
      assert.equal(gone.body.statusCode, 404);
      assert.equal(gone.body.message, 'Contact not found');
    });

    test('custom fields are written by id with field_value or fieldValue and read back as {id, value}; key-only or `value` is 422', async () => {
      const contact = await createContact({ email: 'cf@example.com' });
      const id = str(contact.id);
      const put = async (customFields: unknown[]) => {
        const answer = await api('PUT', `/contacts/${id}`, { body: { customFields } });
        assert.equal(answer.status, 200, JSON.stringify(answer.body));
        return list(record(answer.body.contact).customFields);
      };
      assert.deepEqual(await put([{ id: fieldId, field_value: 4 }]), [{ id: fieldId, value: 4 }]);
      assert.deepEqual(await put([{ id: fieldId, key: 'contact.trustpilot_rating', fieldValue: 5 }]), [{ id: fieldId, value: 5 }]);
      assert.deepEqual(await put([{ id: fieldId, field_value: 3 }]), [{ id: fieldId, value: 3 }]);
      for (const undocumented of [{ key: 'trustpilot_rating', field_value: 2 }, { id: fieldId, value: 2 }]) {
        const refused = await api('PUT', `/contacts/${id}`, { body: { customFields: [undocumented] } });
        assert.equal(refused.status, 422, JSON.stringify(undocumented));
        assert.deepEqual(refused.body.message, ['customFields.0 does not match any documented shape']);
      }

      const ignoredBefore = sim.store.ignoredCustomFieldWrites.length;
      assert.deepEqual(await put([{ id: 'no_such_field', field_value: 'x' }]), [{ id: fieldId, value: 3 }]);
      assert.deepEqual(sim.store.ignoredCustomFieldWrites.slice(ignoredBefore), [
        { locationId: LOC, ref: 'no_such_field', contactId: id },
      ]);
      const read = await api('GET', `/contacts/${id}`);
      assert.deepEqual(record(read.body.contact).customFields, [{ id: fieldId, value: 3 }]);
    });

    test('tags in a PUT overwrite; the tag endpoints add without duplicates and remove', async () => {
      const contact = await createContact({ email: 'tags@example.com', tags: ['a', 'b'] });
      const id = str(contact.id);
      const put = await api('PUT', `/contacts/${id}`, { body: { tags: ['c'] } });
      assert.deepEqual(record(put.body.contact).tags, ['c']);

      const added = await api('POST', `/contacts/${id}/tags`, { body: { tags: ['d', 'c', 'd'] } });
      assert.equal(added.status, 201);
      assert.deepEqual(added.body.tags, ['c', 'd']);

      const removed = await api('DELETE', `/contacts/${id}/tags`, { body: { tags: ['c'] } });
      assert.equal(removed.status, 200);
      assert.deepEqual(removed.body.tags, ['d']);
      assert.deepEqual(sim.store.getContact(id)?.tags, ['d']);

      const invalid = await api('POST', `/contacts/${id}/tags`, { body: { tags: 'd' } });
      assert.equal(invalid.status, 422);
    });

    test('invalid bodies get 422 with a message array; a duplicate create gets 400', async () => {
      const contact = await createContact({ email: 'valid@example.com', phone: '+1 555-010-0001' });
      const bad = await api('PUT', `/contacts/${str(contact.id)}`, {
        body: { firstName: 5, locationId: LOC, dnd: 'yes' },
      });
      assert.equal(bad.status, 422);
      assert.equal(bad.body.statusCode, 422);
      assert.equal(bad.body.error, 'Unprocessable Entity');
      assert.deepEqual(bad.body.message, ['property locationId should not exist', 'firstName must be a string', 'dnd must be a boolean value']);
      // What the documents leave open and GHL still checks: a well-formed email, a real birth date.
      const badValues = await api('PUT', `/contacts/${str(contact.id)}`, { body: { email: 'not-an-email', dateOfBirth: 'yesterday' } });
      assert.equal(badValues.status, 422);
      assert.deepEqual(badValues.body.message, ['email must be an email', 'dateOfBirth must be a valid date']);
      const noLocation = await api('POST', '/contacts/', { body: { email: 'n@example.com' } });
      assert.equal(noLocation.status, 422);
      assert.deepEqual(noLocation.body.message, ['locationId should not be empty', 'locationId must be a string']);

      const duplicate = await api('POST', '/contacts/', { body: { locationId: LOC, email: 'VALID@example.com' } });
      assert.equal(duplicate.status, 400);
      assert.equal(duplicate.body.message, 'This location does not allow duplicated contacts.');
      assert.deepEqual(record(duplicate.body.meta).contactId, contact.id);

      const brokenJson = await request(`${sim.url}/contacts/${str(contact.id)}`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${TOKEN}`, version: '2021-07-28', 'content-type': 'application/json' },
        body: '{"firstName":',
      });
      assert.equal(brokenJson.statusCode, 400);
      await brokenJson.body.dump();
    });

    test('upsert matches by lower-cased email, then by phone, within the location only', async () => {
      const first = await api('POST', '/contacts/upsert', { body: { locationId: LOC, email: 'Up@Example.com', firstName: 'Up' } });
      assert.equal(first.status, 200);
      assert.equal(first.body.new, true);
      assert.match(str(first.body.traceId), UUID);
      const id = str(record(first.body.contact).id);

      const byEmail = await api('POST', '/contacts/upsert', { body: { locationId: LOC, email: 'up@example.COM', lastName: 'Date' } });
      assert.equal(byEmail.body.new, false);
      assert.equal(record(byEmail.body.contact).id, id);
      assert.equal(record(byEmail.body.contact).name, 'Up Date');

      await api('PUT', `/contacts/${id}`, { body: { phone: '+1 555-010-9999' } });
      const byPhone = await api('POST', '/contacts/upsert', { body: { locationId: LOC, phone: '+15550109999', city: 'Paris' } });
      assert.equal(byPhone.body.new, false);
      assert.equal(record(byPhone.body.contact).id, id);

      const elsewhere = await api('POST', '/contacts/upsert', {
        body: { locationId: OTHER_LOC, email: 'up@example.com' },
        token: OTHER_TOKEN,
      });
      assert.equal(elsewhere.body.new, true);
      assert.notEqual(record(elsewhere.body.contact).id, id);
    });

    test('GET /contacts/ pages with limit and the startAfter/startAfterId cursor', async () => {
      sim.addLocation({ id: 'loc_list', token: 'pit-list' });
      const ids = new Set<string>();
      for (let n = 0; n < 7; n += 1) ids.add(str((await createContact({ email: `list${n}@example.com` }, 'pit-list', 'loc_list')).id));
      const seen: string[] = [];
      let path = '/contacts/?locationId=loc_list&limit=3';
      for (let page = 0; page < 5; page += 1) {
        const answer = await api('GET', path, { token: 'pit-list' });
        assert.equal(answer.status, 200);
        const meta = record(answer.body.meta);
        assert.equal(meta.total, 7);
        seen.push(...list(answer.body.contacts).map((c) => str(c.id)));
        assert.equal(answer.body.count, list(answer.body.contacts).length);
        if (meta.startAfterId === null) break;
        path = `/contacts/?locationId=loc_list&limit=3&startAfter=${String(meta.startAfter)}&startAfterId=${str(meta.startAfterId)}`;
      }
      assert.equal(seen.length, 7);
      assert.deepEqual(new Set(seen), ids);
      const tooMany = await api('GET', '/contacts/?locationId=loc_list&limit=101', { token: 'pit-list' });
      assert.equal(tooMany.status, 422);
      assert.deepEqual(tooMany.body.message, ['limit must not be greater than 100']);
    });

    test('POST /contacts/search filters by email and dateUpdated range, sorts, and pages with searchAfter', async () => {
      sim.addLocation({ id: 'loc_search', token: 'pit-search' });
      const made: string[] = [];
      for (let n = 0; n < 5; n += 1) {
        made.push(str((await createContact({ email: `s${n}@example.com` }, 'pit-search', 'loc_search')).id));
      }
      const search = (body: Record<string, unknown>) =>
        api('POST', '/contacts/search', { body: { locationId: 'loc_search', ...body }, token: 'pit-search' });

      const byEmail = await search({ filters: [{ field: 'email', operator: 'eq', value: 'S3@example.com' }] });
      assert.equal(byEmail.status, 200);
      assert.equal(byEmail.body.total, 1);
      assert.equal(list(byEmail.body.contacts)[0]?.id, made[3]);

      // Touch two contacts; only they are updated at or after the cutoff.
      const cutoff = new Date(Date.now() + 5).toISOString();
      await new Promise((resolve) => setTimeout(resolve, 10));
      await api('PUT', `/contacts/${made[1] ?? ''}`, { body: { city: 'Lyon' }, token: 'pit-search' });
      await api('PUT', `/contacts/${made[4] ?? ''}`, { body: { city: 'Nice' }, token: 'pit-search' });
      const recent = await search({
        filters: [{ field: 'dateUpdated', operator: 'range', value: { gte: cutoff } }],
        sort: [{ field: 'dateUpdated', direction: 'asc' }],
      });
      assert.deepEqual(list(recent.body.contacts).map((c) => c.id), [made[1], made[4]]);
      // GHL's search guide has no bare comparison operators: only `range` with bounds.
      const recentGte = await search({ filters: [{ field: 'dateUpdated', operator: 'gte', value: cutoff }] });
      assert.equal(recentGte.status, 422);
      assert.deepEqual(recentGte.body.message, [
        'filters.0.operator must be one of the following values: eq, not_eq, contains, not_contains, exists, not_exists, range',
      ]);
      const unknownBound = await search({ filters: [{ field: 'dateUpdated', operator: 'range', value: { after: cutoff } }] });
      assert.equal(unknownBound.status, 422);
      assert.deepEqual(unknownBound.body.message, ['property filters.0.value.after should not exist']);

      const pages: string[] = [];
      let cursor: unknown;
      for (let page = 0; page < 5; page += 1) {
        const answer = await search({
          pageLimit: 2,
          sort: [{ field: 'dateAdded', direction: 'asc' }],
          ...(cursor === undefined ? {} : { searchAfter: cursor }),
        });
        assert.equal(answer.body.total, 5);
        const contacts = list(answer.body.contacts);
        if (contacts.length === 0) break;
        pages.push(...contacts.map((c) => str(c.id)));
        const last = contacts.at(-1);
        assert.ok(last && Array.isArray(last.searchAfter));
        cursor = last.searchAfter;
      }
      assert.deepEqual(pages, made);

      const second = await search({ page: 2, pageLimit: 2, sort: [{ field: 'dateAdded', direction: 'asc' }] });
      assert.deepEqual(list(second.body.contacts).map((c) => c.id), made.slice(2, 4));
      const tooBig = await search({ pageLimit: 501 });
      assert.equal(tooBig.status, 422);
      const badOperator = await search({ filters: [{ field: 'email', operator: 'like', value: 'x' }] });
      assert.equal(badOperator.status, 422);
    });

    test('business contacts and appointments answer their list shapes', async () => {
      const member = sim.userCreateContact(LOC, { email: 'biz@example.com', businessId: 'biz_1' });
      const business = await api('GET', `/contacts/business/biz_1?locationId=${LOC}`);
      assert.equal(business.status, 200);
      assert.deepEqual(list(business.body.contacts).map((c) => c.id), [member.id]);
      assert.equal(business.body.count, 1);
      const events = await api('GET', `/contacts/${member.id}/appointments`);
      assert.deepEqual(events.body.events, []);
    });
  });

  describe('tasks and notes', () => {
    test('task CRUD, completion and shapes', async () => {
      const contact = await createContact({ email: 'tasks@example.com' });
      const base = `/contacts/${str(contact.id)}/tasks`;
      const created = await api('POST', base, { body: { title: 'Call', dueDate: '2026-12-01T10:00:00Z', completed: false } });
      assert.equal(created.status, 201);
      const task = record(created.body.task);
      assert.deepEqual(Object.keys(task).sort(), ['completed', 'contactId', 'dueDate', 'id', 'title']);
      assert.equal(task.dueDate, '2026-12-01T10:00:00.000Z');
      const taskPath = `${base}/${str(task.id)}`;

      const missing = await api('POST', base, { body: { title: 'No date' } });
      assert.equal(missing.status, 422);
      const messages = missing.body.message;
      assert.ok(Array.isArray(messages) && messages.includes('completed must be a boolean value'));

      const edited = await api('PUT', taskPath, { body: { title: 'Call back', body: 'about the review' } });
      assert.equal(record(edited.body.task).title, 'Call back');
      const completed = await api('PUT', `${taskPath}/completed`, { body: { completed: true } });
      assert.equal(record(completed.body.task).completed, true);
      assert.equal(list((await api('GET', base)).body.tasks).length, 1);
      assert.equal(record((await api('GET', taskPath)).body.task).body, 'about the review');

      const deleted = await api('DELETE', taskPath);
      assert.equal(deleted.body.succeded, true);
      const gone = await api('GET', taskPath);
      assert.equal(gone.status, 404);
      assert.equal(gone.body.message, 'Task not found');
    });

    test('note CRUD and shapes', async () => {
      const contact = await createContact({ email: 'notes@example.com' });
      const base = `/contacts/${str(contact.id)}/notes`;
      const created = await api('POST', base, { body: { body: 'First review: 5 stars', userId: 'user_1' } });
      assert.equal(created.status, 201);
      const note = record(created.body.note);
      assert.equal(note.contactId, contact.id);
      assert.equal(typeof note.dateAdded, 'string');
      const notePath = `${base}/${str(note.id)}`;

      assert.equal((await api('POST', base, { body: { title: 'no body' } })).status, 422);
      const updated = await api('PUT', notePath, { body: { body: 'Edited' } });
      assert.equal(record(updated.body.note).body, 'Edited');
      assert.deepEqual(list((await api('GET', base)).body.notes).map((n) => n.body), ['Edited']);
      assert.equal(record((await api('GET', notePath)).body.note).body, 'Edited');
      assert.equal((await api('DELETE', notePath)).body.succeded, true);
      assert.equal((await api('GET', notePath)).status, 404);
    });
  });

  describe('custom field definitions', () => {
    test('create derives the key; duplicates and bad types are refused; list filters by model', async () => {
      sim.addLocation({ id: 'loc_fields', token: 'pit-fields' });
      const path = '/locations/loc_fields/customFields';
      const created = await api('POST', path, { body: { name: 'Opinion Stage: Score (1-5)', dataType: 'TEXT' }, token: 'pit-fields' });
      assert.equal(created.status, 201);
      const field = record(created.body.customField);
      assert.equal(field.fieldKey, 'contact.opinion_stage_score_1_5');
      assert.equal(field.model, 'contact');
      assert.equal(field.locationId, 'loc_fields');

      const again = await api('POST', path, { body: { name: 'opinion stage score 1 5', dataType: 'TEXT' }, token: 'pit-fields' });
      assert.equal(again.status, 400);
      const badType = await api('POST', path, { body: { name: 'Other', dataType: 'NUMERIC' }, token: 'pit-fields' });
      assert.equal(badType.status, 422);
      const noType = await api('POST', path, { body: { name: 'Other' }, token: 'pit-fields' });
      assert.equal(noType.status, 422);
      await api('POST', path, { body: { name: 'Deal size', dataType: 'MONETORY', model: 'opportunity' }, token: 'pit-fields' });

      const contacts = await api('GET', `${path}?model=contact`, { token: 'pit-fields' });
      assert.deepEqual(list(contacts.body.customFields).map((f) => f.fieldKey), ['contact.opinion_stage_score_1_5']);
      const all = await api('GET', `${path}?model=all`, { token: 'pit-fields' });
      assert.equal(list(all.body.customFields).length, 2);
      const byKey = await api('GET', `${path}/contact.opinion_stage_score_1_5`, { token: 'pit-fields' });
      assert.equal(record(byKey.body.customField).id, field.id);
    });
  });

  describe('control API', () => {
    test('contacts, calls, faults, webhook url and state over HTTP', async () => {
      const control = (method: Dispatcher.HttpMethod, path: string, body?: unknown) =>
        call(sim.url, method, `/__sandbox${path}`, { body, token: null, version: null });

      const created = await control('POST', `/locations/${LOC}/contacts`, { firstName: 'Grace', email: 'grace@example.com' });
      assert.equal(created.status, 201);
      const id = str(record(created.body.contact).id);
      const updated = await control('PUT', `/locations/${LOC}/contacts/${id}`, { lastName: 'Hopper' });
      assert.equal(record(updated.body.contact).name, 'Grace Hopper');
      assert.equal((await control('PUT', `/locations/nowhere/contacts/${id}`, {})).status, 404);

      const state = await control('GET', '/state');
      const location = list(state.body.locations).find((entry) => entry.id === LOC);
      assert.ok(location);
      assert.ok(list(location.contacts).some((c) => c.id === id));
      for (const key of ['notes', 'tasks', 'customFields']) assert.ok(Array.isArray(location[key]));

      assert.equal((await control('DELETE', `/locations/${LOC}/contacts/${id}`)).status, 200);
      assert.equal(sim.store.getContact(id), undefined);

      const fault = await control('POST', '/faults', { fault: { kind: 'status', status: 503 }, path: '^/contacts/probe$', times: 1 });
      assert.equal(fault.status, 200);
      assert.equal(typeof fault.body.id, 'string');
      assert.equal((await api('GET', '/contacts/probe')).status, 503);
      assert.equal((await api('GET', '/contacts/probe')).status, 404);
      await control('POST', '/faults', { fault: { kind: 'status', status: 500 } });
      assert.equal((await api('GET', '/contacts/probe')).status, 500);
      await control('DELETE', '/faults');
      assert.equal((await api('GET', '/contacts/probe')).status, 404);
      assert.equal((await control('POST', '/faults', { fault: { kind: 'explode' } })).status, 422);

      const calls = await control('GET', '/calls');
      const probes = list(calls.body.calls).filter((c) => c.path === '/contacts/probe');
      assert.deepEqual(probes.map((c) => c.status), [503, 404, 500, 404]);
      assert.ok(list(calls.body.calls).every((c) => !str(c.path).startsWith('/__sandbox')));
      await control('DELETE', '/calls');
      assert.equal(sim.calls.length, 0);

      assert.equal((await control('PUT', '/webhook-url', { url: 'not a url' })).status, 422);
      assert.equal((await control('PUT', '/webhook-url', { url: null })).status, 200);
      const deliveries = await control('GET', '/deliveries');
      assert.ok(Array.isArray(deliveries.body.deliveries));
    });
  });
});

describe('GHL simulator rate limits', () => {
  test('max+1 calls in one window get 429 with Retry-After and GHL headers; the window then reopens', async () => {
    const sim = await startGhlSimulator({ rateLimit: { max: 3, windowMs: 400 } });
    try {
      const path = `/locations/${LOC}/customFields`;
      const answers: Answer[] = [];
      for (let n = 0; n < 4; n += 1) answers.push(await call(sim.url, 'GET', path));
      assert.deepEqual(answers.map((a) => a.status), [200, 200, 200, 429]);
      assert.deepEqual(answers.map((a) => a.headers['x-ratelimit-remaining']), ['2', '1', '0', '0']);
      const refused = answers[3];
      assert.ok(refused);
      assert.deepEqual({ statusCode: refused.body.statusCode, message: refused.body.message }, { statusCode: 429, message: 'Too many requests' });
      assert.equal(refused.headers['retry-after'], '1');
      assert.equal(refused.headers['x-ratelimit-max'], '3');
      assert.equal(refused.headers['x-ratelimit-interval-milliseconds'], '400');
      assert.equal(refused.headers['x-ratelimit-limit-daily'], '200000');
      assert.equal(refused.headers['x-ratelimit-daily-remaining'], '199997');
      assert.equal(sim.maxCallsInAnyWindow(LOC), 4);

      const status = await waitFor(async () => {
        const answer = (await call(sim.url, 'GET', path)).status;
        return answer === 429 ? undefined : answer;
      }, 10_000, 'the rate-limit window to reopen', 50);
      assert.equal(status, 200);
    } finally {
      await sim.close();
    }
  });

  test('a client that stays within the limit never shows more than max in a window', async () => {
    const sim = await startGhlSimulator({ rateLimit: { max: 5, windowMs: 200 } });
    try {
      for (let n = 0; n < 5; n += 1) assert.equal((await call(sim.url, 'GET', `/locations/${LOC}/customFields`)).status, 200);
      assert.equal(sim.maxCallsInAnyWindow(LOC), 5);
      assert.equal(sim.maxCallsInAnyWindow('loc_unused'), 0);
    } finally {
      await sim.close();
    }
  });

  test('the daily limit refuses once spent', async () => {
    const sim = await startGhlSimulator({ dailyLimit: 2 });
    try {
      const path = `/locations/${LOC}/customFields`;
      const statuses: number[] = [];
      let last: Answer | undefined;
      for (let n = 0; n < 3; n += 1) {
        last = await call(sim.url, 'GET', path);
        statuses.push(last.status);
      }
      assert.deepEqual(statuses, [200, 200, 429]);
      assert.equal(last?.headers['x-ratelimit-daily-remaining'], '0');
      assert.ok(Number(last?.headers['retry-after']) > 0);
    } finally {
      await sim.close();
    }
  });
});

describe('GHL simulator faults', () => {
  let sim: GhlSimulator;
  before(async () => {
    sim = await startGhlSimulator();
  });
  after(() => sim.close());
  const path = `/locations/${LOC}/customFields`;

  test('status faults answer the given status and body, matching method and path, for `times` calls', async () => {
    const remove = sim.injectFault({ fault: { kind: 'status', status: 503, body: { message: 'down' } }, method: 'GET', path: /customFields$/, times: 2 });
    assert.equal((await call(sim.url, 'POST', path, { body: { name: 'X', dataType: 'TEXT' } })).status, 201);
    const first = await call(sim.url, 'GET', path);
    assert.equal(first.status, 503);
    assert.equal(first.body.message, 'down');
    assert.equal((await call(sim.url, 'GET', path)).status, 503);
    assert.equal((await call(sim.url, 'GET', path)).status, 200);
    remove();

    const removeAgain = sim.injectFault({ fault: { kind: 'status', status: 422 } });
    assert.equal((await call(sim.url, 'GET', path)).status, 422);
    removeAgain();
    assert.equal((await call(sim.url, 'GET', path)).status, 200);

    sim.injectFault({ fault: { kind: 'status', status: 500 }, probability: 0 });
    assert.equal((await call(sim.url, 'GET', path)).status, 200);
    sim.clearFaults();
  });

  test('latency delays the answer, then answers normally', async () => {
    sim.injectFault({ fault: { kind: 'latency', ms: 150 }, times: 1 });
    const started = performance.now();
    const answer = await call(sim.url, 'GET', path);
    assert.equal(answer.status, 200);
    assert.ok(performance.now() - started >= 140);
  });

  test('timeout never answers: the client aborts and the call is logged with status 0', async () => {
    sim.injectFault({ fault: { kind: 'timeout' }, times: 1 });
    const before = sim.calls.length;
    await assert.rejects(call(sim.url, 'GET', path, { signal: AbortSignal.timeout(200) }), (error: unknown) => {
      assert.ok(error instanceof Error);
      return true;
    });
    assert.equal(sim.calls[before]?.status, 0);
    assert.equal((await call(sim.url, 'GET', path)).status, 200);
  });

  test('rate-limit and token-expired faults answer like the real refusals', async () => {
    sim.injectFault({ fault: { kind: 'rate-limit', retryAfterSeconds: 7 }, times: 1 });
    const limited = await call(sim.url, 'GET', path);
    assert.equal(limited.status, 429);
    assert.equal(limited.headers['retry-after'], '7');
    assert.equal(limited.headers['x-ratelimit-remaining'], '0');
    assert.equal(limited.body.message, 'Too many requests');

    sim.injectFault({ fault: { kind: 'token-expired' }, times: 1 });
    const expired = await call(sim.url, 'GET', path);
    assert.equal(expired.status, 401);
    assert.equal(expired.body.message, 'Invalid JWT');
    assert.equal((await call(sim.url, 'GET', path)).status, 200);
  });
});
