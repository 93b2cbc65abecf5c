/**
 * Fuzz: at least 10,000 generated and mutated webhook requests over real HTTP against one real bridge
 * (web mode, so nothing consumes the queues) and a real Redis. Per request: never a 5xx or a 429
 * (Redis is up), only documented statuses, a JSON body of the documented shape, and the outcome the
 * generator expects. After the run: every job in the ingest queues is one the bridge answered
 * `accepted` for an input built valid, and the process still answers /health.
 *
 * `npm test` runs it on a fixed seed (FIXED_SEED); `npm run fuzz` on a fresh one. Replay a failure
 * with `FUZZ_SEED=<seed printed> npm test -- test/fuzz/webhooks.fuzz.test.ts`; `FUZZ_COUNT` changes
 * the number of requests.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { Agent, request } from 'undici';
import { z } from 'zod';
import { ErrorReplySchema, WebhookReplySchema } from '../../src/http/schemas/common.js';
import { REQUEST_TIMEOUT_MS } from '../../src/http/server.js';
import { QUEUE_NAMES, type QueueName } from '../../src/queue/catalog.js';
import { inboxEntries } from '../helpers/inbox.js';
import { MAX_SHORT_TEXT_CHARS, MAX_TEXT_CHARS } from '../../src/webhooks/ghl-events.js';
import { startTestBridge, type TestBridge } from '../helpers/bridge.js';
import {
  badId,
  createRng,
  deepJson,
  flipBytes,
  fuzzCount,
  fuzzSeed,
  nonString,
  randomJson,
  runPool,
  unicodeText,
  validId,
  withInvalidUtf8,
  type Rng,
} from '../helpers/fuzz.js';
import { createTestSigner, loadGhlFixture, type SigningScheme, type TestSigner } from '../helpers/ghl-signing.js';
import { startRedisServer, type RedisServerHandle } from '../helpers/redis-server.js';
import { waitFor } from '../helpers/wait.js';

const DEFAULT_COUNT = 10_400;
/** The seed `npm test` runs: the same requests every run (test/helpers/fuzz.ts, fuzzSeed). */
const FIXED_SEED = 77_130_449;
/** Base-36 digits of a uid's counter: 36^6 ids, far more than any run makes. */
const UID_DIGITS = 6;
const UID_LIMIT = 36 ** UID_DIGITS;
const CONCURRENCY = 16;
const LOCATION_ID = 've9EPM428h8vShlRW1KT';
const OTHER_LOCATION_ID = 'notServedLocation0001';
const WORKFLOW_SECRET = 'fuzz-workflow-secret-0001';
const TRUSTPILOT_SECRET = 'fuzz-trustpilot-secret-0001';
const OPINIONSTAGE_SECRET = 'fuzz-opinionstage-secret-0001';
const BODY_LIMIT = 1024 * 1024;
const INGEST_QUEUES = [QUEUE_NAMES.ghlWebhooks, QUEUE_NAMES.trustpilotEvents, QUEUE_NAMES.opinionStageResponses] as const;

/** What a request ended as: the reply status for a 200, else the HTTP status. */
type Outcome = 'accepted' | 'duplicate' | 'ignored' | 400 | 401 | 413 | 415;
type Route = 'ghl' | 'workflow' | 'trustpilot' | 'opinionstage';

interface FuzzCase {
  route: Route;
  category: string;
  path: string;
  headers: Record<string, string | string[]>;
  body: Buffer;
  /** Built as a valid input: only such inputs may be queued. */
  valid: boolean;
  /** The outcomes the contract allows for this input. */
  allowed: readonly Outcome[];
  /** A redelivery: the case whose bytes it sends again. */
  original?: FuzzCase;
}

const DOCUMENTED_STATUSES = new Set([200, 400, 401, 403, 413, 415]);
const TrustpilotReplySchema = z.object({ status: z.enum(['accepted', 'duplicate', 'ignored']), events: z.array(WebhookReplySchema) });

const ACCEPT: readonly Outcome[] = ['accepted'];
const REDELIVERY: readonly Outcome[] = ['duplicate', 'accepted'];
/** Valid by the schema, but a parser may fairly refuse it (BOM, prototype keys, nesting 500+ deep). */
const ACCEPT_OR_400: readonly Outcome[] = ['accepted', 'duplicate', 400];
const BAD_REQUEST: readonly Outcome[] = [400];
const UNAUTHORIZED: readonly Outcome[] = [401];

// ---------------------------------------------------------------------------------------------
// Case generation
// ---------------------------------------------------------------------------------------------

interface Gen {
  rng: Rng;
  signer: TestSigner;
  /**
   * Unique within the run: webhook ids, response ids. Of one fixed length, so an id made of a uid and
   * more text cannot equal another's (a variable-length counter made `…n1` + `0x` equal `…n10` + `x`).
   */
  uid(): string;
  /** Recent valid cases per route, for redeliveries. */
  recent: Record<Route, FuzzCase[]>;
  /** An Ed25519 and an RSA signature of some other body. */
  foreign: Record<string, string>;
}

function remember(gen: Gen, fuzzCase: FuzzCase): FuzzCase {
  const list = gen.recent[fuzzCase.route];
  list.push(fuzzCase);
  if (list.length > 64) list.shift();
  return fuzzCase;
}

/** `{...}` text with `extra` (already JSON text, `"key":value`) spliced in at the start or the end. */
function splice(body: string, extra: string, at: 'start' | 'end'): string {
  if (at === 'start') return body === '{}' ? `{${extra}}` : `{${extra},${body.slice(1)}`;
  return body === '{}' ? `{${extra}}` : `${body.slice(0, -1)},${extra}}`;
}

const JSON_CONTENT_TYPES = ['application/json', 'application/json; charset=utf-8', 'APPLICATION/JSON', 'application/json;charset=UTF-8'] as const;
const NON_JSON_CONTENT_TYPES = [
  'text/plain',
  'application/x-www-form-urlencoded',
  'application/jsonx',
  'text/json',
  'application/vnd.api+json',
  'multipart/form-data; boundary=fuzz',
  'application/octet-stream',
] as const;

// --- GHL marketplace ---------------------------------------------------------------------------

type Family = 'contact' | 'note' | 'task' | 'install' | 'uninstall';
type Kind = 'id' | 'shortText' | 'text' | 'date' | 'ref' | 'bool' | 'tags' | 'customFields' | 'webhookId';

const FIXTURES: readonly { name: string; family: Family }[] = [
  { name: 'ContactCreate', family: 'contact' },
  { name: 'ContactUpdate', family: 'contact' },
  { name: 'ContactDelete', family: 'contact' },
  { name: 'ContactTagUpdate', family: 'contact' },
  { name: 'ContactDndUpdate', family: 'contact' },
  { name: 'NoteCreate', family: 'note' },
  { name: 'NoteUpdate', family: 'note' },
  { name: 'NoteDelete', family: 'note' },
  { name: 'TaskCreate', family: 'task' },
  { name: 'TaskComplete', family: 'task' },
  { name: 'TaskDelete', family: 'task' },
  { name: 'AppInstall.agency', family: 'install' },
  { name: 'AppInstall.location-whitelabeled', family: 'install' },
  { name: 'AppInstall.location-non-whitelabeled', family: 'install' },
  { name: 'AppUninstall.agency', family: 'uninstall' },
  { name: 'AppUninstall.location', family: 'uninstall' },
];

const ENVELOPE_FIELDS: Record<string, Kind> = { webhookId: 'webhookId', appId: 'ref', versionId: 'ref' };
const SHORT_TEXT_CONTACT_FIELDS = ['address1', 'city', 'state', 'companyName', 'country', 'source', 'email', 'name', 'firstName', 'lastName', 'phone', 'postalCode', 'website'];

/** The event schemas as the contract states them, written out independently of src/webhooks. */
const FAMILIES: Record<Family, { fields: Record<string, Kind>; required: readonly string[]; oneOf?: readonly [string, string] }> = {
  contact: {
    fields: {
      ...ENVELOPE_FIELDS,
      locationId: 'id',
      id: 'id',
      ...Object.fromEntries(SHORT_TEXT_CONTACT_FIELDS.map((field) => [field, 'shortText' as const])),
      dateAdded: 'date',
      dateOfBirth: 'date',
      dnd: 'bool',
      tags: 'tags',
      assignedTo: 'ref',
      customFields: 'customFields',
    },
    required: ['type', 'locationId', 'id'],
  },
  note: {
    fields: { ...ENVELOPE_FIELDS, locationId: 'id', id: 'id', contactId: 'id', body: 'text', dateAdded: 'date' },
    required: ['type', 'locationId', 'id', 'contactId'],
  },
  task: {
    fields: { ...ENVELOPE_FIELDS, locationId: 'id', id: 'id', contactId: 'id', assignedTo: 'ref', body: 'text', title: 'text', dateAdded: 'date', dueDate: 'date' },
    required: ['type', 'locationId', 'id'],
  },
  install: {
    fields: { ...ENVELOPE_FIELDS, locationId: 'id', companyId: 'id', userId: 'ref', planId: 'ref', installType: 'shortText', companyName: 'shortText', isWhitelabelCompany: 'bool' },
    required: ['type'],
    oneOf: ['locationId', 'companyId'],
  },
  uninstall: {
    fields: { ...ENVELOPE_FIELDS, locationId: 'id', companyId: 'id' },
    required: ['type'],
    oneOf: ['locationId', 'companyId'],
  },
};

const fixtureCache = new Map<string, Record<string, unknown>>();
function fixture(name: string): Record<string, unknown> {
  let loaded = fixtureCache.get(name);
  if (loaded === undefined) {
    loaded = loadGhlFixture(name);
    fixtureCache.set(name, loaded);
  }
  return structuredClone(loaded);
}

function requiredNow(family: Family, field: string, event: Record<string, unknown>): boolean {
  const spec = FAMILIES[family];
  if (spec.required.includes(field)) return true;
  if (spec.oneOf?.includes(field)) {
    const other = spec.oneOf[0] === field ? spec.oneOf[1] : spec.oneOf[0];
    return event[other] === undefined || event[other] === null;
  }
  return false;
}

function isoAgo(ms: number): string {
  return new Date(Date.now() - ms).toISOString();
}

