/**
 * The fast path of GHL event validation against the schemas it stands in for: whatever it accepts, the
 * schemas accept with the same output; the fixtures (plain events) are accepted by it; and the
 * anomalies (null, DND settings, structured custom field values, installs) are left to zod.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { z } from 'zod';
import { acceptsAsIs } from '../../../src/webhooks/ghl-event-fast-path.js';
import * as events from '../../../src/webhooks/ghl-events.js';
import { badId, createRng, fuzzSeed, nonString, randomJson, unicodeText, validId, type Rng } from '../../helpers/fuzz.js';
import { loadGhlFixture } from '../../helpers/ghl-signing.js';

const SCHEMAS: Record<string, z.ZodType> = {
  ContactCreate: events.ContactCreateSchema,
  ContactUpdate: events.ContactUpdateSchema,
  ContactDelete: events.ContactDeleteSchema,
  ContactTagUpdate: events.ContactTagUpdateSchema,
  ContactDndUpdate: events.ContactDndUpdateSchema,
  NoteCreate: events.NoteCreateSchema,
  NoteUpdate: events.NoteUpdateSchema,
  NoteDelete: events.NoteDeleteSchema,
  TaskCreate: events.TaskCreateSchema,
  TaskComplete: events.TaskCompleteSchema,
  TaskDelete: events.TaskDeleteSchema,
  AppInstall: events.AppInstallSchema,
  AppUninstall: events.AppUninstallSchema,
};
const PLAIN_TYPES = Object.keys(SCHEMAS).filter((type) => !type.startsWith('App'));
const FIELDS = [
  'locationId', 'id', 'contactId', 'webhookId', 'timestamp', 'appId', 'versionId', 'email', 'name', 'phone', 'tags', 'dnd', 'dateAdded',
  'customFields', 'attachments', 'assignedTo', 'body', 'title', 'dueDate', 'dndSettings', 'website', 'unknownField', '__proto__',
];

/** The same check the route makes: fast path first; when it accepts, zod must agree exactly. */
function assertAgrees(type: string, body: Record<string, unknown>): boolean {
  const fast = acceptsAsIs(type, body);
  if (fast) {
    const schema = SCHEMAS[type];
    assert.ok(schema, type);
    const result = schema.safeParse(body);
    assert.ok(result.success, `the fast path accepted what zod refuses: ${type} ${JSON.stringify(body).slice(0, 400)} ${result.error?.message ?? ''}`);
    assert.deepStrictEqual(result.data, body, `zod changes what the fast path keeps as is: ${JSON.stringify(body).slice(0, 400)}`);
  }
  return fast;
}

function mutatedValue(rng: Rng): unknown {
  switch (rng.int(0, 12)) {
    case 0: return null;
    case 1: return validId(rng);
    case 2: return badId(rng);
    case 3: return nonString(rng, true);
    case 4: return randomJson(rng);
    case 5: return unicodeText(rng, rng.pick([0, 1, 64, 65, 128, 129, 256, 257, 2_048, 2_049]));
    case 6: return 'x'.repeat(rng.pick([100_000, 100_001]));
    case 7: return Array.from({ length: rng.pick([0, 1, 3, 1_000, 1_001]) }, () => rng.pick<unknown>(['tag', validId(rng), 1, null, 'x'.repeat(2_049)]));
    case 8: return [{ id: rng.bool(0.8) ? validId(rng) : badId(rng), ...(rng.bool() ? { value: rng.pick<unknown>([1, 'v', true, null, [], {}, ['a'], { a: 1 }, 'x'.repeat(100_001), 1.5]) } : {}) }];
    case 9: return { SMS: { status: 'active' } };
    case 10: return rng.bool();
    case 11: return new Date(rng.int(0, 2e12)).toISOString();
    default: return undefined;
  }
}

describe('acceptsAsIs (the zod-free fast path of GHL event validation)', () => {
  test('accepts every plain fixture and agrees with zod on it', () => {
    for (const type of PLAIN_TYPES) {
      const body = { ...loadGhlFixture(type), type };
      if (type === 'ContactDndUpdate') continue;
      assert.equal(assertAgrees(type, body), true, `${type} fixture takes the fast path`);
    }
  });

  test('leaves null, DND settings, structured custom field values, installs and an own __proto__ to zod', () => {
    const base = { ...loadGhlFixture('ContactUpdate'), type: 'ContactUpdate' };
    assert.equal(acceptsAsIs('ContactUpdate', { ...base, email: null }), false);
    assert.equal(acceptsAsIs('ContactDndUpdate', { ...base, type: 'ContactDndUpdate', dndSettings: { SMS: { status: 'active' } } }), false);
    assert.equal(acceptsAsIs('ContactUpdate', { ...base, customFields: [{ id: 'abc', value: ['a'] }] }), false);
    assert.equal(acceptsAsIs('AppInstall', { ...loadGhlFixture('AppInstall.location-whitelabeled'), type: 'AppInstall' }), false);
    assert.equal(acceptsAsIs('ContactUpdate', JSON.parse(`{"__proto__":{"x":1},"type":"ContactUpdate","locationId":"l1","id":"c1"}`) as Record<string, unknown>), false);
    assert.equal(acceptsAsIs('Nonsense', base), false);
    assert.equal(acceptsAsIs('constructor', base), false);
  });

  test('whatever it accepts of 20,000 mutated events, zod accepts unchanged', () => {
    // A fixed seed under `npm test` (the same 20,000 events every run); FUZZ_SEED=random explores.
    const seed = fuzzSeed(20_000);
    const rng = createRng(seed);
    let fast = 0;
    for (let round = 0; round < 20_000; round++) {
      const type = rng.pick(PLAIN_TYPES);
      const body: Record<string, unknown> = { ...loadGhlFixture(type), type };
      for (let edits = rng.int(0, 3); edits > 0; edits--) {
        const field = rng.pick(FIELDS);
        const value = mutatedValue(rng);
        if (value === undefined || rng.bool(0.1)) Reflect.deleteProperty(body, field);
        else Object.defineProperty(body, field, { value, enumerable: true, writable: true, configurable: true });
      }
      try {
        if (assertAgrees(type, body)) fast++;
      } catch (error) {
        throw new Error(`seed ${seed}, round ${round}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
      }
    }
    assert.ok(fast > 1_000, `the fast path took ${fast} of 20,000`);
  });
});
