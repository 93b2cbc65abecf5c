/**
 * Fuzz the pure inbound parsers directly (no HTTP): parseGhlEvent, parseGhlWorkflowPayload,
 * parseOsWebhookBody, the GHL signature verifier, the shared-secret check and the timestamp check.
 * With generated and mutated values they never throw and only return their documented result kinds;
 * what they accept is what the queue's job schemas accept.
 *
 * `npm test` runs it on a fixed seed (FIXED_SEED); `npm run fuzz` on a fresh one. Replay with
 * `FUZZ_SEED=<seed printed>`; `FUZZ_COUNT` changes the number of generated values.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OsResponseSchema } from '../../src/clients/opinionstage/schemas.js';
import { parseOsWebhookBody } from '../../src/webhooks/opinionstage-response.js';
import { GhlWebhookJobSchema, OpinionStageResponseJobSchema } from '../../src/queue/catalog.js';
import { GHL_EVENT_TYPES, checkTimestamp, parseGhlEvent } from '../../src/webhooks/ghl-events.js';
import { createGhlSignatureVerifier, type WebhookHeaders } from '../../src/webhooks/ghl-signature.js';
import { GhlWorkflowEventSchema, parseGhlWorkflowPayload } from '../../src/webhooks/ghl-workflow.js';
import { checkSharedSecret } from '../../src/webhooks/shared-secret.js';
import { badId, createRng, deepJson, flipBytes, fuzzCount, fuzzSeed, nonString, randomJson, unicodeText, validId, type Rng } from '../helpers/fuzz.js';
import { createTestSigner, loadGhlFixture } from '../helpers/ghl-signing.js';

const DEFAULT_COUNT = 12_000;
/** The seed `npm test` runs: the same cases every run (test/helpers/fuzz.ts, fuzzSeed). */
const FIXED_SEED = 2_029_591_888;
const FIXTURE_NAMES = [
  'ContactCreate', 'ContactUpdate', 'ContactDelete', 'ContactTagUpdate', 'ContactDndUpdate', 'NoteCreate', 'NoteUpdate', 'NoteDelete',
  'TaskCreate', 'TaskComplete', 'TaskDelete', 'AppInstall.agency', 'AppInstall.location-whitelabeled', 'AppUninstall.location',
] as const;
const FIXTURES = FIXTURE_NAMES.map((name) => loadGhlFixture(name));
const KNOWN_TYPES: ReadonlySet<string> = new Set(GHL_EVENT_TYPES);
const SECRET = 'parser-fuzz-secret';

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function workflowSeed(rng: Rng): Record<string, unknown> {
  return {
    contact_id: validId(rng),
    location: { id: validId(rng), name: unicodeText(rng, 12) },
    first_name: unicodeText(rng, 10),
    email: `${validId(rng, 6)}@example.com`,
    tags: rng.bool() ? 'a, b' : ['a', 'b'],
    customData: { note: 'x' },
    [`cf_${validId(rng, 4)}`]: randomJson(rng, 2),
  };
}

function osSeed(rng: Rng): Record<string, unknown> {
  const response = {
    id: validId(rng),
    type: 'responses',
    attributes: { answers: [{ question: validId(rng), selection: ['a', 1, true, null] }], utm: { contact_id: validId(rng) } },
    links: { self: `https://api.opinionstage.com/api/v2/items/${rng.bool(0.85) ? validId(rng) : rng.pick(['%', '%E0%A4%A', '%zz', '9'.repeat(257), 'i'.repeat(5_000)])}/responses/x` },
  };
  return rng.bool() ? { data: response, email: 'a@example.com' } : { ...response, item_id: rng.int(0, 99) };
}

/** A hostile value for one spot: wrong types, bad ids, huge or odd strings, deep nesting, odd links. */
function hostileValue(rng: Rng): unknown {
  switch (rng.int(0, 11)) {
    case 0:
      return nonString(rng, true);
    case 1:
      return badId(rng);
    case 2:
      return unicodeText(rng, rng.pick([0, 1, 2_048, 2_049, 10_000]));
    case 3:
      return JSON.parse(deepJson(rng.int(10, 2_000), rng.pick(['array', 'object', 'mixed'] as const))) as unknown;
    case 4:
      return `https://x.test/items/${rng.pick(['%', '%E0%A4%A', '%zz', '9'.repeat(300), validId(rng)])}/responses/${validId(rng)}`;
    case 5:
      return rng.pick(['INSTALL', 'UNINSTALL', ...GHL_EVENT_TYPES, 'Unknown', '', 'T'.repeat(129)]);
    case 6:
      return Array.from({ length: rng.pick([0, 1, 1_000, 1_001]) }, (_, i) => `v${i}`);
    case 7:
      return rng.pick([new Date(Date.now() + rng.int(-1e12, 1e12)).toISOString(), 'yesterday', '9999-12-31T23:59:59Z', '2024-13-01T00:00:00Z']);
    case 8:
      return Object.create(null) as unknown;
    case 9:
      return undefined;
    default:
      return randomJson(rng, 3);
  }
}