function validValue(gen: Gen, kind: Kind, required: boolean): unknown {
  const { rng } = gen;
  if (!required && rng.bool(0.12)) return null;
  switch (kind) {
    case 'id':
      return validId(rng, rng.pick([1, 20, 24, 128, rng.int(2, 64)]));
    case 'shortText':
      return rng.pick([() => unicodeText(rng, rng.int(0, 64)), () => '', () => 'a'.repeat(MAX_SHORT_TEXT_CHARS), () => unicodeText(rng, MAX_SHORT_TEXT_CHARS)])();
    case 'text':
      return rng.bool(0.05) ? 'b'.repeat(MAX_TEXT_CHARS) : unicodeText(rng, rng.int(0, 400));
    case 'date':
      return rng.pick([isoAgo(rng.int(0, 1e11)), '', 'not a date at all', unicodeText(rng, rng.int(0, 64))]);
    case 'ref':
      return rng.bool() ? validId(rng) : unicodeText(rng, rng.int(0, 128));
    case 'bool':
      return rng.bool();
    case 'tags':
      return rng.bool(0.03)
        ? Array.from({ length: 1_000 }, (_, i) => `tag-${i}`)
        : Array.from({ length: rng.int(0, 6) }, () => unicodeText(rng, rng.int(0, 40)));
    case 'customFields':
      return Array.from({ length: rng.int(0, 4) }, () => ({
        id: validId(rng),
        value: rng.pick([() => unicodeText(rng, rng.int(0, 50)), () => rng.int(-1e6, 1e6), () => rng.bool(), () => [randomJson(rng, 2)], () => ({ k: randomJson(rng, 2) }), () => null])(),
      }));
    case 'webhookId':
      return `${gen.uid()}${unicodeText(rng, rng.int(0, 40))}`;
  }
}

function invalidValue(gen: Gen, kind: Kind): unknown {
  const { rng } = gen;
  switch (kind) {
    case 'id':
      return rng.bool(0.7) ? badId(rng) : nonString(rng);
    case 'shortText':
      return rng.pick([() => nonString(rng), () => 'x'.repeat(MAX_SHORT_TEXT_CHARS + 1), () => unicodeText(rng, 10_000)])();
    case 'text':
      return rng.bool() ? nonString(rng) : 'x'.repeat(MAX_TEXT_CHARS + 1);
    case 'date':
      return rng.bool() ? nonString(rng) : '2024-01-01T00:00:00.000Z'.padEnd(65, '0');
    case 'ref':
      return rng.bool() ? nonString(rng) : 'r'.repeat(rng.int(129, 2_000));
    case 'bool':
      return rng.pick(['true', 'false', 0, 1, [], {}, 'yes']);
    case 'tags':
      return rng.pick([
        () => 'a,b,c',
        () => [1, 2],
        () => [null],
        () => [{ tag: 'x' }],
        () => Array.from({ length: 1_001 }, (_, i) => `t${i}`),
        () => ['x'.repeat(MAX_SHORT_TEXT_CHARS + 1)],
        () => ({ 0: 'a' }),
        () => 42,
      ])();
    case 'customFields':
      return rng.pick([
        () => ({ id: validId(rng), value: 'x' }),
        () => [{ value: 'no id' }],
        () => [{ id: badId(rng), value: 'x' }],
        () => [{ id: validId(rng), value: 'x'.repeat(MAX_TEXT_CHARS + 1) }],
        () => Array.from({ length: 1_001 }, (_, i) => ({ id: `cf${i}` })),
        () => ['plain string'],
        () => 'XYZ Corp',
      ])();
    case 'webhookId':
      return rng.pick([() => '', () => 'w'.repeat(257), () => nonString(rng)])();
  }
}

interface BaseEvent {
  event: Record<string, unknown>;
  family: Family;
}

/** A documented example made unique (fresh ids, webhookId, timestamp): valid, for a served location. */
function baseEvent(gen: Gen): BaseEvent {
  const { rng } = gen;
  const picked = rng.pick(FIXTURES);
  const event = fixture(picked.name);
  event.webhookId = validValue(gen, 'webhookId', true);
  event.timestamp = isoAgo(rng.int(0, 3 * 86_400_000));
  if (picked.family === 'install' || picked.family === 'uninstall') {
    if (rng.bool()) event.type = picked.family === 'install' ? 'AppInstall' : 'AppUninstall';
  } else {
    event.id = validId(rng);
    if (picked.family !== 'contact') event.contactId = validId(rng);
  }
  // A few harmless changes so bodies differ in shape too.
  const fields = Object.keys(FAMILIES[picked.family].fields).filter((field) => field !== 'locationId' && field !== 'webhookId');
  for (let changes = rng.int(0, 2); changes > 0; changes--) {
    const field = rng.pick(fields);
    event[field] = validValue(gen, kindOf(picked.family, field), requiredNow(picked.family, field, event));
  }
  if (rng.bool(0.1)) delete event.webhookId;
  if (rng.bool(0.1)) event[`extra_${rng.int(0, 99)}`] = randomJson(rng, 3);
  return { event, family: picked.family };
}

function kindOf(family: Family, field: string): Kind {
  const kind = FAMILIES[family].fields[field];
  if (kind === undefined) throw new Error(`no kind for ${family}.${field}`);
  return kind;
}

function ghlCase(gen: Gen, category: string, body: Buffer | string, options: { valid: boolean; allowed: readonly Outcome[]; sign?: SigningScheme | false; headers?: Record<string, string | string[]>; contentType?: string | null }): FuzzCase {
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  const headers: Record<string, string | string[]> = {};
  if (options.contentType !== null) headers['content-type'] = options.contentType ?? 'application/json';
  if (options.sign !== false) Object.assign(headers, gen.signer.sign(bytes, options.sign ?? pickScheme(gen.rng)));
  Object.assign(headers, options.headers ?? {});
  return { route: 'ghl', category, path: '/webhooks/ghl', headers, body: bytes, valid: options.valid, allowed: options.allowed };
}

/** RSA-4096 signing costs milliseconds: mostly Ed25519, as GHL sends today. */
function pickScheme(rng: Rng): SigningScheme {
  const roll = rng.next();
  return roll < 0.94 ? 'ed25519' : roll < 0.97 ? 'both' : 'rsa';
}

const GHL_WEIGHTS = {
  valid: 12,
  unserved: 2,
  unknownType: 2,
  badType: 2,
  fieldRemoved: 6,
  wrongType: 12,
  validValue: 6,
  badId: 5,
  hugeStrings: 2,
  deep: 2.5,
  extremeDepth: 0.4,
  hugeArray: 2,
  duplicateKeys: 4,
  bom: 0.8,
  invalidUtf8: 2,
  truncated: 3,
  notObject: 2,
  proto: 2.5,
  timestamp: 4,
  unsigned: 3,
  wrongSignature: 4,
  garbageSignature: 4,
  contentType: 3,
  size: 0.35,
  byteFlip: 6,
  redelivery: 2,
} as const;

const KNOWN_WIRE_TYPES = new Set([...FIXTURES.map((entry) => entry.name.split('.')[0]), 'AppInstall', 'AppUninstall', 'INSTALL', 'UNINSTALL']);

