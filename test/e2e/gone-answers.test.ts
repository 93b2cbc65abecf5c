/**
 * "Gone" as GHL says it: a missing contact, note or task answered 404, or 400 / 422 whose message says
 * "not found" (the simulator's missing-entity switch). A note or task a user deleted is left alone, a
 * contact the bridge saw deleted completes as skipped, and any other refusal still dead-letters with
 * one alert.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { scheduleContactSync } from '../../src/lifecycle/container.js';
import { DeadLetterJobSchema, QUEUE_NAMES } from '../../src/queue/catalog.js';
import type { MissingEntityStatus } from '../../src/sandbox/ghl/missing-entity.js';
import type { GhlSimulator } from '../../src/sandbox/ghl/simulator.js';
import type { TrustpilotSimulator } from '../../src/sandbox/trustpilot/simulator.js';
import type { TestBridge } from '../helpers/bridge.js';
import { startWorld, type World } from '../helpers/world.js';
import { waitFor } from '../helpers/wait.js';
import { startRedisServer, type RedisServerHandle } from '../helpers/redis-server.js';

const LOCATION_ID = 'locGoneAnswers0000001';
const TOKEN = 'pit-gone-answers-0001';
const TP_SECRET = 'tp-webhook-secret-gone';
const STATUSES: MissingEntityStatus[] = [404, 400, 422];
// Long enough for the ContactDelete webhook to be stored and routed while the read waits.
const HELD_READ_MS = 8_000;

describe('GHL "gone" answers', () => {
  let redis: RedisServerHandle;
  let ghl: GhlSimulator;
  let tp: TrustpilotSimulator;
  let bridge: TestBridge;
  let world: World;

  before(async () => {
    redis = await startRedisServer();
    world = await startWorld({
      redisUrl: redis.url,
      locationId: LOCATION_ID,
      token: TOKEN,
      trustpilotWebhookSecret: TP_SECRET,
      env: { COALESCE_WINDOW_MS: '300', UPSTREAM_TIMEOUT: '30s' },
    });
    ({ ghl, tp, bridge } = world);
  });

  after(async () => {
    await world.close();
    await redis.close();
  });

  const settle = () => world.settle();
  const notes = (contactId: string) => ghl.store.listNotes(contactId);
  const tasks = (contactId: string) => ghl.store.listTasks(contactId);
  const callsTo = (method: string, path: string) => ghl.calls.filter((call) => call.method === method && call.path === path);

  async function deadLettersOf(contactId: string) {
    const jobs = await bridge.container.queues[QUEUE_NAMES.deadLetter].getJobs(['waiting']);
    return jobs.map((job) => DeadLetterJobSchema.parse(job.data)).filter((entry) => JSON.stringify(entry.data).includes(contactId));
  }

  async function alertsOf(contactId: string) {
    const jobs = await bridge.container.queues[QUEUE_NAMES.alerts].getJobs(['waiting', 'active', 'delayed', 'completed', 'failed']);
    return jobs.filter((job) => JSON.stringify(job.data).includes(contactId));
  }

  async function syncOutcome(contactId: string) {
    return waitFor(
      async () => (await bridge.container.queues[QUEUE_NAMES.contactSync].getJobs(['completed', 'failed'])).find((job) => job.data.contactId === contactId && job.finishedOn),
      20_000,
      `the sync of ${contactId} to finish`,
    );
  }

  for (const status of STATUSES) {
    test(`a note and a task deleted in GHL, answered ${status}, are left alone`, async () => {
      ghl.setMissingEntityStatus(status);
      const email = `left-alone-${status}@acme-widgets.com`;
      const review = tp.addReview({ stars: 1, title: 'Broken', text: 'Arrived broken.', referralEmail: email });
      const contact = ghl.userCreateContact(LOCATION_ID, { firstName: 'Left', lastName: `Alone ${status}`, email });
      await waitFor(() => (notes(contact.id).length > 0 && tasks(contact.id).length > 0 ? true : undefined), 15_000, 'the note and the task');
      await settle();
      const [note] = notes(contact.id);
      const [task] = tasks(contact.id);
      assert.ok(note && task);
      // Deleted in GHL with no webhook reaching the bridge: its next edit finds them gone.
      ghl.store.removeNote(contact.id, note.id);
      ghl.store.removeTask(contact.id, task.id);

      // An edit rewrites the note; the company's reply closes the follow-up task.
      tp.updateReview(review.id, { text: 'Arrived broken, and the replacement too.' });
      tp.replyToReview(review.id, 'Sorry: a new one is on its way.');
      const notePut = await waitFor(() => callsTo('PUT', `/contacts/${contact.id}/notes/${note.id}`).find((call) => call.status !== 0), 15_000, 'the note update');
      const taskPut = await waitFor(() => callsTo('PUT', `/contacts/${contact.id}/tasks/${task.id}/completed`).find((call) => call.status !== 0), 15_000, 'the task completion');
      await settle();
      assert.equal(notePut.status, status);
      assert.equal(taskPut.status, status);
      assert.equal(notes(contact.id).length, 0, 'the deleted note is not recreated');
      assert.equal(tasks(contact.id).length, 0, 'the deleted task is not recreated');
      assert.equal(callsTo('POST', `/contacts/${contact.id}/notes`).length, 1, 'one note create, before the deletion');
      assert.equal(callsTo('POST', `/contacts/${contact.id}/tasks`).length, 1, 'one task create, before the deletion');
      const runs = (await bridge.container.syncDeps.facts.recentSyncs(200)).filter((run) => run.contactId === contact.id);
      assert.equal(runs[0]?.outcome, 'synced', 'the run that met the deletions succeeded');
      assert.deepEqual(await deadLettersOf(contact.id), []);
      assert.equal((await alertsOf(contact.id)).length, 0);

      // A later edit still leaves the task alone: it is known deleted.
      tp.updateReview(review.id, { text: 'Arrived broken, and the replacement too. Refund pending.' });
      await waitFor(() => (callsTo('PUT', `/contacts/${contact.id}/notes/${note.id}`).length >= 2 ? true : undefined), 15_000, 'the second note update');
      await settle();
      assert.equal(ghl.calls.filter((call) => call.path.startsWith(`/contacts/${contact.id}/tasks/${task.id}`)).length, 1, 'a task known deleted is not written again');
      assert.equal(tasks(contact.id).length + notes(contact.id).length, 0);
      assert.deepEqual(await deadLettersOf(contact.id), []);
    });

    test(`a contact seen deleted, answered ${status}, completes as skipped`, async () => {
      ghl.setMissingEntityStatus(status);
      // Made before the bridge listened (no webhook, no snapshot): the sync reads it from GHL.
      const contact = ghl.store.insertContact(LOCATION_ID, { firstName: 'Seen', lastName: `Deleted ${status}`, email: `seen-deleted-${status}@example.com` });
      const path = `/contacts/${contact.id}`;
      ghl.injectFault({ fault: { kind: 'latency', ms: HELD_READ_MS }, method: 'GET', path: new RegExp(`^${path}$`), times: 1 });
      await scheduleContactSync(bridge.container.queues[QUEUE_NAMES.contactSync], { locationId: LOCATION_ID, contactId: contact.id, reason: 'reconcile', triggeredAt: Date.now() }, 0);
      await waitFor(() => (callsTo('GET', path).length > 0 ? true : undefined), 15_000, 'the read to start');
      // Deleted while the read waits; the ContactDelete webhook tells the bridge.
      ghl.userDeleteContact(LOCATION_ID, contact.id);
      await waitFor(async () => ((await bridge.container.syncDeps.facts.isDeleted(LOCATION_ID, contact.id)) ? true : undefined), 15_000, 'the deletion to be recorded');
      const job = await syncOutcome(contact.id);
      assert.equal(callsTo('GET', path)[0]?.status, status, 'the read met the deletion');
      assert.equal(job.returnvalue?.outcome, 'skipped');
      assert.equal(job.returnvalue?.reason, 'contact-deleted');
      assert.deepEqual(await deadLettersOf(contact.id), []);
      assert.equal((await alertsOf(contact.id)).length, 0);
    });
  }

  test('a contact not known to be deleted, answered 400 "not found", fails at once with one alert', async () => {
    ghl.setMissingEntityStatus(400);
    const contact = ghl.store.insertContact(LOCATION_ID, { firstName: 'Unknown', email: 'unknown-gone@example.com' });
    ghl.store.removeContact(contact.id);
    await scheduleContactSync(bridge.container.queues[QUEUE_NAMES.contactSync], { locationId: LOCATION_ID, contactId: contact.id, reason: 'reconcile', triggeredAt: Date.now() }, 0);
    const [letter] = await waitFor(async () => ((await deadLettersOf(contact.id)).length > 0 ? deadLettersOf(contact.id) : undefined), 20_000, 'the dead letter');
    assert.match(String(letter?.failedReason), /^ghl:400:not-found/);
    assert.equal(callsTo('GET', `/contacts/${contact.id}`).length, 1, 'no retry');
    await waitFor(async () => ((await alertsOf(contact.id)).length > 0 ? true : undefined), 10_000, 'the alert');
    await settle();
    assert.equal((await alertsOf(contact.id)).length, 1);
  });

  test('an unrelated 422 still dead-letters with one alert', async () => {
    ghl.setMissingEntityStatus(422);
    const email = 'unrelated-422@acme-widgets.com';
    tp.addReview({ stars: 2, title: 'Slow', text: 'Slow delivery.', referralEmail: email });
    ghl.injectFault({
      fault: { kind: 'status', status: 422, body: { statusCode: 422, message: ['title should not be empty'], error: 'Unprocessable Entity' } },
      method: 'POST',
      path: /^\/contacts\/[^/]+\/tasks$/,
      times: 1,
    });
    const contact = ghl.userCreateContact(LOCATION_ID, { firstName: 'Unrelated', email });
    const [letter] = await waitFor(async () => ((await deadLettersOf(contact.id)).length > 0 ? deadLettersOf(contact.id) : undefined), 20_000, 'the dead letter');
    assert.match(String(letter?.failedReason), /^ghl:422: /, 'a refusal, not a "gone"');
    await waitFor(async () => ((await alertsOf(contact.id)).length > 0 ? true : undefined), 10_000, 'the alert');
    await settle();
    assert.equal((await alertsOf(contact.id)).length, 1);
    assert.equal(callsTo('POST', `/contacts/${contact.id}/tasks`).length, 1, 'no retry');
  });
});