/** Sets, replaces or deletes a value at a random path of `root` (mutated in place). */
function mutate(rng: Rng, root: Record<string, unknown>): void {
  let node: Record<string, unknown> | unknown[] = root;
  for (let depth = 0; depth < 6; depth++) {
    const keys = Object.keys(node);
    if (keys.length === 0 || rng.bool(0.35)) break;
    const key = rng.pick(keys);
    const child: unknown = Array.isArray(node) ? node[Number(key)] : node[key];
    if (typeof child !== 'object' || child === null) break;
    node = child as Record<string, unknown> | unknown[];
  }
  const key = Array.isArray(node) ? String(rng.int(0, node.length)) : rng.bool(0.7) && Object.keys(node).length > 0 ? rng.pick(Object.keys(node)) : rng.pick(['type', 'id', 'locationId', 'contactId', 'companyId', 'webhookId', 'timestamp', 'data', 'attributes', 'answers', 'links', 'self', 'item_id', 'location', 'customData', 'tags', 'customFields', unicodeText(rng, 6)]);
  if (rng.bool(0.15) && !Array.isArray(node)) {
    delete node[key];
    return;
  }
  Object.defineProperty(node, key, { value: hostileValue(rng), enumerable: true, writable: true, configurable: true });
}

/** One generated value: a mutated realistic body most of the time, anything at all sometimes. */
function generate(rng: Rng): unknown {
  const roll = rng.int(0, 9);
  if (roll === 0) return randomJson(rng, 4);
  if (roll === 1) return hostileValue(rng);
  const seed = roll <= 4 ? structuredClone(rng.pick(FIXTURES)) : roll <= 6 ? workflowSeed(rng) : osSeed(rng);
  for (let mutations = rng.int(0, 4); mutations > 0; mutations--) mutate(rng, seed);
  // Prototype keys as JSON.parse yields them (own properties named __proto__ / constructor).
  if (rng.bool(0.1)) {
    const keys = '"__proto__":{"type":"ContactCreate","id":"x","locationId":"y","polluted":true},"constructor":{"prototype":{"polluted":true}}';
    const text = JSON.stringify(seed);
    return JSON.parse(text === '{}' ? `{${keys}}` : `{${keys},${text.slice(1)}`) as unknown;
  }
  return seed;
}

function assertIssues(issues: unknown, where: string): void {
  assert.ok(Array.isArray(issues) && issues.length > 0 && issues.length <= 50, `${where}: 1-50 issues`);
  for (const issue of issues) assert.ok(isRecord(issue) && typeof issue.path === 'string' && typeof issue.message === 'string', `${where}: issue shape`);
}