function generateGhl(gen: Gen): FuzzCase {
  const { rng } = gen;
  const category = rng.weighted(GHL_WEIGHTS);
  const base = baseEvent(gen);
  const { event, family } = base;
  const fields = Object.keys(FAMILIES[family].fields);
  // Without a webhookId the bridge dedupes on the body's hash: a nonce keeps every body unique, not just probably so.
  const nonce = gen.uid();
  const text = () => JSON.stringify(event.webhookId === undefined ? { ...event, fuzzNonce: nonce } : event);
  const ok = (name: string, body: Buffer | string = text(), extra: Partial<Parameters<typeof ghlCase>[3]> = {}) =>
    remember(gen, ghlCase(gen, name, body, { valid: true, allowed: ACCEPT, ...extra }));
  const bad = (name: string, body: Buffer | string, allowed: readonly Outcome[] = BAD_REQUEST, extra: Partial<Parameters<typeof ghlCase>[3]> = {}) =>
    ghlCase(gen, name, body, { valid: false, allowed, ...extra });

  switch (category) {
    case 'valid':
      return ok('ghl.valid');
    case 'unserved':
      if (family === 'install' || family === 'uninstall') return ok('ghl.valid'); // lifecycle events are queued for any location
      event.locationId = rng.bool() ? OTHER_LOCATION_ID : validId(rng);
      return ghlCase(gen, 'ghl.unserved-location', text(), { valid: true, allowed: ['ignored'] });
    case 'unknownType': {
      let type = rng.pick([() => 'OpportunityCreate', () => 'contactcreate', () => 'install', () => 'AppointmentCreate', () => unicodeText(rng, rng.int(1, 128))])();
      if (KNOWN_WIRE_TYPES.has(type) || type.length === 0) type = 'InboundMessage';
      event.type = type;
      return ghlCase(gen, 'ghl.unknown-type', text(), { valid: true, allowed: ['ignored'] });
    }
    case 'badType':
      event.type = rng.pick([() => nonString(rng, true), () => '', () => 'T'.repeat(rng.int(129, 5_000))])();
      return bad('ghl.bad-type', text());
    case 'fieldRemoved': {
      const field = rng.pick(Object.keys(event));
      const required = requiredNow(family, field, event);
      delete event[field];
      return required ? bad('ghl.required-field-removed', text()) : ok('ghl.optional-field-removed');
    }
    case 'wrongType': {
      const field = rng.pick(fields);
      event[field] = invalidValue(gen, kindOf(family, field));
      return bad(`ghl.wrong-type.${kindOf(family, field)}`, text());
    }
    case 'validValue': {
      const candidates = family === 'install' || family === 'uninstall' ? fields : fields.filter((field) => field !== 'locationId');
      const field = rng.pick(candidates);
      event[field] = validValue(gen, kindOf(family, field), requiredNow(family, field, event));
      return ok(`ghl.valid-value.${kindOf(family, field)}`);
    }
    case 'badId': {
      const idFields = fields.filter((field) => kindOf(family, field) === 'id');
      event[rng.pick(idFields)] = badId(rng);
      return bad('ghl.bad-id', text());
    }
    case 'hugeStrings': {
      const shortFields = fields.filter((field) => kindOf(family, field) === 'shortText');
      const textFields = fields.filter((field) => kindOf(family, field) === 'text');
      const roll = rng.int(0, 2);
      if (roll === 0 && shortFields.length > 0) {
        event[rng.pick(shortFields)] = rng.bool() ? 'x'.repeat(10_000) : unicodeText(rng, 10_000);
        return bad('ghl.huge-string.short-text', text());
      }
      if (roll === 1 && textFields.length > 0) {
        const exact = rng.bool();
        event[rng.pick(textFields)] = 't'.repeat(exact ? MAX_TEXT_CHARS : MAX_TEXT_CHARS + 1);
        return exact ? ok('ghl.huge-string.text-at-limit') : bad('ghl.huge-string.text-over-limit', text());
      }
      event.fuzzNote = unicodeText(rng, 100_000);
      return ok('ghl.huge-string.unknown-field');
    }
    case 'deep': {
      const depth = rng.int(500, 3_000);
      const kind = rng.pick(['array', 'object', 'mixed'] as const);
      const roll = rng.int(0, 2);
      if (roll === 0) return ok('ghl.deep.unknown-field', splice(text(), `"fuzzDeep":${deepJson(depth, kind)}`, 'end'), { allowed: ACCEPT_OR_400 });
      if (roll === 1 && family === 'contact') {
        delete event.customFields;
        return ok('ghl.deep.custom-field-value', splice(text(), `"customFields":[{"id":"${validId(rng)}","value":${deepJson(depth, 'array')}}]`, 'end'), { allowed: ACCEPT_OR_400 });
      }
      const field = rng.pick(fields.filter((name) => !['tags', 'customFields'].includes(kindOf(family, name))));
      delete event[field];
      return bad('ghl.deep.known-field', splice(text(), `"${field}":${deepJson(depth, kind)}`, 'end'));
    }
    case 'extremeDepth':
      return remember(gen, ghlCase(gen, 'ghl.extreme-depth', splice(text(), `"fuzzDeep":${deepJson(rng.int(20_000, 60_000), 'array')}`, 'end'), { valid: true, allowed: ACCEPT_OR_400 }));
    case 'hugeArray': {
      const roll = rng.int(0, 2);
      if (roll === 0 && family === 'contact') {
        const over = rng.bool();
        event.tags = Array.from({ length: over ? 1_001 : 1_000 }, (_, i) => `t${i}`);
        return over ? bad('ghl.huge-array.tags-over-limit', text()) : ok('ghl.huge-array.tags-at-limit');
      }
      if (roll === 1 && family === 'contact') {
        event.customFields = Array.from({ length: 1_001 }, (_, i) => ({ id: `cf${i}`, value: i }));
        return bad('ghl.huge-array.custom-fields-over-limit', text());
      }
      return ok('ghl.huge-array.unknown-field', splice(text(), `"fuzzList":[${'0,'.repeat(rng.int(10_000, 100_000))}0]`, 'end'));
    }
    case 'duplicateKeys': {
      const idField = rng.pick(fields.filter((field) => kindOf(family, field) === 'id' && event[field] !== undefined));
      switch (rng.int(0, 3)) {
        case 0: // the last occurrence wins: a bad first copy is overridden
          return ok('ghl.duplicate-keys.bad-then-good', splice(text(), `"${idField}":${JSON.stringify(badId(rng))}`, 'start'));
        case 1:
          return bad('ghl.duplicate-keys.good-then-bad', splice(text(), `"${idField}":${JSON.stringify(badId(rng))}`, 'end'));
        case 2:
          return ok('ghl.duplicate-keys.type-overridden', splice(text(), '"type":"X"', 'start'));
        default:
          return ghlCase(gen, 'ghl.duplicate-keys.unknown-type-last', splice(text(), '"type":"X"', 'end'), { valid: true, allowed: ['ignored'] });
      }
    }
    case 'bom':
      return remember(gen, ghlCase(gen, 'ghl.bom', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text(), 'utf8')]), { valid: true, allowed: ACCEPT_OR_400 }));
    case 'invalidUtf8': {
      if (rng.bool()) {
        // Inside a string value: the bytes are not UTF-8, so the body is not JSON (RFC 8259 §8.1).
        event.fuzzText = `before-INVALIDUTF8-after-${gen.uid()}`;
        return bad('ghl.invalid-utf8.in-string', withInvalidUtf8(rng, text(), 'INVALIDUTF8'));
      }
      return bad('ghl.invalid-utf8.between-tokens', withInvalidUtf8(rng, text(), ':'));
    }
    case 'truncated': {
      const bytes = Buffer.from(text(), 'utf8');
      return bad('ghl.truncated', bytes.subarray(0, rng.int(0, bytes.length - 1)));
    }
    case 'notObject':
      return bad('ghl.not-an-object', rng.pick(['1', '-0.5e3', '"ContactCreate"', `[${text()}]`, 'null', 'true', '[]', '{}', '""', ' ']));
    case 'proto': {
      const payload = JSON.stringify({ locationId: 'x/y', id: '../z', type: 'ContactCreate', polluted: true });
      switch (rng.int(0, 3)) {
        case 0:
          return remember(gen, ghlCase(gen, 'ghl.proto.extra-__proto__', splice(text(), `"__proto__":${payload}`, 'end'), { valid: true, allowed: ACCEPT_OR_400 }));
        case 1:
          return remember(gen, ghlCase(gen, 'ghl.proto.extra-constructor', splice(text(), `"constructor":{"prototype":${payload}}`, 'end'), { valid: true, allowed: ACCEPT_OR_400 }));
        case 2: {
          // A required field only present on the "prototype": must not count as present.
          const field = family === 'install' || family === 'uninstall' ? 'type' : rng.pick(['id', 'locationId', 'type']);
          const value = event[field];
          delete event[field];
          if (family === 'install' || family === 'uninstall') {
            delete event.locationId;
            delete event.companyId;
          }
          return bad('ghl.proto.required-field-in-__proto__', splice(text(), `"__proto__":${JSON.stringify({ [field]: value, locationId: LOCATION_ID, companyId: LOCATION_ID })}`, 'end'));
        }
        default:
          delete event.type;
          return bad('ghl.proto.type-in-constructor', splice(text(), `"constructor":{"type":"ContactCreate","prototype":{"type":"ContactCreate"}}`, 'end'));
      }
    }
    case 'timestamp': {
      const roll = rng.int(0, 4);
      if (roll === 0) {
        event.timestamp = rng.pick([
          isoAgo(rng.int(0, 20 * 365 * 86_400_000)),
          isoAgo(-rng.int(0, 180_000)),
          '2000-01-01T00:00:00Z',
          '2021-11-26T12:41:02+05:30',
          '2021-11-26T12:41Z',
          isoAgo(rng.int(0, 1e9)).replace(/\.\d{3}Z$/, 'Z'),
        ]);
        return ok('ghl.timestamp.valid');
      }
      if (roll === 1) {
        event.timestamp = rng.pick([isoAgo(-rng.int(600_000, 1e12)), '9999-12-31T23:59:59Z', '2999-01-01T00:00:00.000+00:00']);
        return bad('ghl.timestamp.future', text(), UNAUTHORIZED);
      }
      if (roll === 2) {
        event.timestamp = rng.pick(['yesterday', '2024-01-01', '1700000000000', '2024-01-01T99:99:99Z', '2024-01-01 10:00:00Z', '', ' ', '２０２４-01-01T00:00:00Z', '2024-13-01T00:00:00Z']);
        return bad('ghl.timestamp.unparseable', text());
      }
      if (roll === 3) {
        event.timestamp = rng.bool() ? nonString(rng) : '2024-01-01T00:00:00.000Z'.padEnd(65, '1');
        return bad('ghl.timestamp.wrong-type', text());
      }
      event.timestamp = null;
      return ok('ghl.timestamp.null');
    }
    case 'unsigned': {
      const body = rng.bool() ? text() : rng.pick([() => JSON.stringify(randomJson(rng, 4)), () => unicodeText(rng, rng.int(0, 500))])();
      const headers: Record<string, string> = rng.bool(0.3) ? { 'x-signature': gen.foreign.ed25519 ?? '', 'x-hub-signature-256': 'sha256=00' } : {};
      return bad('ghl.unsigned', body, UNAUTHORIZED, { sign: false, headers });
    }
    case 'wrongSignature': {
      const body = text();
      switch (rng.int(0, 7)) {
        case 0:
          return bad('ghl.signature.foreign-ed25519', body, UNAUTHORIZED, { sign: false, headers: { 'x-ghl-signature': gen.foreign.ed25519 ?? '' } });
        case 1:
          return bad('ghl.signature.foreign-rsa', body, UNAUTHORIZED, { sign: false, headers: { 'x-wh-signature': gen.foreign.rsa ?? '' } });
        case 2: // a failing Ed25519 is not rescued by a valid RSA signature
          return bad('ghl.signature.bad-ed25519-good-rsa', body, UNAUTHORIZED, { sign: 'rsa', headers: { 'x-ghl-signature': Buffer.from(rng.string(64)).toString('base64') } });
        case 3:
          return ok('ghl.signature.na-ed25519-good-rsa', body, { sign: 'rsa', headers: { 'x-ghl-signature': rng.pick(['N/A', 'n/a', ' N/A ', '']) } });
        case 4: {
          const signature = gen.signer.sign(body, 'ed25519')['x-ghl-signature'] ?? '';
          return bad('ghl.signature.ed25519-in-rsa-header', body, UNAUTHORIZED, { sign: false, headers: { 'x-wh-signature': signature } });
        }
        case 5: {
          const signature = gen.signer.sign(body, 'ed25519')['x-ghl-signature'] ?? '';
          return ok('ghl.signature.padded-with-spaces', body, { sign: false, headers: { 'x-ghl-signature': `  ${signature} ` } });
        }
        case 6: {
          const signature = gen.signer.sign(body, 'ed25519')['x-ghl-signature'] ?? '';
          const url = signature.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
          return url === signature
            ? ok('ghl.signature.base64url', body, { sign: false, headers: { 'x-ghl-signature': url } })
            : bad('ghl.signature.base64url', body, UNAUTHORIZED, { sign: false, headers: { 'x-ghl-signature': url } });
        }
        default: {
          const signature = gen.signer.sign(body, 'ed25519')['x-ghl-signature'] ?? '';
          return ok('ghl.signature.mixed-case-header-name', body, { sign: false, headers: { 'X-GHL-Signature': signature } });
        }
      }
    }
    case 'garbageSignature': {
      const body = text();
      const valid = gen.signer.sign(body, 'ed25519')['x-ghl-signature'] ?? '';
      const header = rng.pick(['x-ghl-signature', 'x-wh-signature']);
      const value = rng.pick([
        () => Buffer.from(rng.string(rng.int(1, 700))).toString('base64'),
        () => rng.string(rng.int(1, 200), '!@#$%^&*()<>?;: ~`'),
        () => 'N/A',
        () => '',
        () => 'A'.repeat(rng.int(2_049, 9_000)),
        () => [valid, valid],
        () => [valid, 'N/A'],
        () => `${valid}=`,
        () => valid.slice(0, -4),
        () => `sha256=${valid}`,
        () => valid.toLowerCase(),
      ])();
      return bad('ghl.signature.garbage', body, UNAUTHORIZED, { sign: false, headers: { [header]: value } });
    }
    case 'contentType':
      if (rng.bool(0.4)) return ok('ghl.content-type.json-variant', text(), { contentType: rng.pick(JSON_CONTENT_TYPES) });
      return bad('ghl.content-type.not-json', text(), [415], { contentType: rng.bool(0.2) ? null : rng.pick(NON_JSON_CONTENT_TYPES) });
    case 'size': {
      const roll = rng.int(0, 2);
      const target = roll === 0 ? BODY_LIMIT - rng.int(0, 4_096) : BODY_LIMIT + rng.int(1, 4_096);
      const head = splice(text(), '"fuzzPadding":"', 'end').slice(0, -1);
      const body = `${head}${'p'.repeat(Math.max(0, target - Buffer.byteLength(head) - 2))}"}`;
      if (roll === 0) return ok('ghl.size.at-or-under-limit', body);
      return bad('ghl.size.over-limit', body, [413], { sign: rng.bool() ? 'ed25519' : false });
    }
    case 'byteFlip': {
      const bytes = Buffer.from(text(), 'utf8');
      const headers = gen.signer.sign(bytes, pickScheme(rng));
      return bad('ghl.byte-flip-after-signing', flipBytes(rng, bytes), UNAUTHORIZED, { sign: false, headers });
    }
    case 'redelivery': {
      const previous = gen.recent.ghl.filter((fuzzCase) => fuzzCase.allowed === ACCEPT);
      const again = previous.length > 0 ? rng.pick(previous) : undefined;
      if (again === undefined) return ok('ghl.valid');
      return { ...again, category: 'ghl.redelivery', allowed: REDELIVERY, original: again };
    }
  }
}

