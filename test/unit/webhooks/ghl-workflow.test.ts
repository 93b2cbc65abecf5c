import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { GhlWorkflowEventSchema, parseGhlWorkflowPayload, type GhlWorkflowEvent, type WorkflowParseResult } from '../../../src/webhooks/ghl-workflow.js';

/** Shaped like a real GHL workflow "Webhook" action delivery (standard data + one custom field + customData). */
function realisticPayload(): Record<string, unknown> {
  return {
    contact_id: 'nmFmQEsNgz6AVpgLVUJ0',
    first_name: 'Ada',
    last_name: 'Lovelace',
    full_name: 'Ada Lovelace',
    email: 'ada@example.com',
    phone: '+15550100',
    tags: 'vip, review-request,',
    country: 'GB',
    timezone: 'Europe/London',
    date_created: '2026-01-05T10:00:00.000Z',
    full_address: '',
    contact_source: 'website form',
    contact_type: 'lead',
    'Favourite Colour': 'blue',
    location: {
      name: 'Example Shop',
      address: '1 High St',
      city: 'London',
      state: '',
      country: 'GB',
      postalCode: 'N1 1AA',
      fullAddress: '1 High St, London N1 1AA',
      id: 've9EPM428h8vShlRW1KT',
    },
    workflow: { id: '8d2f1c1e-7f6a-4b7e-9b0a-1f2e3d4c5b6a', name: 'Send to bridge' },
    triggerData: {},
    user: { firstName: 'Owner', lastName: 'One', email: 'owner@example.com' },
    contact: { attributionSource: { sessionSource: 'Direct traffic' } },
    customData: { reason: 'manual sync' },
  };
}

function expectEvent(result: WorkflowParseResult): GhlWorkflowEvent {
  assert.equal(result.kind, 'event', JSON.stringify(result));
  if (result.kind !== 'event') throw new Error('unreachable');
  return result.event;
}

function issuePaths(result: WorkflowParseResult): string[] {
  assert.equal(result.kind, 'invalid', JSON.stringify(result));
  return result.kind === 'invalid' ? result.issues.map((issue) => issue.path) : [];
}