test('the inbound parsers never throw and return only their documented result kinds', () => {
  const seed = fuzzSeed(FIXED_SEED);
  const count = fuzzCount(DEFAULT_COUNT);
  const rng = createRng(seed);
  const signer = createTestSigner();
  const verifier = createGhlSignatureVerifier({ ed25519PublicKeyPem: signer.ed25519PublicKeyPem, rsaPublicKeyPem: signer.rsaPublicKeyPem });
  // RSA-4096 signing takes milliseconds: a few signed bodies, reused.
  const rsaSigned = Array.from({ length: 4 }, (_, i) => {
    const body = Buffer.from(JSON.stringify({ type: 'ContactCreate', n: i }));
    return { body, signature: signer.sign(body, 'rsa')['x-wh-signature'] ?? '' };
  });
  const kinds = new Map<string, number>();
  const tally = (key: string) => kinds.set(key, (kinds.get(key) ?? 0) + 1);
  let calls = 0;
  let current: unknown;
  let step = '';
  // First example of each distinct failure; the run goes on so one bug does not hide the others.
  const failures = new Map<string, { count: number; example: string }>();

  for (let i = 0; i < count; i++) {
    try {
      step = 'generate';
      const value = generate(rng);
      current = value;

      step = 'parseGhlEvent';
      calls++;
      const ghl = parseGhlEvent(value);
      tally(`ghl:${ghl.kind}`);
      if (ghl.kind === 'event') {
        assert.ok(KNOWN_TYPES.has(ghl.event.type), `event type ${ghl.event.type}`);
        assert.ok(GhlWebhookJobSchema.safeParse({ source: 'marketplace', receivedAt: 0, event: ghl.event }).success, 'an accepted GHL event fits its job');
        assert.ok(['ok', 'future', 'unparseable'].includes(checkTimestamp(ghl.event.timestamp, Date.now())));
      } else if (ghl.kind === 'unknown-type') {
        assert.ok(typeof ghl.type === 'string' && ghl.type.length > 0 && ghl.type.length <= 128 && !KNOWN_TYPES.has(ghl.type));
      } else {
        assert.equal(ghl.kind, 'invalid');
        assertIssues(ghl.issues, 'parseGhlEvent');
      }

      step = 'parseGhlWorkflowPayload';
      calls++;
      const workflow = parseGhlWorkflowPayload(value);
      tally(`workflow:${workflow.kind}`);
      if (workflow.kind === 'event') {
        assert.ok(GhlWorkflowEventSchema.safeParse(workflow.event).success, 'a workflow event matches its schema');
        assert.ok(GhlWebhookJobSchema.safeParse({ source: 'workflow', receivedAt: 0, event: workflow.event }).success, 'an accepted workflow event fits its job');
      } else {
        assert.equal(workflow.kind, 'invalid');
        assertIssues(workflow.issues, 'parseGhlWorkflowPayload');
      }

      step = 'parseOsWebhookBody';
      calls++;
      const os = parseOsWebhookBody(value);
      tally(`opinionstage:${os.kind}`);
      if (os.kind === 'response') {
        assert.ok(OsResponseSchema.safeParse(os.response).success, 'an accepted response matches its schema');
        for (const field of Object.values(os.flat)) assert.equal(typeof field, 'string');
        const job = { source: 'webhook', receivedAt: 0, ...(os.itemId ? { itemId: os.itemId } : {}), response: os.response, flat: os.flat };
        assert.ok(OpinionStageResponseJobSchema.safeParse(job).success, 'an accepted response fits its job');
      } else {
        assert.equal(os.kind, 'invalid');
        assertIssues(os.issues, 'parseOsWebhookBody');
      }

      step = 'verify';
      calls++;
      const body = Buffer.from(typeof value === 'string' ? value : (JSON.stringify(value) ?? ''), 'utf8');
      const headers: WebhookHeaders = {};
      let expectOk = false;
      switch (rng.int(0, 7)) {
        case 0:
          headers['x-ghl-signature'] = signer.sign(body, 'ed25519')['x-ghl-signature'];
          expectOk = true;
          break;
        case 1: {
          const signed = rng.pick(rsaSigned);
          headers[rng.pick(['x-wh-signature', 'X-WH-Signature'])] = signed.signature;
          headers['x-ghl-signature'] = rng.pick(['N/A', '', undefined, []]);
          expectOk = true;
          current = signed.body;
          const result = verifier.verify(signed.body, headers);
          assert.ok(result.ok, `RSA signature verifies with headers ${JSON.stringify(headers).slice(0, 120)}`);
          tally('verify:ok');
          continue;
        }
        case 2: {
          const signature = signer.sign(body, 'ed25519')['x-ghl-signature'] ?? '';
          headers['x-ghl-signature'] = signature;
          const flipped = flipBytes(rng, body.length > 0 ? body : Buffer.from('{}'));
          current = flipped;
          const result = verifier.verify(flipped, headers);
          assert.equal(result.ok, false, 'a flipped body never verifies');
          tally(`verify:${result.ok ? 'ok' : result.reason}`);
          continue;
        }
        case 3:
          headers[rng.pick(['x-ghl-signature', 'x-wh-signature'])] = rng.pick([
            () => Buffer.from(rng.string(rng.int(0, 700))).toString('base64'),
            () => rng.string(rng.int(0, 3_000), '!@#$%^&*()<>?;: ~`ABCabc+/='),
            () => [validId(rng), validId(rng)],
            () => [],
            () => 'N/A',
            () => undefined,
          ])();
          break;
        case 4:
          headers['x-ghl-signature'] = Buffer.from(rng.string(64)).toString('base64');
          headers['x-wh-signature'] = rng.pick(rsaSigned).signature;
          break;
        case 5:
          headers[unicodeText(rng, rng.int(1, 20))] = unicodeText(rng, rng.int(0, 50));
          break;
        case 6:
          headers['x-ghl-signature'] = [signer.sign(body, 'ed25519')['x-ghl-signature'] ?? ''];
          expectOk = true;
          break;
        default:
          break;
      }
      const result = verifier.verify(body, headers);
      tally(`verify:${result.ok ? 'ok' : result.reason}`);
      if (result.ok) assert.ok(['ed25519', 'rsa'].includes(result.scheme));
      else assert.ok(['missing', 'invalid', 'malformed'].includes(result.reason));
      assert.equal(result.ok, expectOk, `verify → ${JSON.stringify(result)} for headers ${JSON.stringify(headers).slice(0, 160)}`);

      step = 'checkSharedSecret';
      calls++;
      const sent = rng.pick<unknown>([SECRET, `${SECRET}x`, '', undefined, [SECRET, SECRET], [SECRET, 'x'], [], 5, null, { token: SECRET }, unicodeText(rng, 20)]);
      const viaHeader = rng.bool();
      const secretResult = checkSharedSecret(
        rng.pick([SECRET, SECRET, undefined, '']),
        viaHeader && (typeof sent === 'string' || Array.isArray(sent)) ? { 'x-webhook-token': sent as string | string[] } : {},
        viaHeader ? rng.pick([undefined, null, 5, {}]) : rng.pick([{ token: sent }, Object.assign(Object.create(null) as object, { token: sent }), 'token=x']),
      );
      tally(`secret:${secretResult}`);
      assert.ok(['ok', 'missing', 'invalid', 'not-configured'].includes(secretResult));
      if (secretResult === 'ok') assert.ok(sent === SECRET || (Array.isArray(sent) && sent.every((item) => item === SECRET)), `ok only for the secret, got ${JSON.stringify(sent)}`);

      step = 'checkTimestamp';
      calls++;
      const stamp = rng.pick([
        () => undefined,
        () => new Date(Date.now() + rng.int(-1e12, 1e12)).toISOString(),
        () => new Date(Date.now() + rng.int(-1e12, 1e12)).toISOString().replace('Z', rng.pick(['+05:30', '-0800', '+00:00'])),
        () => unicodeText(rng, rng.int(0, 64)),
        () => rng.pick(['2024-01-01T99:99:99Z', '2024-13-01T00:00:00Z', '+275760-09-13T00:00:00Z', '9999-12-31T23:59:59.999999999Z', '0000-01-01T00:00Z']),
        () => (typeof value === 'string' ? value : 'x'),
      ])();
      const timestamp = checkTimestamp(stamp, Date.now());
      tally(`timestamp:${timestamp}`);
      assert.ok(['ok', 'future', 'unparseable'].includes(timestamp));
    } catch (error) {
      const message = error instanceof Error ? `${error.name}: ${error.message.split('\n')[0] ?? ''}` : String(error);
      const key = `${step}: ${message.slice(0, 160)}`;
      const seen = failures.get(key);
      if (seen !== undefined) seen.count++;
      else {
        const excerpt = Buffer.isBuffer(current) ? current.subarray(0, 300).toString('utf8') : (safeJson(current) ?? String(current)).slice(0, 300);
        failures.set(key, { count: 1, example: `value #${i}: ${excerpt}` });
      }
    }
  }
  const throws = [...failures.keys()].filter((key) => !key.includes('AssertionError')).length;
  console.log(`fuzz: ${calls} parser calls on ${count} generated values, ${throws} distinct throws, ${failures.size} distinct failures, seed ${seed}`);
  for (const [key, { count: times, example }] of failures) console.log(`  ${key} x${times}\n    ${example}`);
  console.log(`  ${[...kinds.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([kind, n]) => `${kind}:${n}`).join(' ')}`);
  assert.ok(calls >= 10_000 || count < DEFAULT_COUNT, `${calls} calls`);
  assert.deepEqual([...failures.keys()], [], `parser failures (seed ${seed}); examples above`);
  for (const kind of ['ghl:event', 'ghl:invalid', 'ghl:unknown-type', 'workflow:event', 'workflow:invalid', 'opinionstage:response', 'opinionstage:invalid', 'verify:ok']) {
    assert.ok((kinds.get(kind) ?? 0) > 0, `the run reached ${kind}`);
  }
});

function safeJson(value: unknown): string | undefined {
  try {
    return JSON.stringify(value);
  } catch {
    return undefined;
  }
}