// --- GHL workflow ------------------------------------------------------------------------------

const WORKFLOW_TEXT_FIELDS = [
  'first_name', 'last_name', 'full_name', 'email', 'phone', 'country', 'timezone', 'date_created', 'date_of_birth', 'contact_source',
  'contact_type', 'full_address', 'company_name', 'address1', 'city', 'state', 'postal_code', 'website',
] as const;

function workflowPayload(gen: Gen, locationId = LOCATION_ID): Record<string, unknown> {
  const { rng } = gen;
  const payload: Record<string, unknown> = {};
  const contactId = validId(rng);
  const where = rng.int(0, 3);
  if (where === 0) payload.contactId = contactId;
  else if (where === 1) payload.customData = { contactId };
  else payload.contact_id = contactId;
  if (rng.bool(0.8)) payload.location = { id: locationId, name: unicodeText(rng, rng.int(0, 30)) };
  else payload.locationId = locationId;
  for (const field of WORKFLOW_TEXT_FIELDS) if (rng.bool(0.4)) payload[field] = rng.bool(0.15) ? '' : unicodeText(rng, rng.int(1, 40));
  if (rng.bool(0.5)) payload.tags = rng.bool() ? `${unicodeText(rng, 8)}, ${unicodeText(rng, 8)},` : [unicodeText(rng, 10), ' spaced '];
  if (rng.bool(0.3)) payload.workflow = { id: validId(rng), name: unicodeText(rng, 20) };
  if (rng.bool(0.3)) payload.triggerData = { fuzz: randomJson(rng, 2) };
  if (rng.bool(0.3)) payload.customData = { ...(isRecord(payload.customData) ? payload.customData : {}), note: unicodeText(rng, 20) };
  for (let extra = rng.int(0, 4); extra > 0; extra--) payload[`cf_${unicodeText(rng, rng.int(1, 12))}`] = randomJson(rng, 3);
  payload.nonce = gen.uid(); // a custom value: keeps each body unique (identical bodies within 10 minutes are one event)
  return payload;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function sharedSecretCase(
  gen: Gen,
  route: Exclude<Route, 'ghl'>,
  category: string,
  body: Buffer | string,
  options: { valid: boolean; allowed: readonly Outcome[]; token?: string | string[] | null; contentType?: string | null },
): FuzzCase {
  const { rng } = gen;
  const secret = route === 'workflow' ? WORKFLOW_SECRET : route === 'trustpilot' ? TRUSTPILOT_SECRET : OPINIONSTAGE_SECRET;
  const token = options.token === undefined ? secret : options.token;
  const headers: Record<string, string | string[]> = {};
  if (options.contentType !== null) headers['content-type'] = options.contentType ?? 'application/json';
  let path = route === 'workflow' ? '/webhooks/ghl/workflow' : `/webhooks/${route}`;
  if (token !== null) {
    if (Array.isArray(token)) path += `?${token.map((value) => `token=${encodeURIComponent(value)}`).join('&')}`;
    else if (rng.bool(0.6)) headers['x-webhook-token'] = token;
    else path += `?token=${encodeURIComponent(token)}`;
  }
  return { route, category, path, headers, body: typeof body === 'string' ? Buffer.from(body, 'utf8') : body, valid: options.valid, allowed: options.allowed };
}

function wrongToken(rng: Rng, secret: string): string {
  return rng.pick([
    () => `${secret}x`,
    () => secret.slice(0, -1),
    () => secret.toUpperCase(),
    () => `${secret} x`,
    () => rng.string(rng.int(1, 64)),
    () => 'A'.repeat(rng.int(1_000, 6_000)),
    () => 'null',
  ])();
}

const WORKFLOW_WEIGHTS = {
  valid: 14,
  unserved: 2,
  noToken: 4,
  wrongToken: 4,
  tokenArray: 1.5,
  wrongType: 10,
  missingIds: 4,
  badIds: 4,
  tooManyKeys: 0.4,
  manyKeysOk: 0.4,
  deep: 2,
  extremeDepth: 0.3,
  notObject: 2,
  truncated: 2,
  invalidUtf8: 1.5,
  contentType: 2,
  redelivery: 2,
  proto: 1.5,
  hugeStrings: 2,
  size: 0.2,
} as const;

function generateWorkflow(gen: Gen): FuzzCase {
  const { rng } = gen;
  const category = rng.weighted(WORKFLOW_WEIGHTS);
  const payload = workflowPayload(gen);
  const text = () => JSON.stringify(payload);
  const ok = (name: string, body: Buffer | string = text(), allowed: readonly Outcome[] = ACCEPT) =>
    remember(gen, sharedSecretCase(gen, 'workflow', name, body, { valid: true, allowed }));
  const bad = (name: string, body: Buffer | string = text(), allowed: readonly Outcome[] = BAD_REQUEST, token?: string | string[] | null) =>
    sharedSecretCase(gen, 'workflow', name, body, { valid: false, allowed, ...(token === undefined ? {} : { token }) });

  switch (category) {
    case 'valid':
      return ok('workflow.valid');
    case 'unserved':
      return sharedSecretCase(gen, 'workflow', 'workflow.unserved-location', JSON.stringify(workflowPayload(gen, OTHER_LOCATION_ID)), { valid: true, allowed: ['ignored'] });
    case 'noToken':
      return bad('workflow.no-token', text(), UNAUTHORIZED, null);
    case 'wrongToken':
      return bad('workflow.wrong-token', rng.bool() ? text() : unicodeText(rng, 50), UNAUTHORIZED, wrongToken(rng, WORKFLOW_SECRET));
    case 'tokenArray':
      if (rng.bool(0.3)) return remember(gen, sharedSecretCase(gen, 'workflow', 'workflow.token-repeated', text(), { valid: true, allowed: ACCEPT, token: [WORKFLOW_SECRET, WORKFLOW_SECRET] }));
      return bad('workflow.token-array', text(), UNAUTHORIZED, rng.pick([[WORKFLOW_SECRET, 'other'], ['other', WORKFLOW_SECRET], ['', WORKFLOW_SECRET]]));
    case 'wrongType': {
      const roll = rng.int(0, 7);
      if (roll <= 2) payload[rng.pick(WORKFLOW_TEXT_FIELDS)] = rng.bool(0.8) ? nonString(rng) : 'x'.repeat(MAX_SHORT_TEXT_CHARS + 1);
      else if (roll === 3) payload.location = rng.pick([() => 'somewhere', () => [LOCATION_ID], () => 5, () => ({ id: 5 })])();
      else if (roll === 4) payload.tags = rng.pick([() => [1], () => ({ a: 'b' }), () => 7, () => ['x'.repeat(MAX_SHORT_TEXT_CHARS + 1)], () => 'a,'.repeat(1_001)])();
      else if (roll === 5) payload.customData = rng.pick(['x', 5, [1], true]);
      else if (roll === 6) payload.triggerData = rng.pick(['x', 5, [1], true]);
      else payload.workflow = rng.pick([() => 'wf', () => ({ id: 5 }), () => ({ name: [] }), () => 3])();
      return bad('workflow.wrong-type');
    }
    case 'missingIds': {
      delete payload.contact_id;
      delete payload.contactId;
      delete payload.customData;
      if (rng.bool()) {
        delete payload.location;
        delete payload.locationId;
      }
      return bad('workflow.missing-ids');
    }
    case 'badIds': {
      const roll = rng.int(0, 2);
      if (roll === 0) payload.contact_id = badId(rng);
      else if (roll === 1) payload.location = { id: badId(rng) };
      else payload.customData = { contactId: badId(rng) };
      // A blank id is read as absent, which is only valid when another id is present.
      if (JSON.stringify(payload).includes('"contact_id":""') || JSON.stringify(payload).includes('"contactId":""')) {
        delete payload.contactId;
        delete payload.contact_id;
        delete payload.customData;
      }
      if (isRecord(payload.location) && payload.location.id === '') {
        delete payload.locationId;
        delete payload.location;
      }
      return bad('workflow.bad-id');
    }
    case 'tooManyKeys':
      for (let i = 0; i <= 1_000; i++) payload[`k${i}`] = i;
      return bad('workflow.too-many-custom-values');
    case 'manyKeysOk':
      for (const key of Object.keys(payload)) if (key.startsWith('cf_') || key === 'nonce') delete payload[key];
      for (let i = 0; i < 999; i++) payload[`k${i}`] = i;
      payload.nonce = gen.uid();
      return ok('workflow.many-custom-values-at-limit');
    case 'deep':
      return ok('workflow.deep.custom-value', splice(text(), `"cf_deep":${deepJson(rng.int(500, 3_000), rng.pick(['array', 'object', 'mixed'] as const))}`, 'end'), ACCEPT_OR_400);
    case 'extremeDepth':
      return ok('workflow.extreme-depth', splice(text(), `"cf_deep":${deepJson(rng.int(20_000, 60_000), 'array')}`, 'end'), ACCEPT_OR_400);
    case 'notObject':
      return bad('workflow.not-an-object', rng.pick(['1', '"x"', `[${text()}]`, 'null', 'false', '[]']));
    case 'truncated': {
      const bytes = Buffer.from(text(), 'utf8');
      return bad('workflow.truncated', bytes.subarray(0, rng.int(0, bytes.length - 1)));
    }
    case 'invalidUtf8':
      payload.first_name = `x-INVALIDUTF8-${gen.uid()}`;
      return bad('workflow.invalid-utf8.in-string', withInvalidUtf8(rng, text(), 'INVALIDUTF8'));
    case 'contentType':
      if (rng.bool(0.4)) return remember(gen, sharedSecretCase(gen, 'workflow', 'workflow.content-type.json-variant', text(), { valid: true, allowed: ACCEPT, contentType: rng.pick(JSON_CONTENT_TYPES) }));
      return sharedSecretCase(gen, 'workflow', 'workflow.content-type.not-json', text(), { valid: false, allowed: [415], contentType: rng.bool(0.2) ? null : rng.pick(NON_JSON_CONTENT_TYPES) });
    case 'redelivery': {
      const previous = gen.recent.workflow.filter((fuzzCase) => fuzzCase.allowed === ACCEPT);
      const again = previous.length > 0 ? rng.pick(previous) : undefined;
      if (again === undefined) return ok('workflow.valid');
      return { ...again, category: 'workflow.redelivery', allowed: REDELIVERY, original: again };
    }
    case 'proto':
      return ok('workflow.proto', splice(text(), rng.bool() ? '"__proto__":{"contact_id":"x","polluted":true}' : '"constructor":{"prototype":{"polluted":true}}', 'end'), ACCEPT_OR_400);
    case 'hugeStrings':
      if (rng.bool()) {
        payload.full_name = unicodeText(rng, MAX_SHORT_TEXT_CHARS);
        return ok('workflow.huge-string.at-limit');
      }
      payload.full_name = 'n'.repeat(rng.int(MAX_SHORT_TEXT_CHARS + 1, 20_000));
      return bad('workflow.huge-string.over-limit');
    case 'size':
      return bad('workflow.size.over-limit', splice(text(), `"cf_pad":"${'p'.repeat(BODY_LIMIT)}"`, 'end'), [413, 401], rng.bool() ? undefined : null);
  }
}

// --- Trustpilot --------------------------------------------------------------------------------

const TRUSTPILOT_EVENTS = ['service-review-created', 'service-review-updated', 'service-review-deleted'] as const;

function trustpilotEvent(gen: Gen, known = true): Record<string, unknown> {
  const { rng } = gen;
  const eventData: Record<string, unknown> = { id: `${validId(rng, 12)}${gen.uid().replace(/[^A-Za-z0-9_-]/g, '')}`.slice(0, 128) };
  if (rng.bool(0.7)) eventData.createdAt = isoAgo(rng.int(0, 1e10));
  if (rng.bool(0.5)) eventData.updatedAt = rng.bool(0.2) ? null : isoAgo(rng.int(0, 1e9));
  if (rng.bool(0.6)) eventData.referenceId = validId(rng);
  if (rng.bool(0.6)) eventData.stars = rng.int(1, 5);
  if (rng.bool(0.5)) eventData.title = unicodeText(rng, rng.int(0, 80));
  if (rng.bool(0.3)) eventData.consumer = { id: validId(rng), displayName: unicodeText(rng, 20) };
  if (rng.bool(0.2)) eventData.fuzz = randomJson(rng, 3);
  const event: Record<string, unknown> = { eventName: known ? rng.pick(TRUSTPILOT_EVENTS) : rng.pick(['invitation-sent', 'service-review-liked', unicodeText(rng, rng.int(0, 100))]), eventData };
  if (rng.bool(0.7)) event.version = rng.pick(['1.0', '2', '']);
  return event;
}

const TRUSTPILOT_WEIGHTS = {
  valid: 14,
  unknownOnly: 2,
  noToken: 4,
  wrongToken: 4,
  tokenArray: 1,
  invalid: 14,
  notObject: 2,
  truncated: 2,
  invalidUtf8: 1.5,
  contentType: 2,
  proto: 1.5,
  deep: 1.5,
  extremeDepth: 0.3,
  manyEvents: 0.5,
  bom: 0.5,
  size: 0.2,
  redelivery: 2,
} as const;

function generateTrustpilot(gen: Gen): FuzzCase {
  const { rng } = gen;
  const category = rng.weighted(TRUSTPILOT_WEIGHTS);
  const events = Array.from({ length: rng.int(1, 3) }, (_, i) => trustpilotEvent(gen, i === 0 || rng.bool(0.8)));
  const notification: Record<string, unknown> = { events };
  const text = () => JSON.stringify(notification);
  const ok = (name: string, body: Buffer | string = text(), allowed: readonly Outcome[] = ACCEPT) =>
    remember(gen, sharedSecretCase(gen, 'trustpilot', name, body, { valid: true, allowed }));
  const bad = (name: string, body: Buffer | string = text(), allowed: readonly Outcome[] = BAD_REQUEST, token?: string | string[] | null) =>
    sharedSecretCase(gen, 'trustpilot', name, body, { valid: false, allowed, ...(token === undefined ? {} : { token }) });
  const first = events[0] ?? trustpilotEvent(gen);
  const firstData = isRecord(first.eventData) ? first.eventData : {};

  switch (category) {
    case 'valid':
      return ok('trustpilot.valid');
    case 'unknownOnly':
      notification.events = [trustpilotEvent(gen, false)];
      return sharedSecretCase(gen, 'trustpilot', 'trustpilot.unknown-event-name', text(), { valid: true, allowed: ['ignored'] });
    case 'noToken':
      return bad('trustpilot.no-token', text(), UNAUTHORIZED, null);
    case 'wrongToken':
      // The schema is checked before the token, so a wrong token with a bad body may be either.
      return rng.bool(0.7)
        ? bad('trustpilot.wrong-token', text(), UNAUTHORIZED, wrongToken(rng, TRUSTPILOT_SECRET))
        : bad('trustpilot.wrong-token.bad-body', JSON.stringify({ events: 'nope' }), [400, 401], wrongToken(rng, TRUSTPILOT_SECRET));
    case 'tokenArray':
      return bad('trustpilot.token-array', text(), [400, 401], rng.pick([[TRUSTPILOT_SECRET, 'other'], ['a', 'b']]));
    case 'invalid': {
      switch (rng.int(0, 12)) {
        case 0:
          notification.events = [];
          break;
        case 1:
          notification.events = 'service-review-created';
          break;
        case 2:
          firstData.id = badId(rng);
          break;
        case 3:
          first.eventName = rng.bool() ? nonString(rng, true) : 'e'.repeat(101);
          break;
        case 4:
          first.version = rng.bool() ? 'v'.repeat(21) : nonString(rng);
          break;
        case 5:
          firstData.updatedAt = rng.bool() ? nonString(rng) : 'u'.repeat(65);
          break;
        case 6:
          delete first.eventData;
          break;
        case 7:
          first.eventData = rng.pick(['x', 5, [firstData], null]);
          break;
        case 8:
          delete firstData.id;
          break;
        case 9: // one bad event spoils the whole notification: nothing of it is queued
          notification.events = [...events, { eventName: 'service-review-created', eventData: { id: '../../etc' } }];
          break;
        case 10:
          notification.events = [...events, 'not-an-event'];
          break;
        case 11:
          delete notification.events;
          notification.event = events;
          break;
        default:
          firstData.createdAt = rng.bool() ? nonString(rng) : 'c'.repeat(65);
      }
      return bad('trustpilot.invalid');
    }
    case 'notObject':
      return bad('trustpilot.not-an-object', rng.pick(['1', '"x"', `[${text()}]`, 'null', 'false', '[]', JSON.stringify(events)]));
    case 'truncated': {
      const bytes = Buffer.from(text(), 'utf8');
      return bad('trustpilot.truncated', bytes.subarray(0, rng.int(0, bytes.length - 1)));
    }
    case 'invalidUtf8':
      firstData.title = `t-INVALIDUTF8-${gen.uid()}`;
      return bad('trustpilot.invalid-utf8.in-string', withInvalidUtf8(rng, text(), 'INVALIDUTF8'));
    case 'contentType':
      if (rng.bool(0.4)) return remember(gen, sharedSecretCase(gen, 'trustpilot', 'trustpilot.content-type.json-variant', text(), { valid: true, allowed: ACCEPT, contentType: rng.pick(JSON_CONTENT_TYPES) }));
      // text/plain has a default parser at the root: the string body then fails the schema (400).
      return sharedSecretCase(gen, 'trustpilot', 'trustpilot.content-type.not-json', text(), { valid: false, allowed: [400, 415], contentType: rng.bool(0.2) ? null : rng.pick(NON_JSON_CONTENT_TYPES) });
    case 'proto':
      return ok('trustpilot.proto', splice(text(), rng.bool() ? '"__proto__":{"polluted":true}' : '"constructor":{"prototype":{"polluted":true}}', 'end'), ACCEPT_OR_400);
    case 'deep':
      firstData.fuzzDeep = 'DEEP';
      return ok('trustpilot.deep.event-data', text().replace('"DEEP"', deepJson(rng.int(500, 3_000), rng.pick(['array', 'object', 'mixed'] as const))), ACCEPT_OR_400);
    case 'extremeDepth':
      firstData.fuzzDeep = 'DEEP';
      return ok('trustpilot.extreme-depth', text().replace('"DEEP"', deepJson(rng.int(20_000, 60_000), 'array')), ACCEPT_OR_400);
    case 'manyEvents': {
      const over = rng.bool();
      notification.events = Array.from({ length: over ? 101 : 100 }, () => trustpilotEvent(gen));
      return over ? bad('trustpilot.events-over-limit') : ok('trustpilot.events-at-limit');
    }
    case 'bom':
      return ok('trustpilot.bom', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text(), 'utf8')]), ACCEPT_OR_400);
    case 'size':
      firstData.fuzzPad = 'p'.repeat(BODY_LIMIT);
      // The token is checked before the body is read: without it the answer is 401.
      return bad('trustpilot.size.over-limit', text(), [413, 401], rng.bool() ? undefined : null);
    case 'redelivery': {
      const previous = gen.recent.trustpilot.filter((fuzzCase) => fuzzCase.allowed === ACCEPT);
      const again = previous.length > 0 ? rng.pick(previous) : undefined;
      if (again === undefined) return ok('trustpilot.valid');
      return { ...again, category: 'trustpilot.redelivery', allowed: REDELIVERY, original: again };
    }
  }
}

