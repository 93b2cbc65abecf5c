/**
 * The webhook routes' HTTP answers, through `buildApp` + `inject` with a recording producer: what is
 * answered, and what the route asked to enqueue. The queue itself (dedupe in Redis, a Redis outage)
 * is covered by test/integration/http/webhooks-ghl.test.ts.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { QUEUE_NAMES } from '../../../src/queue/catalog.js';
import { buildTestApp, FIXTURE_LOCATION_ID, inject, unavailableProducer, type InjectedAnswer, type TestApp } from '../../helpers/app.js';
import { createTestSigner, signedEvent } from '../../helpers/ghl-signing.js';

const WORKFLOW_SECRET = 'workflow-secret-for-tests-0001';
const TRUSTPILOT_SECRET = 'trustpilot-secret-for-tests-01';
const OPINIONSTAGE_SECRET = 'opinionstage-secret-for-tests-1';
const ENV = { GHL_WEBHOOK_SECRET: WORKFLOW_SECRET, TRUSTPILOT_WEBHOOK_SECRET: TRUSTPILOT_SECRET, OPINIONSTAGE_WEBHOOK_SECRET: OPINIONSTAGE_SECRET };
const JSON_HEADERS = { 'content-type': 'application/json' };

function post(t: TestApp, url: string, body: string | Buffer, headers: Record<string, string>): Promise<InjectedAnswer> {
  return inject(t.app, { method: 'POST', url, body, headers });
}

function fieldPaths(answer: InjectedAnswer): string[] {
  const fields = answer.json.fields;
  assert.ok(Array.isArray(fields), `the answer names fields: ${answer.text}`);
  return fields.map((field: { path: string }) => field.path);
}

describe('POST /webhooks/ghl', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await buildTestApp({ env: ENV });
  });
  afterEach(() => t.close());

  test('an Ed25519-signed ContactCreate asks for one marketplace job and answers its id', async () => {
    const event = signedEvent('ContactCreate', {}, 'ed25519');
    const answer = await post(t, '/webhooks/ghl', event.body, event.headers);
    assert.equal(answer.status, 200, answer.text);
    assert.equal(answer.json.status, 'accepted');
    assert.equal(t.enqueued.length, 1);
    const [request] = t.enqueued;
    assert.equal(request?.queue, QUEUE_NAMES.ghlWebhooks);
    assert.equal(request?.scope, FIXTURE_LOCATION_ID);
    assert.match(JSON.stringify(request?.data), /"source":"marketplace"/);
    assert.match(JSON.stringify(request?.data), /"type":"ContactCreate"/);
  });

  test('a legacy RSA-signed event is accepted', async () => {
    const event = signedEvent('ContactUpdate', {}, 'rsa');
    const answer = await post(t, '/webhooks/ghl', event.body, event.headers);
    assert.equal(answer.status, 200, answer.text);
    assert.equal(answer.json.status, 'accepted');
  });

  test('a redelivery carries the same dedupe key', async () => {
    const event = signedEvent('NoteCreate');
    const first = await post(t, '/webhooks/ghl', event.body, event.headers);
    const second = await post(t, '/webhooks/ghl', event.body, event.headers);
    assert.deepEqual([first.json.status, second.json.status], ['accepted', 'duplicate']);
    assert.equal(first.json.id, second.json.id);
    assert.equal(t.enqueued.length, 1);
  });

  test('a bad, tampered or missing signature is 401 and asks for nothing', async () => {
    const event = signedEvent('ContactCreate');
    const other = signedEvent('ContactCreate');
    const wrong = await post(t, '/webhooks/ghl', event.body, { ...event.headers, 'x-ghl-signature': other.headers['x-ghl-signature'] ?? '' });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.json.code, 'SIGNATURE_INVALID');
    assert.equal((await post(t, '/webhooks/ghl', event.body.replace('John', 'Jahn'), event.headers)).status, 401);
    const unsigned = await post(t, '/webhooks/ghl', event.body, JSON_HEADERS);
    assert.equal(unsigned.status, 401);
    assert.equal(unsigned.json.code, 'SIGNATURE_MISSING');
    assert.equal(t.enqueued.length, 0);
  });

  test('an Ed25519 signature that fails is not rescued by a valid RSA one', async () => {
    const event = signedEvent('ContactCreate');
    const answer = await post(t, '/webhooks/ghl', event.body, { ...event.headers, 'x-ghl-signature': Buffer.alloc(64, 1).toString('base64') });
    assert.equal(answer.status, 401);
  });

  test('malformed JSON is 400 INVALID_JSON, naming the whole body (path "")', async () => {
    const body = '{"type": "ContactCreate", ';
    const answer = await post(t, '/webhooks/ghl', body, { ...JSON_HEADERS, ...createTestSigner().sign(body) });
    assert.equal(answer.status, 400);
    assert.equal(answer.json.code, 'INVALID_JSON');
    assert.deepEqual(fieldPaths(answer), ['']);
  });

  test('an invalid payload is 400 naming the offending fields', async () => {
    const event = signedEvent('ContactCreate', { id: 42, tags: 'not-a-list' });
    const answer = await post(t, '/webhooks/ghl', event.body, event.headers);
    assert.equal(answer.status, 400);
    const paths = fieldPaths(answer);
    assert.ok(paths.includes('id'), `fields name id: ${paths.join(', ')}`);
    assert.ok(paths.includes('tags'), `fields name tags: ${paths.join(', ')}`);
    assert.equal(t.enqueued.length, 0);
  });

  test('a wrong content type is 415 UNSUPPORTED_MEDIA_TYPE', async () => {
    const event = signedEvent('ContactCreate');
    const answer = await post(t, '/webhooks/ghl', event.body, { ...event.headers, 'content-type': 'text/plain' });
    assert.equal(answer.status, 415);
    assert.equal(answer.json.code, 'UNSUPPORTED_MEDIA_TYPE');
  });

  test('a 2 MiB body is 413 BODY_TOO_LARGE', async () => {
    const body = JSON.stringify({ type: 'ContactCreate', padding: 'x'.repeat(2 * 1024 * 1024) });
    const answer = await post(t, '/webhooks/ghl', body, JSON_HEADERS);
    assert.equal(answer.status, 413);
    assert.equal(answer.json.code, 'BODY_TOO_LARGE');
  });

  test('an unknown event type, or a location the bridge does not serve, is 200 ignored and asks for nothing', async () => {
    const unknown = signedEvent('ContactCreate', { type: 'OpportunityCreate' });
    const ignoredType = await post(t, '/webhooks/ghl', unknown.body, unknown.headers);
    assert.equal(ignoredType.status, 200);
    assert.equal(ignoredType.json.status, 'ignored');
    const elsewhere = signedEvent('ContactCreate', { locationId: 'someOtherLocation' });
    const ignoredLocation = await post(t, '/webhooks/ghl', elsewhere.body, elsewhere.headers);
    assert.equal(ignoredLocation.status, 200);
    assert.equal(ignoredLocation.json.status, 'ignored');
    assert.equal(t.enqueued.length, 0);
  });

  test('a timestamp more than 5 minutes ahead is 401; an old one is accepted', async () => {
    const future = signedEvent('ContactCreate', { timestamp: new Date(Date.now() + 10 * 60_000).toISOString() });
    assert.equal((await post(t, '/webhooks/ghl', future.body, future.headers)).status, 401);
    const old = signedEvent('ContactCreate', { timestamp: new Date(Date.now() - 6 * 3_600_000).toISOString() });
    assert.equal((await post(t, '/webhooks/ghl', old.body, old.headers)).json.status, 'accepted');
  });

  test("with GHL_APP_ID, another app's install, uninstall or contact event is 200 ignored and asks for nothing", async () => {
    const own = 've9EPM428h8vShlRW1KT';
    const scoped = await buildTestApp({ env: { ...ENV, GHL_APP_ID: own } });
    try {
      for (const [fixture, type] of [['AppInstall.location-whitelabeled', 'INSTALL'], ['AppUninstall.location', 'UNINSTALL'], ['ContactCreate', 'ContactCreate']] as const) {
        const foreign = signedEvent(fixture, { type, appId: 'anotherApp0000000001', locationId: FIXTURE_LOCATION_ID });
        const answer = await post(scoped, '/webhooks/ghl', foreign.body, foreign.headers);
        assert.equal(answer.status, 200, answer.text);
        assert.deepEqual([answer.json.status, answer.json.reason], ['ignored', 'event of another marketplace app']);
      }
      assert.equal(scoped.enqueued.length, 0);
      const ours = signedEvent('AppUninstall.location', { type: 'UNINSTALL', appId: own, locationId: FIXTURE_LOCATION_ID });
      assert.equal((await post(scoped, '/webhooks/ghl', ours.body, ours.headers)).json.status, 'accepted');
      const unnamed = signedEvent('ContactCreate');
      assert.equal((await post(scoped, '/webhooks/ghl', unnamed.body, unnamed.headers)).json.status, 'accepted', 'an event without appId: as before');
    } finally {
      await scoped.close();
    }
  });

  test('install events arriving as INSTALL are accepted', async () => {
    const event = signedEvent('AppInstall.location-whitelabeled', { type: 'INSTALL' });
    const answer = await post(t, '/webhooks/ghl', event.body, event.headers);
    assert.equal(answer.status, 200, answer.text);
    assert.equal(answer.json.status, 'accepted');
  });

  test('an event accepted as sent is queued as its verified bytes; a renamed type is serialized under its name', async () => {
    const plain = signedEvent('ContactUpdate', {}, 'ed25519');
    const install = signedEvent('AppInstall.location-whitelabeled', { type: 'INSTALL' }, 'ed25519');
    // A byte order mark may precede a body, never a value inside the job: it is left out.
    const withMark = { ...JSON.parse(signedEvent('NoteCreate').body), webhookId: 'with-a-byte-order-mark' };
    const markBody = `\uFEFF${JSON.stringify(withMark)}`;
    for (const [body, headers] of [[plain.body, plain.headers], [install.body, install.headers], [markBody, { ...JSON_HEADERS, ...createTestSigner().sign(markBody, 'ed25519') }]] as const) {
      const answer = await post(t, '/webhooks/ghl', body, headers);
      assert.equal(answer.json.status, 'accepted', answer.text);
    }
    const [asBytes, renamed, marked] = t.enqueued;
    assert.equal(asBytes?.serialized, true);
    assert.deepEqual(asBytes?.data, { source: 'marketplace', receivedAt: (asBytes?.data as { receivedAt: number }).receivedAt, event: JSON.parse(plain.body) });
    assert.equal(renamed?.serialized, false);
    assert.equal((renamed?.data as { event: { type: string } }).event.type, 'AppInstall');
    assert.equal(marked?.serialized, true);
    assert.deepEqual((marked?.data as { event: unknown }).event, withMark);
  });

  test('with the queue unavailable the answer is 429 with Retry-After, and /health still answers', async () => {
    const down = await buildTestApp({ env: ENV, producer: unavailableProducer() });
    try {
      const event = signedEvent('ContactUpdate');
      const answer = await post(down, '/webhooks/ghl', event.body, event.headers);
      assert.equal(answer.status, 429);
      assert.ok(Number(answer.headers['retry-after']) > 0, 'Retry-After is set');
      assert.equal((await inject(down.app, { url: '/health' })).status, 200);
    } finally {
      await down.close();
    }
  });
});

describe('POST /webhooks/ghl/workflow', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await buildTestApp({ env: ENV });
  });
  afterEach(() => t.close());

  const body = JSON.stringify({ contact_id: 'wfContact0001', email: 'ada@example.com', first_name: 'Ada', location: { id: FIXTURE_LOCATION_ID } });

  test('without the shared secret, or with a wrong one, it is 401', async () => {
    assert.equal((await post(t, '/webhooks/ghl/workflow', body, JSON_HEADERS)).status, 401);
    assert.equal((await post(t, '/webhooks/ghl/workflow?token=wrong-token', body, JSON_HEADERS)).status, 401);
    assert.equal(t.enqueued.length, 0);
  });

  test('the secret as query token or header is accepted; an identical body is the same delivery', async () => {
    const first = await post(t, `/webhooks/ghl/workflow?token=${WORKFLOW_SECRET}`, body, JSON_HEADERS);
    assert.equal(first.status, 200, first.text);
    assert.equal(first.json.status, 'accepted');
    const second = await post(t, '/webhooks/ghl/workflow', body, { ...JSON_HEADERS, 'x-webhook-token': WORKFLOW_SECRET });
    assert.equal(second.json.status, 'duplicate');
    assert.equal(t.enqueued.length, 1);
  });

  test('a body without a contact id is 400', async () => {
    const answer = await post(t, '/webhooks/ghl/workflow', JSON.stringify({ email: 'x@example.com' }), { ...JSON_HEADERS, 'x-webhook-token': WORKFLOW_SECRET });
    assert.equal(answer.status, 400);
  });
});

describe('POST /webhooks/trustpilot and /webhooks/opinionstage', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await buildTestApp({ env: ENV });
  });
  afterEach(() => t.close());

  const review = JSON.stringify({ events: [{ eventName: 'service-review-updated', version: '1', eventData: { id: 'reviewUnit0001', stars: 5 } }] });

  test('Trustpilot: without the token 401; with it the review event is asked for', async () => {
    assert.equal((await post(t, '/webhooks/trustpilot', review, JSON_HEADERS)).status, 401);
    const answer = await post(t, '/webhooks/trustpilot', review, { ...JSON_HEADERS, 'x-webhook-token': TRUSTPILOT_SECRET });
    assert.equal(answer.status, 200, answer.text);
    assert.equal(answer.json.status, 'accepted');
    assert.deepEqual(
      t.enqueued.map((request) => [request.queue, request.scope]),
      [[QUEUE_NAMES.trustpilotEvents, 'trustpilot']],
    );
  });

  test('Trustpilot: an empty events list is 400 naming events', async () => {
    const answer = await post(t, '/webhooks/trustpilot', JSON.stringify({ events: [] }), { ...JSON_HEADERS, 'x-webhook-token': TRUSTPILOT_SECRET });
    assert.equal(answer.status, 400);
    assert.ok(fieldPaths(answer).some((path) => path.startsWith('events')), answer.text);
  });

  test('Trustpilot: a text body is 400 (only /webhooks/ghl refuses other content types with 415), 2 MiB is 413', async () => {
    const headers = { 'x-webhook-token': TRUSTPILOT_SECRET };
    assert.equal((await post(t, '/webhooks/trustpilot', review, { ...headers, 'content-type': 'text/plain' })).status, 400);
    assert.equal((await post(t, '/webhooks/trustpilot', Buffer.alloc(2 * 1024 * 1024, 0x20), { ...headers, ...JSON_HEADERS })).status, 413);
  });

  test('Trustpilot: with the queue unavailable the answer is 429 with Retry-After', async () => {
    const down = await buildTestApp({ env: ENV, producer: unavailableProducer() });
    try {
      const answer = await post(down, '/webhooks/trustpilot', review, { ...JSON_HEADERS, 'x-webhook-token': TRUSTPILOT_SECRET });
      assert.equal(answer.status, 429);
      assert.ok(Number(answer.headers['retry-after']) > 0);
    } finally {
      await down.close();
    }
  });

  test('Opinion Stage: without the token 401; a text body or an empty object is 400', async () => {
    assert.equal((await post(t, '/webhooks/opinionstage', '{}', JSON_HEADERS)).status, 401);
    assert.equal((await post(t, '/webhooks/opinionstage', '{}', { 'content-type': 'text/plain', 'x-webhook-token': OPINIONSTAGE_SECRET })).status, 400);
    const invalid = await post(t, '/webhooks/opinionstage', '{}', { ...JSON_HEADERS, 'x-webhook-token': OPINIONSTAGE_SECRET });
    assert.equal(invalid.status, 400, invalid.text);
    assert.equal(t.enqueued.length, 0);
  });
});
