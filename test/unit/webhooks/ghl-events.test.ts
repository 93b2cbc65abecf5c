import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import {
  GHL_EVENT_TYPES,
  checkTimestamp,
  eventContactId,
  eventEntityId,
  eventLocationId,
  parseGhlEvent,
  type GhlEvent,
  type GhlEventType,
  type ParseResult,
} from '../../../src/webhooks/ghl-events.js';
import { loadGhlFixture } from '../../helpers/ghl-signing.js';

const FIXTURE_NAMES = readdirSync(new URL('../../fixtures/ghl/', import.meta.url))
  .filter((file) => file.endsWith('.example.json'))
  .map((file) => file.slice(0, -'.example.json'.length));

function fixture(name: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { ...loadGhlFixture(name), ...overrides };
}

function expectEvent(result: ParseResult): GhlEvent {
  assert.equal(result.kind, 'event', JSON.stringify(result));
  if (result.kind !== 'event') throw new Error('unreachable');
  return result.event;
}

function issuePaths(result: ParseResult): string[] {
  assert.equal(result.kind, 'invalid', JSON.stringify(result));
  return result.kind === 'invalid' ? result.issues.map((issue) => issue.path) : [];
}

function without(record: Record<string, unknown>, key: string): Record<string, unknown> {
  const copy = { ...record };
  delete copy[key];
  return copy;
}

/** The fixture file that documents each event type (AppInstall and AppUninstall have several). */
const FIXTURE_FOR: Record<GhlEventType, string> = {
  ContactCreate: 'ContactCreate',
  ContactUpdate: 'ContactUpdate',
  ContactDelete: 'ContactDelete',
  ContactTagUpdate: 'ContactTagUpdate',
  ContactDndUpdate: 'ContactDndUpdate',
  NoteCreate: 'NoteCreate',
  NoteUpdate: 'NoteUpdate',
  NoteDelete: 'NoteDelete',
  TaskCreate: 'TaskCreate',
  TaskComplete: 'TaskComplete',
  TaskDelete: 'TaskDelete',
  AppInstall: 'AppInstall.location-whitelabeled',
  AppUninstall: 'AppUninstall.location',
};

const REQUIRED: Record<GhlEventType, string[]> = {
  ContactCreate: ['locationId', 'id'],
  ContactUpdate: ['locationId', 'id'],
  ContactDelete: ['locationId', 'id'],
  ContactTagUpdate: ['locationId', 'id'],
  ContactDndUpdate: ['locationId', 'id'],
  NoteCreate: ['locationId', 'id', 'contactId'],
  NoteUpdate: ['locationId', 'id', 'contactId'],
  NoteDelete: ['locationId', 'id', 'contactId'],
  TaskCreate: ['locationId', 'id'],
  TaskComplete: ['locationId', 'id'],
  TaskDelete: ['locationId', 'id'],
  AppInstall: [],
  AppUninstall: [],
};

describe('parseGhlEvent: documented examples', () => {
  test('there is a fixture for every accepted event type', () => {
    assert.equal(FIXTURE_NAMES.length, 16);
    for (const type of GHL_EVENT_TYPES) assert.ok(FIXTURE_NAMES.includes(FIXTURE_FOR[type]), type);
  });

  test('every fixture parses to its own type', () => {
    for (const name of FIXTURE_NAMES) {
      const event = expectEvent(parseGhlEvent(fixture(name)));
      assert.equal(event.type, name.split('.')[0], name);
    }
  });

  test('every fixture with the envelope GHL adds (webhookId, timestamp, appId, versionId) still parses and keeps it', () => {
    for (const name of FIXTURE_NAMES) {
      const event = expectEvent(parseGhlEvent(fixture(name, { webhookId: 'wh-1', timestamp: '2025-01-28T14:35:00Z', appId: 'app1', versionId: 'v1' })));
      assert.equal(event.webhookId, 'wh-1', name);
      assert.equal(event.timestamp, '2025-01-28T14:35:00Z', name);
      assert.equal(event.versionId, 'v1', name);
    }
  });

  test('fields are carried through', () => {
    const event = expectEvent(parseGhlEvent(fixture('ContactUpdate')));
    assert.equal(event.type, 'ContactUpdate');
    if (event.type !== 'ContactUpdate') return;
    assert.equal(event.email, 'JohnDeo@gmail.comm');
    assert.deepEqual(event.tags, ['id magna sed Lorem', 'Duis dolor commodo aliqua']);
    assert.deepEqual(event.customFields, [{ id: 'BcdmQEsNgz6AVpgLVUJ0', value: 'XYZ Corp' }]);
    assert.equal(event.dnd, true);
  });
});