// --- Opinion Stage -----------------------------------------------------------------------------

function osResponse(gen: Gen): Record<string, unknown> {
  const { rng } = gen;
  const id = `${gen.uid()}-${unicodeText(rng, rng.int(0, 20))}`;
  const itemId = rng.bool() ? String(rng.int(1, 1e9)) : validId(rng);
  const attributes: Record<string, unknown> = {
    answers: Array.from({ length: rng.int(0, 6) }, () => ({
      question: rng.bool(0.9) ? (rng.bool() ? validId(rng) : unicodeText(rng, rng.int(0, 40))) : null,
      selection: rng.bool(0.9) ? Array.from({ length: rng.int(0, 3) }, () => rng.pick([() => unicodeText(rng, rng.int(0, 30)), () => rng.int(0, 10), () => rng.bool(), () => null])()) : null,
    })),
  };
  if (rng.bool(0.4)) attributes.result = { title: unicodeText(rng, 10), text: null, score: rng.int(0, 100) };
  if (rng.bool(0.5)) attributes.timestamps = { created: isoAgo(rng.int(0, 1e9)) };
  if (rng.bool(0.3)) attributes.timings = { duration: rng.int(0, 1e5) };
  if (rng.bool(0.4)) attributes.utm = { contact_id: validId(rng), fuzz: randomJson(rng, 2) };
  if (rng.bool(0.3)) attributes.hidden_fields = { email: `${validId(rng, 6)}@example.com` };
  const response: Record<string, unknown> = { id, type: rng.pick(['responses', null, 'response']), attributes };
  if (rng.bool(0.6)) response.links = { self: `https://api.opinionstage.com/api/v2/items/${itemId}/responses/${validId(rng)}`, hosting: null };
  return response;
}

