/**
 * The failure policy against real upstream answers: 5xx retries then succeeds, 429 waits without
 * burning an attempt, 404/401 fail at once into the dead-letter queue, and a 404 for a contact the
 * bridge saw deleted completes as skipped. The failing reads are of syncs that have no webhook
 * snapshot to plan from (a reconcile, a retry): a contact webhook's sync does not read the contact.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import { scheduleContactSync } from '../../../src/lifecycle/container.js';
import { DeadLetterJobSchema, QUEUE_NAMES } from '../../../src/queue/catalog.js';
import { startGhlSimulator, type GhlSimulator } from '../../../src/sandbox/ghl/simulator.js';
import { simulatorEnv, startTestBridge, type TestBridge } from '../../helpers/bridge.js';
import { waitFor } from '../../helpers/wait.js';
import { startRedisServer, type RedisServerHandle } from '../../helpers/redis-server.js';

const LOCATION_ID = 'locFailures0000000001';
const TOKEN = 'pit-failures-token-0001';

describe('failure policy', () => {
  let redis: RedisServerHandle;
  let ghl: GhlSimulator;
  let bridge: TestBridge;

  before(async () => {
    redis = await startRedisServer();
    ghl = await startGhlSimulator({ locations: [{ id: LOCATION_ID, token: TOKEN }] });
    bridge = await startTestBridge({ mode: 'all', redisUrl: redis.url, env: simulatorEnv(ghl, LOCATION_ID, TOKEN) });
    ghl.setWebhookUrl(`${bridge.url}/webhooks/ghl`);
  });

  afterEach(() => ghl.clearFaults());

  after(async () => {
    await bridge.close();
    await ghl.close();
    await redis.close();
  });

  const readsOf = (contactId: string) => ghl.calls.filter((call) => call.method === 'GET' && call.path === `/contacts/${contactId}`);

  /** A contact GHL sent no webhook for (made before the bridge listened), synced as reconcile would. */
  async function contactWithoutSnapshot(firstName: string, email: string) {
    const contact = ghl.store.insertContact(LOCATION_ID, { firstName, email });
    await scheduleContactSync(bridge.container.queues[QUEUE_NAMES.contactSync], { locationId: LOCATION_ID, contactId: contact.id, reason: 'reconcile', triggeredAt: Date.now() }, 0);
    return contact;
  }

  async function syncOutcome(contactId: string) {
    return waitFor(async () => (await bridge.container.queues[QUEUE_NAMES.contactSync].getJobs(['completed', 'failed'])).find((job) => job.data.contactId === contactId && job.finishedOn), 20_000, `the sync of ${contactId} to finish`);
  }

  async function deadLetterFor(contactId: string) {
    return waitFor(async () => {
      const jobs = await bridge.container.queues[QUEUE_NAMES.deadLetter].getJobs(['waiting']);
      return jobs.map((job) => DeadLetterJobSchema.parse(job.data)).find((entry) => JSON.stringify(entry.data).includes(contactId));
    }, 20_000, `a dead letter for ${contactId}`);
  }

  test('5xx answers are retried until the read succeeds', async () => {
    ghl.injectFault({ fault: { kind: 'status', status: 503 }, method: 'GET', path: /^\/contacts\/[^/]+$/, times: 2 });
    const contact = await contactWithoutSnapshot('Retry', 'retry@example.com');
    const job = await syncOutcome(contact.id);
    assert.equal(job.returnvalue?.outcome, 'synced');
    assert.equal(job.attemptsMade, 3, 'two failed attempts, then success');
    assert.deepEqual(readsOf(contact.id).map((call) => call.status), [503, 503, 200]);
    // The contact's timeline: each failed attempt with the call it made and how long it took.
    const syncs = await bridge.container.syncDeps.facts.history.syncs(LOCATION_ID, contact.id);
    const failed = syncs.filter((sync) => sync.outcome === 'failed');
    assert.equal(failed.length, 2, JSON.stringify(syncs));
    for (const sync of failed) {
      assert.equal(sync.upstreamCalls, 1, 'the read that failed');
      assert.equal(sync.trigger, 'reconcile');
      assert.ok(sync.durationMs >= 0 && sync.at + sync.durationMs >= readsOf(contact.id)[0]!.at, JSON.stringify(sync));
    }
  });

  test('a 429 waits for the reset and burns no attempt', async () => {
    ghl.injectFault({ fault: { kind: 'rate-limit', retryAfterSeconds: 1 }, method: 'GET', path: /^\/contacts\/[^/]+$/, times: 1 });
    const contact = await contactWithoutSnapshot('Limited', 'limited@example.com');
    const job = await syncOutcome(contact.id);
    assert.equal(job.returnvalue?.outcome, 'synced');
    assert.equal(job.attemptsMade, 1, 'the 429 did not count as a failed attempt');
    const [limited, ok] = readsOf(contact.id);
    assert.equal(limited?.status, 429);
    assert.ok(ok && ok.at - limited.at >= 900, 'the retry waited for Retry-After');
  });

  test('a 404 for a contact not known to be deleted fails at once into the dead letters', async () => {
    ghl.injectFault({ fault: { kind: 'status', status: 404, body: { statusCode: 404, message: 'Contact not found' } }, method: 'GET', path: /^\/contacts\/[^/]+$/ });
    const contact = await contactWithoutSnapshot('Missing', 'missing@example.com');
    const letter = await deadLetterFor(contact.id);
    assert.equal(letter.queue, QUEUE_NAMES.contactSync);
    assert.match(letter.failedReason, /^ghl:404/);
    assert.equal(readsOf(contact.id).length, 1, 'no retry for a permanent error');
    const [sync] = await bridge.container.syncDeps.facts.history.syncs(LOCATION_ID, contact.id);
    assert.equal(sync?.outcome, 'failed');
    assert.equal(sync.upstreamCalls, 1);
    // The dashboard's dead-letter chart counts it in this minute.
    const points = await bridge.container.syncDeps.facts.series.read('hour');
    assert.ok(points.reduce((sum, point) => sum + (point.counts['dead-letter:contact-sync'] ?? 0), 0) >= 1, 'a dead-letter point');
  });

  test('an expired private token fails at once (no refresh possible) and never leaks into the dead letter', async () => {
    ghl.injectFault({ fault: { kind: 'token-expired' }, method: 'GET', path: /^\/contacts\/[^/]+$/ });
    const contact = await contactWithoutSnapshot('Expired', 'expired@example.com');
    const letter = await deadLetterFor(contact.id);
    assert.match(letter.failedReason, /^ghl:401/);
    assert.ok(!JSON.stringify(letter).includes(TOKEN));
    assert.equal(readsOf(contact.id).length, 1);
  });

  test('a 404 after ContactDelete completes as skipped, without a dead letter', async () => {
    const contact = ghl.userCreateContact(LOCATION_ID, { firstName: 'Gone', email: 'gone@example.com' });
    await syncOutcome(contact.id);
    ghl.userDeleteContact(LOCATION_ID, contact.id);
    await ghl.idle();
    await waitFor(() => ghl.deliveries.find((delivery) => delivery.type === 'ContactDelete' && delivery.status === 200));
    // A late update for the deleted contact (GHL does not order deliveries).
    await bridge.container.queues[QUEUE_NAMES.contactSync].add('sync', { locationId: LOCATION_ID, contactId: contact.id, reason: 'manual', triggeredAt: Date.now() });
    const skipped = await waitFor(async () => (await bridge.container.queues[QUEUE_NAMES.contactSync].getJobs(['completed'])).find((job) => job.data.contactId === contact.id && job.returnvalue?.outcome === 'skipped'));
    assert.equal(skipped.returnvalue.reason, 'contact-deleted');
    const letters = await bridge.container.queues[QUEUE_NAMES.deadLetter].getJobs(['waiting']);
    assert.ok(!letters.some((job) => JSON.stringify(job.data).includes(contact.id)));
  });
});