describe('parseGhlEvent: required fields', () => {
  test('each required field, when missing, makes the event invalid with that path', () => {
    for (const type of GHL_EVENT_TYPES) {
      for (const field of REQUIRED[type]) {
        const result = parseGhlEvent(without(fixture(FIXTURE_FOR[type]), field));
        assert.deepEqual(issuePaths(result), [field], `${type} without ${field}`);
        if (result.kind === 'invalid') assert.equal(result.issues[0]?.message, 'is required');
      }
    }
  });

  test('a required field that is null or empty is invalid', () => {
    assert.deepEqual(issuePaths(parseGhlEvent(fixture('ContactUpdate', { id: null }))), ['id']);
    assert.deepEqual(issuePaths(parseGhlEvent(fixture('NoteCreate', { contactId: '' }))), ['contactId']);
  });

  test('a missing type is invalid with path type', () => {
    assert.deepEqual(issuePaths(parseGhlEvent(without(fixture('ContactUpdate'), 'type'))), ['type']);
  });

  test('install events need a locationId or, for agency installs, a companyId', () => {
    for (const name of ['AppInstall.location-whitelabeled', 'AppUninstall.location']) {
      const bare = without(without(fixture(name), 'locationId'), 'companyId');
      assert.deepEqual(issuePaths(parseGhlEvent(bare)), ['locationId'], name);
    }
    expectEvent(parseGhlEvent({ type: 'UNINSTALL', companyId: 'comp1' }));
    expectEvent(parseGhlEvent({ type: 'UNINSTALL', locationId: 'loc1' }));
  });

  test('TaskCreate without contactId or body (a known GHL gap) is accepted', () => {
    const event = expectEvent(parseGhlEvent(without(without(fixture('TaskCreate'), 'contactId'), 'body')));
    assert.equal(event.type, 'TaskCreate');
    assert.equal(eventContactId(event), undefined);
    assert.equal(eventEntityId(event), 'UlRWGLSXh0ji5qbiGu4i');
  });
});

describe('parseGhlEvent: wrong types', () => {
  test('each wrong field is reported with its path', () => {
    const cases: Array<[string, Record<string, unknown>, string[]]> = [
      ['ContactUpdate', { id: 123 }, ['id']],
      ['ContactUpdate', { locationId: ['a'] }, ['locationId']],
      ['ContactUpdate', { tags: 'vip' }, ['tags']],
      ['ContactUpdate', { tags: ['ok', 7] }, ['tags.1']],
      ['ContactUpdate', { dnd: 'yes' }, ['dnd']],
      ['ContactUpdate', { email: { address: 'x' } }, ['email']],
      ['ContactUpdate', { customFields: [{ id: 'f1', value: 'a' }, { id: 5, value: 'b' }] }, ['customFields.1.id']],
      ['ContactUpdate', { customFields: [{ value: 'b' }] }, ['customFields.0.id']],
      ['ContactUpdate', { customFields: { id: 'f1' } }, ['customFields']],
      ['ContactDndUpdate', { dndSettings: { SMS: { status: 1 } } }, ['dndSettings.SMS.status']],
      ['NoteCreate', { body: 42 }, ['body']],
      ['TaskComplete', { contactId: 9, dueDate: false }, ['contactId', 'dueDate']],
      ['AppInstall.location-whitelabeled', { trial: { onTrial: 'yes' } }, ['trial.onTrial']],
      ['ContactUpdate', { webhookId: 7, timestamp: 1_700_000_000_000 }, ['webhookId', 'timestamp']],
    ];
    for (const [name, overrides, paths] of cases) {
      assert.deepEqual(issuePaths(parseGhlEvent(fixture(name, overrides))).sort(), [...paths].sort(), `${name} ${JSON.stringify(overrides)}`);
    }
  });

  test('ids outside the GHL id alphabet are refused (they end up in URL paths and Redis keys)', () => {
    for (const id of ['../admin', 'a/b', 'a b', 'a:b', 'ü1', '']) {
      assert.deepEqual(issuePaths(parseGhlEvent(fixture('ContactUpdate', { id }))), ['id'], JSON.stringify(id));
    }
    assert.deepEqual(issuePaths(parseGhlEvent(fixture('NoteUpdate', { contactId: 'x?y=1' }))), ['contactId']);
  });
});