/** The flat fields a sender may add, and whether the response is wrapped in `data`; assembled late so mutations show. */
function osEnvelope(gen: Gen): { wrapped: boolean; flat: Record<string, unknown> } {
  const { rng } = gen;
  const flat: Record<string, unknown> = {};
  if (rng.bool(0.3)) flat.email = rng.bool() ? `${validId(rng, 6)}@example.com` : unicodeText(rng, 12);
  if (rng.bool(0.3)) flat.name = unicodeText(rng, 20);
  if (rng.bool(0.2)) flat.phone = '+1 555 0100';
  if (rng.bool(0.2)) flat.contactId = rng.bool() ? validId(rng) : unicodeText(rng, 10);
  if (rng.bool(0.3)) flat[rng.bool() ? 'item_id' : 'itemId'] = rng.bool() ? rng.int(0, 1e9) : validId(rng);
  return { wrapped: rng.bool(), flat };
}

const OS_WEIGHTS = {
  valid: 14,
  noToken: 4,
  wrongToken: 4,
  tokenArray: 1,
  invalid: 14,
  notObject: 2,
  truncated: 2,
  invalidUtf8: 1.5,
  contentType: 2,
  proto: 1.5,
  deep: 1.5,
  extremeDepth: 0.3,
  badLink: 1,
  longLinkItem: 1,
  bom: 0.5,
  size: 0.2,
  redelivery: 2,
  nulls: 2,
} as const;

function generateOpinionStage(gen: Gen): FuzzCase {
  const { rng } = gen;
  const category = rng.weighted(OS_WEIGHTS);
  const response = osResponse(gen);
  const attributes = isRecord(response.attributes) ? response.attributes : {};
  const { wrapped, flat: body } = osEnvelope(gen);
  const text = () => JSON.stringify(wrapped ? { data: response, ...body } : { ...response, ...body });
  const ok = (name: string, bytes: Buffer | string = text(), allowed: readonly Outcome[] = ACCEPT) =>
    remember(gen, sharedSecretCase(gen, 'opinionstage', name, bytes, { valid: true, allowed }));
  const bad = (name: string, bytes: Buffer | string = text(), allowed: readonly Outcome[] = BAD_REQUEST, token?: string | string[] | null) =>
    sharedSecretCase(gen, 'opinionstage', name, bytes, { valid: false, allowed, ...(token === undefined ? {} : { token }) });

  switch (category) {
    case 'valid':
      return ok('opinionstage.valid');
    case 'nulls':
      // Real records carry null attributes and null answers: such a response is still imported.
      if (rng.bool()) {
        response.attributes = null;
        return ok('opinionstage.null-attributes');
      }
      attributes.answers = null;
      return ok('opinionstage.null-answers');
    case 'noToken':
      return bad('opinionstage.no-token', text(), UNAUTHORIZED, null);
    case 'wrongToken':
      return bad('opinionstage.wrong-token', text(), UNAUTHORIZED, wrongToken(rng, OPINIONSTAGE_SECRET));
    case 'tokenArray':
      if (rng.bool(0.3)) return remember(gen, sharedSecretCase(gen, 'opinionstage', 'opinionstage.token-repeated', text(), { valid: true, allowed: ACCEPT, token: [OPINIONSTAGE_SECRET, OPINIONSTAGE_SECRET] }));
      return bad('opinionstage.token-array', text(), UNAUTHORIZED, [OPINIONSTAGE_SECRET, 'other']);
    case 'invalid': {
      switch (rng.int(0, 13)) {
        case 0:
          delete response.id;
          break;
        case 1:
          response.id = rng.pick<unknown>(['', 'i'.repeat(257), 5, null, ['x'], { id: 'x' }]);
          break;
        case 2:
          response.type = rng.pick<unknown>([5, ['x'], {}, true]);
          break;
        case 3:
          response.attributes = rng.pick<unknown>(['x', [], 5, true]);
          break;
        case 4:
          attributes.timestamps = rng.pick<unknown>(['x', 5, [], true]);
          break;
        case 5:
          attributes.answers = rng.pick<unknown>(['x', { 0: {} }, 5, true]);
          break;
        case 6:
          attributes.answers = [rng.pick<unknown>(['answer', 5, null, []])];
          break;
        case 7:
          attributes.answers = [{ question: 'q', selection: [{ value: 'x' }] }];
          break;
        case 8:
          attributes.answers = [{ question: rng.pick<unknown>([5, true, ['q'], { id: 'q' }]), selection: [] }];
          break;
        case 9:
          attributes.result = { score: rng.pick<unknown>(['high', [], {}]) };
          break;
        case 10:
          attributes.utm = rng.pick<unknown>(['utm_source=x', 5, ['a']]);
          break;
        case 11:
          body[rng.pick(['email', 'name', 'phone', 'contactId'])] = rng.pick<unknown>([5, true, ['a@b.c'], { email: 'a@b.c' }]);
          break;
        case 12:
          body[rng.pick(['item_id', 'itemId'])] = rng.pick<unknown>([-1, 1.5, '', 'i'.repeat(257), true, {}]);
          break;
        default:
          response.links = { self: rng.pick<unknown>([5, ['x'], {}]) };
      }
      return bad('opinionstage.invalid');
    }
    case 'notObject':
      return bad('opinionstage.not-an-object', rng.pick(['1', '"x"', `[${text()}]`, 'null', 'false', '[]', '{"data":"x"}', '{"data":null}']));
    case 'truncated': {
      const bytes = Buffer.from(text(), 'utf8');
      return bad('opinionstage.truncated', bytes.subarray(0, rng.int(1, bytes.length - 1)));
    }
    case 'invalidUtf8':
      attributes.answers = [{ question: `q-INVALIDUTF8-${gen.uid()}`, selection: ['x'] }];
      return bad('opinionstage.invalid-utf8.in-string', withInvalidUtf8(rng, text(), 'INVALIDUTF8'));
    case 'contentType':
      if (rng.bool(0.4)) return remember(gen, sharedSecretCase(gen, 'opinionstage', 'opinionstage.content-type.json-variant', text(), { valid: true, allowed: ACCEPT, contentType: rng.pick(JSON_CONTENT_TYPES) }));
      return sharedSecretCase(gen, 'opinionstage', 'opinionstage.content-type.not-json', text(), { valid: false, allowed: [400, 415], contentType: rng.bool(0.2) ? null : rng.pick(NON_JSON_CONTENT_TYPES) });
    case 'proto':
      return ok('opinionstage.proto', splice(text(), rng.bool() ? '"__proto__":{"polluted":true}' : '"constructor":{"prototype":{"polluted":true}}', 'end'), ACCEPT_OR_400);
    case 'deep':
      attributes.utm = { deep: 'DEEP' };
      return ok('opinionstage.deep.utm', text().replace('"DEEP"', deepJson(rng.int(500, 3_000), rng.pick(['array', 'object', 'mixed'] as const))), ACCEPT_OR_400);
    case 'extremeDepth':
      attributes.hidden_fields = { deep: 'DEEP' };
      return ok('opinionstage.extreme-depth', text().replace('"DEEP"', deepJson(rng.int(20_000, 60_000), 'array')), ACCEPT_OR_400);
    case 'badLink':
      // `links.self` is free text by the schema; a link that is not percent-decodable only loses the item id.
      delete body.item_id;
      delete body.itemId;
      response.links = { self: `https://api.opinionstage.com/api/v2/items/${rng.pick(['%', '%E0%A4%A', '%zz', '100%'])}/responses/${validId(rng)}` };
      return ok('opinionstage.undecodable-link', text(), ACCEPT_OR_400);
    case 'longLinkItem':
      delete body.item_id;
      delete body.itemId;
      response.links = { self: `https://api.opinionstage.com/api/v2/items/${'9'.repeat(rng.int(257, 5_000))}/responses/${validId(rng)}` };
      return ok('opinionstage.long-item-id-in-link', text(), ACCEPT_OR_400);
    case 'bom':
      return ok('opinionstage.bom', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text(), 'utf8')]), ACCEPT_OR_400);
    case 'size':
      attributes.fuzzPad = 'p'.repeat(BODY_LIMIT);
      return bad('opinionstage.size.over-limit', text(), [413, 401], rng.bool() ? undefined : null);
    case 'redelivery': {
      // The same response id again, even with a changed body, is the same response.
      const previous = gen.recent.opinionstage.filter((fuzzCase) => fuzzCase.allowed === ACCEPT);
      const again = previous.length > 0 ? rng.pick(previous) : undefined;
      if (again === undefined) return ok('opinionstage.valid');
      return { ...again, category: 'opinionstage.redelivery', allowed: REDELIVERY, original: again };
    }
  }
}

