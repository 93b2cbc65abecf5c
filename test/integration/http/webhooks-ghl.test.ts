/**
 * POST /webhooks/ghl and /webhooks/ghl/workflow over real HTTP, against a real Redis: what is
 * answered, and what ends up queued.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { request } from 'undici';
import { QUEUE_NAMES } from '../../../src/queue/catalog.js';
import { startTestBridge, type TestBridge } from '../../helpers/bridge.js';
import { createTestSigner, signedEvent } from '../../helpers/ghl-signing.js';
import { startRedisServer, type RedisServerHandle } from '../../helpers/redis-server.js';

const LOCATION_ID = 've9EPM428h8vShlRW1KT';
const WORKFLOW_SECRET = 'workflow-secret-for-tests-0001';

describe('GHL webhook ingest', () => {
  let redis: RedisServerHandle;
  let bridge: TestBridge;

  before(async () => {
    redis = await startRedisServer();
    const signer = createTestSigner();
    bridge = await startTestBridge({
      mode: 'web',
      redisUrl: redis.url,
      env: {
        GHL_PRIVATE_TOKEN: 'pit-test-token-000000',
        GHL_LOCATION_ID: LOCATION_ID,
        GHL_WEBHOOK_ED25519_PUBLIC_KEY: signer.ed25519PublicKeyPem,
        GHL_WEBHOOK_PUBLIC_KEY: signer.rsaPublicKeyPem,
        GHL_WEBHOOK_SECRET: WORKFLOW_SECRET,
      },
    });
  });

  after(async () => {
    await bridge.close();
    await redis.close();
  });

  async function post(path: string, body: string | Buffer, headers: Record<string, string>) {
    // A hang (ingest waiting on a dead Redis) fails here rather than at the runner's timeout.
    const response = await request(`${bridge.url}${path}`, { method: 'POST', body, headers, headersTimeout: 30_000 });
    const text = await response.body.text();
    return { status: response.statusCode, headers: response.headers, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
  }

  async function queuedJobs(): Promise<number> {
    const counts = await bridge.container.queues[QUEUE_NAMES.ghlWebhooks].getJobCounts('waiting', 'delayed', 'active', 'completed');
    return Object.values(counts).reduce((sum, count) => sum + count, 0);
  }

  test('an Ed25519-signed ContactCreate is queued with the id that is answered', async () => {
    const event = signedEvent('ContactCreate', {}, 'ed25519');
    const response = await post('/webhooks/ghl', event.body, event.headers);
    assert.equal(response.status, 200);
    assert.equal(response.json.status, 'accepted');
    const job = await bridge.container.queues[QUEUE_NAMES.ghlWebhooks].getJob(String(response.json.id));
    assert.ok(job, 'the answered id names a stored job');
    assert.equal(job.data.event.type, 'ContactCreate');
    assert.equal(job.data.source, 'marketplace');
  });

  test('a legacy RSA-signed event is accepted', async () => {
    const event = signedEvent('ContactUpdate', {}, 'rsa');
    const response = await post('/webhooks/ghl', event.body, event.headers);
    assert.equal(response.status, 200);
    assert.equal(response.json.status, 'accepted');
  });

  test('the same webhookId three times makes one job', async () => {
    const before = await queuedJobs();
    const event = signedEvent('NoteCreate');
    const answers = [];
    for (let i = 0; i < 3; i++) answers.push(await post('/webhooks/ghl', event.body, event.headers));
    assert.deepEqual(
      answers.map((answer) => answer.json.status),
      ['accepted', 'duplicate', 'duplicate'],
    );
    assert.equal(new Set(answers.map((answer) => answer.json.id)).size, 1, 'duplicates name the first job');
    assert.equal((await queuedJobs()) - before, 1);
  });

  test('concurrent redeliveries of one webhookId still make one job', async () => {
    const before = await queuedJobs();
    const event = signedEvent('TaskCreate');
    const answers = await Promise.all(Array.from({ length: 5 }, () => post('/webhooks/ghl', event.body, event.headers)));
    assert.ok(answers.every((answer) => answer.status === 200));
    assert.equal((await queuedJobs()) - before, 1);
  });

  test('a bad or missing signature is 401 and queues nothing', async () => {
    const before = await queuedJobs();
    const event = signedEvent('ContactCreate');
    const other = signedEvent('ContactCreate');
    const wrongSignature = await post('/webhooks/ghl', event.body, { ...event.headers, 'x-ghl-signature': other.headers['x-ghl-signature'] ?? '' });
    assert.equal(wrongSignature.status, 401);
    assert.equal(wrongSignature.json.code, 'SIGNATURE_INVALID');

    const tampered = await post('/webhooks/ghl', event.body.replace('John', 'Jahn'), event.headers);
    assert.equal(tampered.status, 401);

    const unsigned = await post('/webhooks/ghl', event.body, { 'content-type': 'application/json' });
    assert.equal(unsigned.status, 401);
    assert.equal(unsigned.json.code, 'SIGNATURE_MISSING');
    assert.equal(await queuedJobs(), before);
  });

  test('an Ed25519 signature that fails is not rescued by a valid RSA one', async () => {
    const event = signedEvent('ContactCreate');
    const response = await post('/webhooks/ghl', event.body, { ...event.headers, 'x-ghl-signature': Buffer.alloc(64, 1).toString('base64') });
    assert.equal(response.status, 401);
  });

  test('malformed JSON is 400', async () => {
    const body = '{"type": "ContactCreate", ';
    const response = await post('/webhooks/ghl', body, { 'content-type': 'application/json', ...createTestSigner().sign(body) });
    assert.equal(response.status, 400);
    assert.equal(response.json.code, 'INVALID_JSON');
  });

  test('an invalid payload is 400 naming the offending fields', async () => {
    const event = signedEvent('ContactCreate', { id: 42, tags: 'not-a-list' });
    const response = await post('/webhooks/ghl', event.body, event.headers);
    assert.equal(response.status, 400);
    const paths = (response.json.fields as { path: string }[]).map((field) => field.path);
    assert.ok(paths.includes('id'), `fields name id: ${paths.join(', ')}`);
    assert.ok(paths.includes('tags'), `fields name tags: ${paths.join(', ')}`);
  });

  test('wrong content type is 415', async () => {
    const event = signedEvent('ContactCreate');
    const response = await post('/webhooks/ghl', event.body, { ...event.headers, 'content-type': 'text/plain' });
    assert.equal(response.status, 415);
  });

  test('a 2 MiB body is 413', async () => {
    const body = JSON.stringify({ type: 'ContactCreate', padding: 'x'.repeat(2 * 1024 * 1024) });
    const response = await post('/webhooks/ghl', body, { 'content-type': 'application/json' });
    assert.equal(response.status, 413);
  });

  test('an unknown event type is 200 ignored and queues nothing', async () => {
    const before = await queuedJobs();
    const event = signedEvent('ContactCreate', { type: 'OpportunityCreate' });
    const response = await post('/webhooks/ghl', event.body, event.headers);
    assert.equal(response.status, 200);
    assert.equal(response.json.status, 'ignored');
    assert.equal(await queuedJobs(), before);
  });

  test('an event for a location the bridge does not serve is 200 ignored', async () => {
    const event = signedEvent('ContactCreate', { locationId: 'someOtherLocation' });
    const response = await post('/webhooks/ghl', event.body, event.headers);
    assert.equal(response.status, 200);
    assert.equal(response.json.status, 'ignored');
  });

  test('a timestamp more than 5 minutes ahead is 401; an old one is accepted', async () => {
    const future = signedEvent('ContactCreate', { timestamp: new Date(Date.now() + 10 * 60_000).toISOString() });
    assert.equal((await post('/webhooks/ghl', future.body, future.headers)).status, 401);
    const old = signedEvent('ContactCreate', { timestamp: new Date(Date.now() - 6 * 3_600_000).toISOString() });
    assert.equal((await post('/webhooks/ghl', old.body, old.headers)).json.status, 'accepted');
  });

  test('install events arriving as INSTALL are accepted', async () => {
    const event = signedEvent('AppInstall.location-whitelabeled', { type: 'INSTALL' });
    const response = await post('/webhooks/ghl', event.body, event.headers);
    assert.equal(response.status, 200);
    assert.equal(response.json.status, 'accepted');
  });

  test('workflow webhooks need the shared secret and dedupe identical bodies', async () => {
    const body = JSON.stringify({ contact_id: 'wfContact0001', email: 'ada@example.com', first_name: 'Ada', location: { id: LOCATION_ID } });
    const headers = { 'content-type': 'application/json' };
    assert.equal((await post('/webhooks/ghl/workflow', body, headers)).status, 401);
    assert.equal((await post('/webhooks/ghl/workflow?token=wrong-token', body, headers)).status, 401);
    const first = await post(`/webhooks/ghl/workflow?token=${WORKFLOW_SECRET}`, body, headers);
    assert.equal(first.status, 200);
    assert.equal(first.json.status, 'accepted');
    const second = await post('/webhooks/ghl/workflow', body, { ...headers, 'x-webhook-token': WORKFLOW_SECRET });
    assert.equal(second.json.status, 'duplicate');
    const invalid = await post('/webhooks/ghl/workflow', JSON.stringify({ email: 'x@example.com' }), { ...headers, 'x-webhook-token': WORKFLOW_SECRET });
    assert.equal(invalid.status, 400);
  });

  // "Quickly" is the producer's own deadline (ingestTimeoutMs), not a wall-clock bound here: the point is
  // that ingest answers 429 instead of hanging on Redis, which the request's own timeout would catch.
  test('with Redis down, ingest answers 429 with Retry-After instead of waiting, then recovers alone', async () => {
    await redis.stop();
    try {
      const event = signedEvent('ContactUpdate');
      const response = await post('/webhooks/ghl', event.body, event.headers);
      assert.equal(response.status, 429);
      assert.ok(Number(response.headers['retry-after']) > 0, 'Retry-After is set');
      const health = await request(`${bridge.url}/health`);
      assert.equal(health.statusCode, 200, 'the process is still alive');
      await health.body.dump();
      const ready = await request(`${bridge.url}/ready`);
      assert.equal(ready.statusCode, 503, 'not ready without Redis');
      await ready.body.dump();
    } finally {
      await redis.start();
    }
    const deadline = Date.now() + 10_000;
    let status = 0;
    while (Date.now() < deadline) {
      const event = signedEvent('ContactUpdate');
      const response = await post('/webhooks/ghl', event.body, event.headers);
      status = response.status;
      if (status === 200) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.equal(status, 200, 'ingest recovered after Redis came back');
  });

  test('with Redis frozen (slow, not down), ingest still answers 429 instead of waiting', async () => {
    redis.freeze();
    try {
      const event = signedEvent('ContactUpdate');
      const response = await post('/webhooks/ghl', event.body, event.headers);
      assert.equal(response.status, 429);
    } finally {
      redis.thaw();
    }
    const event = signedEvent('ContactUpdate');
    const recovered = await post('/webhooks/ghl', event.body, event.headers);
    assert.equal(recovered.status, 200);
  });
});