describe('parseGhlWorkflowPayload', () => {
  test('a realistic payload becomes a ContactUpdate-like event from the workflow source', () => {
    const event = expectEvent(parseGhlWorkflowPayload(realisticPayload()));
    assert.deepEqual(event, {
      type: 'ContactUpdate',
      origin: 'workflow',
      locationId: 've9EPM428h8vShlRW1KT',
      id: 'nmFmQEsNgz6AVpgLVUJ0',
      email: 'ada@example.com',
      firstName: 'Ada',
      lastName: 'Lovelace',
      name: 'Ada Lovelace',
      phone: '+15550100',
      tags: ['vip', 'review-request'],
      country: 'GB',
      timezone: 'Europe/London',
      dateAdded: '2026-01-05T10:00:00.000Z',
      source: 'website form',
      contactType: 'lead',
      locationName: 'Example Shop',
      workflow: { id: '8d2f1c1e-7f6a-4b7e-9b0a-1f2e3d4c5b6a', name: 'Send to bridge' },
      customFieldsByName: { 'Favourite Colour': 'blue' },
      customData: { reason: 'manual sync' },
      triggerData: {},
    });
    assert.deepEqual(GhlWorkflowEventSchema.parse(event), event, 'the normalised event satisfies its own schema');
  });

  test('missing location.id is invalid with that path', () => {
    const payload = realisticPayload();
    payload['location'] = { name: 'Example Shop' };
    assert.deepEqual(issuePaths(parseGhlWorkflowPayload(payload)), ['location.id']);
    delete payload['location'];
    assert.deepEqual(issuePaths(parseGhlWorkflowPayload(payload)), ['location.id']);
    payload['location'] = { id: '' };
    assert.deepEqual(issuePaths(parseGhlWorkflowPayload(payload)), ['location.id']);
  });

  test('a location id of the wrong type or alphabet is invalid with its path', () => {
    const payload = realisticPayload();
    payload['location'] = { id: 42 };
    assert.deepEqual(issuePaths(parseGhlWorkflowPayload(payload)), ['location.id']);
    payload['location'] = { id: '../x' };
    assert.deepEqual(issuePaths(parseGhlWorkflowPayload(payload)), ['location.id']);
  });

  test('the contact id may come as contactId or customData.contactId', () => {
    const base = realisticPayload();
    delete base['contact_id'];
    assert.equal(expectEvent(parseGhlWorkflowPayload({ ...base, contactId: 'c2' })).id, 'c2');
    assert.equal(expectEvent(parseGhlWorkflowPayload({ ...base, customData: { contactId: 'c3' } })).id, 'c3');
    assert.equal(expectEvent(parseGhlWorkflowPayload({ ...base, customData: { contact_id: 'c4' } })).id, 'c4');
    assert.equal(expectEvent(parseGhlWorkflowPayload({ ...base, contact_id: 'c1', customData: { contactId: 'c3' } })).id, 'c1', 'contact_id wins');
  });

  test('no contact id anywhere is invalid with a clear path', () => {
    const payload = realisticPayload();
    delete payload['contact_id'];
    const result = parseGhlWorkflowPayload(payload);
    assert.deepEqual(issuePaths(result), ['contact_id']);
    if (result.kind === 'invalid') assert.match(result.issues[0]?.message ?? '', /customData\.contactId/);
    assert.deepEqual(issuePaths(parseGhlWorkflowPayload({ ...payload, contact_id: '' })), ['contact_id'], 'an unset merge field');
  });

  test('a custom webhook body with only the ids is enough (location id at the top level or in customData)', () => {
    assert.deepEqual(parseGhlWorkflowPayload({ contactId: 'c1', locationId: 'l1' }), {
      kind: 'event',
      event: { type: 'ContactUpdate', origin: 'workflow', locationId: 'l1', id: 'c1' },
    });
    assert.equal(expectEvent(parseGhlWorkflowPayload({ customData: { contactId: 'c1', locationId: 'l2' } })).locationId, 'l2');
  });

  test('blank merge fields are absent, tags may be an array', () => {
    const event = expectEvent(parseGhlWorkflowPayload({ ...realisticPayload(), email: '', first_name: null, tags: [' a ', 'b', ''] }));
    assert.equal('email' in event, false);
    assert.equal('firstName' in event, false);
    assert.deepEqual(event.tags, ['a', 'b']);
    assert.deepEqual(expectEvent(parseGhlWorkflowPayload({ ...realisticPayload(), tags: '' })).tags, undefined);
  });

  test('wrong types are invalid with their paths', () => {
    assert.deepEqual(issuePaths(parseGhlWorkflowPayload({ ...realisticPayload(), email: 5 })), ['email']);
    assert.deepEqual(issuePaths(parseGhlWorkflowPayload({ ...realisticPayload(), tags: 7 })), ['tags']);
    assert.deepEqual(issuePaths(parseGhlWorkflowPayload({ ...realisticPayload(), workflow: 'wf' })), ['workflow']);
    assert.deepEqual(issuePaths(parseGhlWorkflowPayload({ ...realisticPayload(), customData: [1] })), ['customData']);
    assert.deepEqual(issuePaths(parseGhlWorkflowPayload({ ...realisticPayload(), contact_id: 'a b' })), ['contact_id']);
  });

  test('size bounds hold: long text, too many tags, too many custom values', () => {
    assert.deepEqual(issuePaths(parseGhlWorkflowPayload({ ...realisticPayload(), first_name: 'x'.repeat(2_049) })), ['first_name']);
    const tags = Array.from({ length: 1001 }, (_, i) => `t${i}`);
    assert.deepEqual(issuePaths(parseGhlWorkflowPayload({ ...realisticPayload(), tags: tags.join(',') })), ['tags']);
    const many: Record<string, unknown> = realisticPayload();
    for (let i = 0; i < 1001; i += 1) many[`Field ${i}`] = 'v';
    assert.equal(parseGhlWorkflowPayload(many).kind, 'invalid');
  });

  test('a body that is not an object is invalid', () => {
    for (const body of [null, undefined, [], 'text', 3]) {
      assert.equal(parseGhlWorkflowPayload(body).kind, 'invalid', JSON.stringify(body) ?? 'undefined');
    }
  });
});