const ROUTE_WEIGHTS: Record<Route, number> = { ghl: 55, workflow: 15, trustpilot: 15, opinionstage: 15 };

function generate(gen: Gen): FuzzCase {
  switch (gen.rng.weighted(ROUTE_WEIGHTS)) {
    case 'ghl':
      return generateGhl(gen);
    case 'workflow':
      return generateWorkflow(gen);
    case 'trustpilot':
      return generateTrustpilot(gen);
    case 'opinionstage':
      return generateOpinionStage(gen);
  }
}

// ---------------------------------------------------------------------------------------------
// The run
// ---------------------------------------------------------------------------------------------

interface Tally {
  requests: number;
  outcomes: Map<string, number>;
}

/** What `deliver` returns when the client gave up waiting for an answer. */
const NO_ANSWER = 0;

/** undici gave up waiting for the answer's headers or body. */
function isTimeout(error: unknown): boolean {
  const code = error instanceof Error && 'code' in error ? error.code : undefined;
  return code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT';
}

/** The ingest's own 429: the input could not be queued in time (`QUEUE_UNAVAILABLE`), the answer senders redeliver on. */
function isBusyReply(text: string): boolean {
  try {
    const parsed = ErrorReplySchema.safeParse(JSON.parse(text));
    return parsed.success && parsed.data.statusCode === 429 && parsed.data.code === 'QUEUE_UNAVAILABLE';
  } catch {
    return false;
  }
}