describe('parseGhlEvent: tolerance', () => {
  test('unknown extra fields are kept, including unknown DND channels', () => {
    const event = expectEvent(
      parseGhlEvent(fixture('ContactDndUpdate', { brandNewField: { nested: true }, dndSettings: { RCS: { status: 'active' }, SMS: { status: 'inactive' } } })),
    );
    assert.deepEqual(event['brandNewField'], { nested: true });
    assert.equal(event.type, 'ContactDndUpdate');
    if (event.type !== 'ContactDndUpdate') return;
    assert.deepEqual(event.dndSettings?.['RCS'], { status: 'active' });
  });

  test('null in an optional field is read as absent', () => {
    const event = expectEvent(parseGhlEvent(fixture('ContactUpdate', { assignedTo: null, email: null, tags: null, customFields: [{ id: 'f1', value: null }] })));
    assert.equal(event.type, 'ContactUpdate');
    if (event.type !== 'ContactUpdate') return;
    assert.equal(event.assignedTo, undefined);
    assert.equal(event.email, undefined);
    assert.equal(event.tags, undefined);
    assert.equal(event.customFields?.[0]?.value, undefined);
  });

  test('custom field values may be strings, numbers, booleans, arrays or objects', () => {
    const customFields = [
      { id: 'f1', value: 'text' },
      { id: 'f2', value: 4.5 },
      { id: 'f3', value: true },
      { id: 'f4', value: ['a', 'b'] },
      { id: 'f5', value: { url: 'https://example.com/file.pdf' } },
    ];
    const event = expectEvent(parseGhlEvent(fixture('ContactCreate', { customFields })));
    assert.equal(event.type, 'ContactCreate');
    if (event.type === 'ContactCreate') assert.deepEqual(event.customFields, customFields);
  });

  test('a minimal event (only the required fields) parses', () => {
    expectEvent(parseGhlEvent({ type: 'ContactDelete', locationId: 'loc1', id: 'c1' }));
    expectEvent(parseGhlEvent({ type: 'NoteDelete', locationId: 'loc1', id: 'n1', contactId: 'c1' }));
  });
});

describe('parseGhlEvent: types and bodies', () => {
  test('INSTALL and UNINSTALL on the wire are normalised to AppInstall and AppUninstall', () => {
    assert.equal(expectEvent(parseGhlEvent(fixture('AppInstall.agency'))).type, 'AppInstall');
    assert.equal(expectEvent(parseGhlEvent(fixture('AppUninstall.agency'))).type, 'AppUninstall');
  });

  test('the event names AppInstall and AppUninstall are accepted as well', () => {
    assert.equal(expectEvent(parseGhlEvent(fixture('AppInstall.agency', { type: 'AppInstall' }))).type, 'AppInstall');
    assert.equal(expectEvent(parseGhlEvent(fixture('AppUninstall.location', { type: 'AppUninstall' }))).type, 'AppUninstall');
  });

  test('an unknown type is reported as such, not as invalid', () => {
    assert.deepEqual(parseGhlEvent({ type: 'OpportunityCreate', locationId: 'loc1', id: 'o1' }), { kind: 'unknown-type', type: 'OpportunityCreate' });
    assert.deepEqual(parseGhlEvent({ type: 'contactcreate' }), { kind: 'unknown-type', type: 'contactcreate' });
    assert.deepEqual(parseGhlEvent({ type: 'TaskUpdate' }), { kind: 'unknown-type', type: 'TaskUpdate' });
  });

  test('a body that is not an object, or has no string type, is invalid with path type', () => {
    for (const body of [null, undefined, [], [{ type: 'ContactUpdate' }], 'ContactUpdate', 42, true, {}, { type: 5 }, { type: null }, { type: '' }]) {
      assert.deepEqual(issuePaths(parseGhlEvent(body)), ['type'], JSON.stringify(body) ?? 'undefined');
    }
  });

  test('an absurdly long type is invalid rather than echoed back', () => {
    assert.deepEqual(issuePaths(parseGhlEvent({ type: 'X'.repeat(10_000) })), ['type']);
  });
});

