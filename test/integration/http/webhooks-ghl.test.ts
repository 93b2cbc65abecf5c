/**
 * POST /webhooks/ghl and /webhooks/ghl/workflow over real HTTP, against a real Redis, where Redis is
 * the point: what ends up queued, redeliveries deduplicated in Redis, and a Redis that is down or
 * frozen. Status codes and error shapes are in test/unit/http/webhook-routes.test.ts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { request } from 'undici';
import { GhlWebhookJobSchema, QUEUE_NAMES } from '../../../src/queue/catalog.js';
import { startTestBridge, type TestBridge } from '../../helpers/bridge.js';
import { countQueuedOrInbox, queuedOrInbox } from '../../helpers/inbox.js';
import { createTestSigner, signedEvent } from '../../helpers/ghl-signing.js';
import { waitFor } from '../../helpers/wait.js';
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

  /** A web-only bridge runs no pump: what it accepted waits in the inbox. */
  const queuedJobs = () => countQueuedOrInbox(bridge.container.queues[QUEUE_NAMES.ghlWebhooks]);

  test('an Ed25519-signed ContactCreate is queued with the id that is answered', async () => {
    const event = signedEvent('ContactCreate', {}, 'ed25519');
    const response = await post('/webhooks/ghl', event.body, event.headers);
    assert.equal(response.status, 200);
    assert.equal(response.json.status, 'accepted');
    const job = await queuedOrInbox(bridge.container.queues[QUEUE_NAMES.ghlWebhooks], String(response.json.id));
    assert.ok(job, 'the answered id names a stored delivery');
    const data = GhlWebhookJobSchema.parse(job.data);
    assert.equal(data.event.type, 'ContactCreate');
    assert.equal(data.source, 'marketplace');
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

  test('identical workflow bodies make one job', async () => {
    const before = await queuedJobs();
    const body = JSON.stringify({ contact_id: 'wfContact0001', email: 'ada@example.com', first_name: 'Ada', location: { id: LOCATION_ID } });
    const headers = { 'content-type': 'application/json', 'x-webhook-token': WORKFLOW_SECRET };
    const first = await post('/webhooks/ghl/workflow', body, headers);
    assert.equal(first.status, 200);
    assert.equal(first.json.status, 'accepted');
    const second = await post('/webhooks/ghl/workflow', body, headers);
    assert.equal(second.json.status, 'duplicate');
    assert.equal((await queuedJobs()) - before, 1);
  });

  // "Quickly" is the producer's own deadline (ingestTimeoutMs), not a wall-clock bound here: the point is
  // that ingest answers 429 instead of hanging on Redis, which the request's own timeout would catch.
  test('/ready shows what waits in the inbox of a web process with no worker, and stays ready', async () => {
    const event = signedEvent('ContactUpdate', {}, 'ed25519');
    assert.equal((await post('/webhooks/ghl', event.body, event.headers)).json.status, 'accepted');
    const ready = await request(`${bridge.url}/ready`);
    const body = (await ready.body.json()) as { checks: Record<string, { ok: boolean; detail?: string }> };
    assert.equal(ready.statusCode, 200);
    assert.equal(body.checks.inbox?.ok, true);
    assert.match(body.checks.inbox?.detail ?? '', /^\d+ waiting, oldest \d+ s$/);
  });

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
    const status = await waitFor(
      async () => {
        const event = signedEvent('ContactUpdate');
        const response = await post('/webhooks/ghl', event.body, event.headers);
        return response.status === 200 ? response.status : undefined;
      },
      10_000,
      'ingest to accept again after Redis came back',
      100,
    );
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