describe('webhook endpoints under fuzzing', () => {
  let redis: RedisServerHandle;
  let bridge: TestBridge;
  let agent: Agent;
  const seed = fuzzSeed(FIXED_SEED);
  const count = fuzzCount(DEFAULT_COUNT);

  before(async () => {
    redis = await startRedisServer();
    const signer = createTestSigner();
    bridge = await startTestBridge({
      mode: 'web',
      redisUrl: redis.url,
      // A generous deadline: on 2 busy cores a healthy Redis must never look "unavailable" (429).
      ingestTimeoutMs: 5_000,
      env: {
        LOG_LEVEL: 'warn',
        GHL_PRIVATE_TOKEN: 'pit-fuzz-token-000000',
        GHL_LOCATION_ID: LOCATION_ID,
        GHL_WEBHOOK_ED25519_PUBLIC_KEY: signer.ed25519PublicKeyPem,
        GHL_WEBHOOK_PUBLIC_KEY: signer.rsaPublicKeyPem,
        GHL_WEBHOOK_SECRET: WORKFLOW_SECRET,
        TRUSTPILOT_WEBHOOK_SECRET: TRUSTPILOT_SECRET,
        OPINIONSTAGE_WEBHOOK_SECRET: OPINIONSTAGE_SECRET,
      },
    });
    agent = new Agent({ connections: CONCURRENCY, pipelining: 1, keepAliveTimeout: 30_000, headersTimeout: REQUEST_TIMEOUT_MS + 5_000, bodyTimeout: REQUEST_TIMEOUT_MS + 5_000 });
  });

  after(async () => {
    await agent.close();
    await bridge.close();
    await redis.close();
  });

  test(`${count} generated requests: no 5xx, no crash, only documented answers, nothing invalid queued`, async () => {
    console.log(`fuzz: seed ${seed}, ${count} requests (replay with FUZZ_SEED=${seed} FUZZ_COUNT=${count})`);
    const rng = createRng(seed);
    const signer = createTestSigner();
    let uidCounter = 0;
    const gen: Gen = {
      rng,
      signer,
      uid: () => {
        if (uidCounter >= UID_LIMIT) throw new Error(`more than ${UID_LIMIT} unique ids in one run`);
        return `fz${seed.toString(36)}n${(uidCounter++).toString(36).padStart(UID_DIGITS, '0')}`;
      },
      recent: { ghl: [], workflow: [], trustpilot: [], opinionstage: [] },
      foreign: { ...signer.sign('{"type":"ContactCreate","other":true}', 'both') },
    };
    gen.foreign.ed25519 = gen.foreign['x-ghl-signature'] ?? '';
    gen.foreign.rsa = gen.foreign['x-wh-signature'] ?? '';

    const tallies = new Map<string, Tally>();
    const violationKinds = new Map<string, number>();
    const acceptedIds = new Map<QueueName, Set<string>>(INGEST_QUEUES.map((queue) => [queue, new Set<string>()]));
    const answeredJobIds = new Set<string>();
    /**
     * A redelivery runs concurrently with its original and may reach Redis first (seed 721664424):
     * then the original is the one answered `duplicate`. That is right exactly when one of its
     * redeliveries was answered `accepted`, which only the whole run can tell.
     */
    const redeliveryAccepted = new WeakSet<FuzzCase>();
    const originalsAnsweredDuplicate: { fuzzCase: FuzzCase; index: number; text: string }[] = [];
    /** Which inputs were answered `accepted` with each job id: two different inputs must never share one. */
    const acceptedBy = new Map<string, { category: string; body: Buffer }[]>();
    let acceptedAnswers = 0;
    let serverErrors = 0;
    let transportErrors = 0;
    let sent = 0;

    // One example per (violation, category): enough to reproduce each distinct failure.
    const examples = new Map<string, { count: number; example: string }>();
    const violate = (kind: string, fuzzCase: FuzzCase, index: number, detail: string) => {
      violationKinds.set(kind, (violationKinds.get(kind) ?? 0) + 1);
      const key = `${kind} [${fuzzCase.category}]`;
      const seen = examples.get(key);
      if (seen !== undefined) {
        seen.count++;
        return;
      }
      const excerpt = fuzzCase.body.subarray(0, 240).toString('utf8').replace(/\s+/g, ' ');
      examples.set(key, {
        count: 1,
        example: `#${index} POST ${fuzzCase.path.slice(0, 120)} (${fuzzCase.body.length} bytes) ${detail.slice(0, 400)}\n      headers ${JSON.stringify(fuzzCase.headers).slice(0, 300)}\n      body ${excerpt}`,
      });
    };

    const queueFor = (route: Route): QueueName =>
      route === 'trustpilot' ? QUEUE_NAMES.trustpilotEvents : route === 'opinionstage' ? QUEUE_NAMES.opinionStageResponses : QUEUE_NAMES.ghlWebhooks;

    /**
     * Inputs answered 429, or not answered before the client gave up. Under load the ingest deadline can pass before Redis confirms: then 429 is
     * the contract's answer (the sender redelivers), and the job may or may not have been stored.
     * Each is redelivered after the run until it is answered otherwise; nothing may be lost.
     */
    const answeredBusy: { index: number; fuzzCase: FuzzCase }[] = [];

    /** Sends one input and judges the answer; a redelivery of a 429 counts `duplicate` ids as its own. */
    const deliver = async ({ index, fuzzCase }: { index: number; fuzzCase: FuzzCase }, redelivery = false): Promise<number | void> => {
      let status: number;
      let text: string;
      let contentType: string;
      try {
        const response = await request(`${bridge.url}${fuzzCase.path}`, { method: 'POST', headers: fuzzCase.headers, body: fuzzCase.body, dispatcher: agent });
        status = response.statusCode;
        contentType = String(response.headers['content-type'] ?? '');
        text = await response.body.text();
      } catch (error) {
        // No answer in time on a loaded machine: like a 429, the sender redelivers, and nothing may be lost.
        if (isTimeout(error)) {
          if (!redelivery) answeredBusy.push({ index, fuzzCase });
          return NO_ANSWER;
        }
        transportErrors++;
        violate('transport-error', fuzzCase, index, error instanceof Error ? `${error.name}: ${error.message}` : String(error));
        return;
      }
      const tally = tallies.get(fuzzCase.category) ?? { requests: 0, outcomes: new Map<string, number>() };
      tallies.set(fuzzCase.category, tally);
      tally.requests++;

      if (status === 429 && (redelivery || isBusyReply(text))) {
        if (!redelivery) answeredBusy.push({ index, fuzzCase });
        return status;
      }
      if (status >= 500) serverErrors++;
      if (status >= 500 || status === 429 || !DOCUMENTED_STATUSES.has(status)) {
        tally.outcomes.set(String(status), (tally.outcomes.get(String(status)) ?? 0) + 1);
        return violate(status >= 500 ? '5xx' : status === 429 ? '429-with-redis-up' : 'undocumented-status', fuzzCase, index, `status ${status}: ${text.slice(0, 300)}`);
      }
      let reply: unknown;
      try {
        reply = JSON.parse(text);
      } catch {
        return violate('non-json-reply', fuzzCase, index, `status ${status}, content-type ${contentType}: ${text.slice(0, 200)}`);
      }
      if (!contentType.startsWith('application/json')) violate('reply-content-type', fuzzCase, index, contentType);

      let outcome: Outcome;
      const ids: string[] = [];
      if (status === 200) {
        if (fuzzCase.route === 'trustpilot') {
          const parsed = TrustpilotReplySchema.safeParse(reply);
          if (!parsed.success) return violate('reply-shape', fuzzCase, index, text.slice(0, 300));
          outcome = parsed.data.status;
          for (const event of parsed.data.events) {
            if ((event.status === 'accepted' || (redelivery && event.status === 'duplicate')) && event.id !== null) ids.push(event.id);
            if (event.status !== 'ignored' && event.id === null) violate('reply-shape', fuzzCase, index, `an ${event.status} event without id`);
            if (event.id !== null) answeredJobIds.add(event.id);
          }
        } else {
          const parsed = WebhookReplySchema.safeParse(reply);
          if (!parsed.success) return violate('reply-shape', fuzzCase, index, text.slice(0, 300));
          outcome = parsed.data.status;
          if (outcome !== 'ignored' && parsed.data.id === null) violate('reply-shape', fuzzCase, index, `${outcome} without id`);
          if ((outcome === 'accepted' || (redelivery && outcome === 'duplicate')) && parsed.data.id !== null) ids.push(parsed.data.id);
          if (parsed.data.id !== null) answeredJobIds.add(parsed.data.id);
        }
      } else {
        const parsed = ErrorReplySchema.safeParse(reply);
        if (!parsed.success || parsed.data.statusCode !== status) return violate('reply-shape', fuzzCase, index, `status ${status}: ${text.slice(0, 300)}`);
        if (['INVALID_PAYLOAD', 'VALIDATION_FAILED', 'INVALID_JSON'].includes(parsed.data.code) && (parsed.data.fields ?? []).length === 0) {
          violate('reply-shape', fuzzCase, index, `400 ${parsed.data.code} without offending fields`);
        }
        outcome = status as Outcome;
      }
      tally.outcomes.set(String(outcome), (tally.outcomes.get(String(outcome)) ?? 0) + 1);

      if (ids.length > 0) {
        acceptedAnswers += ids.length;
        const set = acceptedIds.get(queueFor(fuzzCase.route));
        for (const id of ids) {
          set?.add(id);
          const list = acceptedBy.get(id) ?? [];
          list.push({ category: fuzzCase.category, body: fuzzCase.body });
          acceptedBy.set(id, list);
        }
        if (!fuzzCase.valid) violate('invalid-input-queued', fuzzCase, index, `answered accepted (${ids.join(', ')})`);
      }
      if (outcome === 'accepted' && fuzzCase.original !== undefined) redeliveryAccepted.add(fuzzCase.original);
      if (outcome === 'duplicate' && fuzzCase.allowed === ACCEPT) {
        if (!redelivery) originalsAnsweredDuplicate.push({ fuzzCase, index, text: text.slice(0, 300) });
        return status;
      }
      if (!fuzzCase.allowed.includes(outcome)) violate('unexpected-outcome', fuzzCase, index, `got ${outcome}, expected ${fuzzCase.allowed.join(' | ')}: ${text.slice(0, 300)}`);
      return status;
    };

    const started = performance.now();
    await runPool(
      () => (sent < count ? { index: sent++, fuzzCase: generate(gen) } : undefined),
      CONCURRENCY,
      async (item) => {
        await deliver(item);
      },
    );
    for (const item of answeredBusy) {
      const status = await waitFor(async () => {
        const answered = await deliver(item, true);
        return answered === 429 || answered === NO_ANSWER ? undefined : answered;
      }, 60_000, `a 429'd input (#${item.index}) to be taken on redelivery`).catch(() => 429);
      if (status === 429) violate('429-on-every-redelivery', item.fuzzCase, item.index, 'still 429 or no answer after a minute of redeliveries');
    }
    if (answeredBusy.length > 0) console.log(`fuzz: ${answeredBusy.length} inputs answered 429 or not in time under load, redelivered`);
    const elapsedMs = Math.round(performance.now() - started);
    for (const { fuzzCase, index, text } of originalsAnsweredDuplicate) {
      if (!redeliveryAccepted.has(fuzzCase)) violate('unexpected-outcome', fuzzCase, index, `got duplicate and no redelivery of it was accepted: ${text}`);
    }

    // The process is alive and still serving.
    const health = await request(`${bridge.url}/health`, { dispatcher: agent });
    const healthBody = await health.body.text();
    assert.equal(health.statusCode, 200, `/health after the run: ${healthBody}`);
    assert.equal((JSON.parse(healthBody) as { status?: unknown }).status, 'ok');
    assert.equal(Object.prototype.hasOwnProperty.call(Object.prototype, 'polluted'), false, 'Object.prototype was polluted');

    // What is queued is exactly what was answered `accepted`, nothing else.
    let jobs = 0;
    const jobReport: string[] = [];
    const jobProblems: string[] = [];
    const queued = await readQueuedJobs(redis.url, bridge.container.config.REDIS_PREFIX, Object.keys(bridge.container.queues));
    for (const { name, total, stored } of queued) {
      const expected = acceptedIds.get(name as QueueName);
      if (expected === undefined) {
        assert.equal(total, 0, `queue ${name} holds ${total} jobs, none expected`);
        continue;
      }
      jobs += total;
      jobReport.push(`${name} ${total}`);
      const unexplained = [...stored].filter((id) => !expected.has(id));
      const missing = [...expected].filter((id) => !stored.has(id));
      if (unexplained.length > 0) jobProblems.push(`${name}: ${unexplained.length} jobs no accepted answer named (queued for input never accepted), e.g. ${unexplained[0] ?? ''}`);
      if (missing.length > 0) jobProblems.push(`${name}: ${missing.length} answered accepted but not in the queue, e.g. ${missing[0] ?? ''}`);
      if (total !== expected.size) jobProblems.push(`${name}: ${total} jobs for ${expected.size} distinct accepted ids`);
    }
    for (const id of answeredJobIds) {
      const known = [...acceptedIds.values()].some((set) => set.has(id));
      if (!known) violationKinds.set('duplicate-names-unknown-job', (violationKinds.get('duplicate-names-unknown-job') ?? 0) + 1);
    }

    // Only concurrent redeliveries of the same bytes may both be answered `accepted` for one job
    // (both miss the seen-mark, the deterministic job id stores one): different inputs sharing a job means one was lost.
    for (const [id, list] of acceptedBy) {
      const [first, ...rest] = list;
      if (first !== undefined && rest.some((other) => !other.body.equals(first.body))) {
        violationKinds.set('distinct-inputs-share-a-job', (violationKinds.get('distinct-inputs-share-a-job') ?? 0) + 1);
        console.log(`fuzz: job ${id} answered accepted for different inputs: ${list.map((entry) => entry.category).join(', ')}`);
      }
    }
    const crashLines = bridge.logs.filter((line) => line.includes('unhandled route error'));
    const distinctAccepted = [...acceptedIds.values()].reduce((sum, set) => sum + set.size, 0);
    const invalidQueued = violationKinds.get('invalid-input-queued') ?? 0;

    console.log(
      `fuzz: ${sent} requests, ${serverErrors} 5xx, ${transportErrors} crashes, ${acceptedAnswers} accepted (${distinctAccepted} jobs: ${jobReport.join(', ')}; ` +
        `${invalidQueued === 0 ? 'all valid' : `${invalidQueued} INVALID`}), ${originalsAnsweredDuplicate.length} originals overtaken by their redelivery, seed ${seed}, ${elapsedMs} ms`,
    );
    for (const [category, tally] of [...tallies.entries()].sort(([a], [b]) => a.localeCompare(b))) {
      const outcomes = [...tally.outcomes.entries()].map(([outcome, n]) => `${outcome}:${n}`).join(' ');
      console.log(`  ${category.padEnd(48)} ${String(tally.requests).padStart(5)}  ${outcomes}`);
    }
    if (crashLines.length > 0) console.log(`fuzz: ${crashLines.length} 'unhandled route error' log lines, first: ${crashLines[0]?.slice(0, 400)}`);
    if (examples.size > 0) {
      console.log(`fuzz: violations by kind ${JSON.stringify(Object.fromEntries(violationKinds))}`);
      for (const [key, { count: times, example }] of examples) console.log(`  ${key} x${times}\n      ${example}`);
    }

    if (jobProblems.length > 0) console.log(`fuzz: queue mismatches\n  ${jobProblems.join('\n  ')}`);
    assert.ok(sent >= count, `sent ${sent} of ${count}`);
    assert.deepEqual(jobProblems, [], 'the ingest queues hold exactly the accepted inputs');
    assert.equal(jobs, distinctAccepted, 'one job per distinct accepted id');
    assert.ok(distinctAccepted >= Math.floor(count * 0.1), `only ${distinctAccepted} inputs were accepted: the run did not exercise the happy path`);
    assert.deepEqual(Object.fromEntries(violationKinds), {}, `violations (seed ${seed}); first ones above`);
    assert.deepEqual(crashLines, [], 'routes threw unexpected errors');
  });
});

/**
 * Every queue's job count and job ids, read through a patient connection of the test's own: the
 * bridge's producer connection fails fast by design, and listing ten thousand jobs on two busy cores
 * can outlast its command timeout.
 */
async function readQueuedJobs(redisUrl: string, prefix: string, names: string[]): Promise<{ name: string; total: number; stored: Set<string> }[]> {
  const reader = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const queues = names.map((name) => new Queue(name, { connection: reader, prefix }));
  try {
    return await Promise.all(
      queues.map(async (queue) => {
        const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'completed', 'failed', 'prioritized', 'paused', 'waiting-children');
        const total = Object.values(counts).reduce((sum, value) => sum + value, 0);
        const stored = new Set<string>();
        for (const job of await queue.getJobs(['waiting', 'active', 'delayed', 'completed', 'failed', 'prioritized', 'paused'], 0, -1)) {
          if (job.id !== undefined) stored.add(job.id);
        }
        // A web-only bridge runs no pump: what it accepted waits in the queue's inbox.
        const inbox = await inboxEntries(queue);
        for (const entry of inbox) stored.add(entry.id);
        return { name: queue.name, total: total + inbox.length, stored };
      }),
    );
  } finally {
    await Promise.all(queues.map((queue) => queue.close()));
    reader.disconnect();
  }
}