describe('parseGhlEvent: size bounds', () => {
  test('huge strings are rejected with their path', () => {
    const cases: Array<[string, Record<string, unknown>, string]> = [
      ['NoteCreate', { body: 'x'.repeat(100_001) }, 'body'],
      ['ContactUpdate', { id: 'a'.repeat(129) }, 'id'],
      ['ContactUpdate', { locationId: 'a'.repeat(129) }, 'locationId'],
      ['ContactUpdate', { firstName: 'x'.repeat(2_049) }, 'firstName'],
      ['ContactUpdate', { customFields: [{ id: 'f1', value: 'x'.repeat(100_001) }] }, 'customFields.0.value'],
      ['TaskCreate', { title: 'x'.repeat(100_001) }, 'title'],
      ['ContactUpdate', { webhookId: 'w'.repeat(257) }, 'webhookId'],
    ];
    for (const [name, overrides, path] of cases) {
      assert.deepEqual(issuePaths(parseGhlEvent(fixture(name, overrides))), [path], path);
    }
  });

  test('limits are inclusive: the largest allowed values pass', () => {
    expectEvent(parseGhlEvent(fixture('NoteCreate', { body: 'x'.repeat(100_000), id: 'a'.repeat(128) })));
    expectEvent(parseGhlEvent(fixture('ContactUpdate', { tags: Array.from({ length: 1000 }, (_, i) => `t${i}`) })));
  });

  test('too many tags or custom fields are rejected', () => {
    const tags = Array.from({ length: 1001 }, (_, i) => `t${i}`);
    assert.deepEqual(issuePaths(parseGhlEvent(fixture('ContactTagUpdate', { tags }))), ['tags']);
    const customFields = Array.from({ length: 1001 }, (_, i) => ({ id: `f${i}`, value: i }));
    assert.deepEqual(issuePaths(parseGhlEvent(fixture('ContactUpdate', { customFields }))), ['customFields']);
  });

  test('the issue list is capped so a hostile body cannot produce a huge reply', () => {
    const customFields = Array.from({ length: 500 }, () => ({ id: 1 }));
    const result = parseGhlEvent(fixture('ContactUpdate', { customFields }));
    assert.equal(result.kind, 'invalid');
    if (result.kind === 'invalid') assert.equal(result.issues.length, 50);
  });
});

describe('eventContactId, eventEntityId, eventLocationId', () => {
  test('contact events concern their own id; note and task events their contactId; install events no contact', () => {
    const contact = expectEvent(parseGhlEvent(fixture('ContactTagUpdate')));
    assert.equal(eventContactId(contact), 'nmFmQEsNgz6AVpgLVUJ0');
    assert.equal(eventEntityId(contact), 'nmFmQEsNgz6AVpgLVUJ0');
    assert.equal(eventLocationId(contact), 've9EPM428h8vShlRW1KT');

    const note = expectEvent(parseGhlEvent(fixture('NoteUpdate')));
    assert.equal(eventContactId(note), 'CWBf1PR9LvvBkcYqiXlc');
    assert.equal(eventEntityId(note), 'otg8dTQqGLh3Q6iQI55w');

    const task = expectEvent(parseGhlEvent(fixture('TaskComplete')));
    assert.equal(eventContactId(task), 'WFwVrSSjZ2CNHbZThQX2');
    assert.equal(eventEntityId(task), '5HrB1IbmnKMBXloldFuP');

    const install = expectEvent(parseGhlEvent(fixture('AppInstall.location-non-whitelabeled', { locationId: 'loc9' })));
    assert.equal(eventContactId(install), undefined);
    assert.equal(eventEntityId(install), 'loc9');

    const agency = expectEvent(parseGhlEvent(fixture('AppInstall.agency')));
    assert.equal(eventEntityId(agency), 'otg8dTQqGLh3Q6iQI55w');
    assert.equal(eventLocationId(agency), undefined);
  });
});

describe('checkTimestamp', () => {
  const now = Date.parse('2026-03-01T12:00:00.000Z');

  test('a missing timestamp is ok', () => {
    assert.equal(checkTimestamp(undefined, now), 'ok');
  });

  test('now, slightly ahead (clock skew) and old timestamps are ok', () => {
    assert.equal(checkTimestamp('2026-03-01T12:00:00.000Z', now), 'ok');
    assert.equal(checkTimestamp('2026-03-01T12:04:59.000Z', now), 'ok');
    assert.equal(checkTimestamp('2026-03-01T12:05:00.000Z', now), 'ok');
    assert.equal(checkTimestamp('2026-02-28T12:00:00Z', now), 'ok');
    assert.equal(checkTimestamp('2020-01-01T00:00:00Z', now), 'ok');
  });

  test('more than 5 minutes in the future is future', () => {
    assert.equal(checkTimestamp('2026-03-01T12:05:00.001Z', now), 'future');
    assert.equal(checkTimestamp('2026-03-01T13:00:00Z', now), 'future');
    assert.equal(checkTimestamp('2030-01-01T00:00:00Z', now), 'future');
  });

  test('offsets are honoured', () => {
    assert.equal(checkTimestamp('2026-03-01T13:04:00+01:00', now), 'ok');
    assert.equal(checkTimestamp('2026-03-01T13:10:00+01:00', now), 'future');
    assert.equal(checkTimestamp('2026-03-01T08:00:00-05:00', now), 'future');
  });

  test('anything that is not an ISO date-time with a zone is unparseable', () => {
    for (const value of ['', 'yesterday', '1700000000000', '2026-03-01', '2026-03-01T12:00:00', '2026-13-45T99:99:99Z', 'Sun, 01 Mar 2026 12:00:00 GMT']) {
      assert.equal(checkTimestamp(value, now), 'unparseable', value);
    }
  });
});
