/**
 * The GHL webhook router with real queues and a real Redis: each event family lands where it should
 * (contact events in contact-sync with their snapshot stored, every forwarded change in the push
 * queue), an echo of the bridge's own write is dropped, a deletion is remembered, and the completion
 * of a task the bridge made is recorded in its ledger.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Job } from 'bullmq';
import { contactFingerprint, fingerprintScope } from '../../../src/domain/contact-fingerprint.js';
import { scheduleContactSync } from '../../../src/lifecycle/container.js';
import { ContactSyncJobSchema, PushEventSchema, QUEUE_NAMES, type GhlWebhookJob } from '../../../src/queue/catalog.js';
import { createGhlWebhookProcessor } from '../../../src/workers/ghl-webhook-processor.js';
import { LOCATION_ID, startWorkerWorld, type WorkerWorld } from './worker-world.js';

const CONTACT_ID = 'contactRouter00000001';

describe('GHL webhook router', () => {
  let world: WorkerWorld;

  before(async () => {
    world = await startWorkerWorld();
  });
  after(() => world.close());

  function setup(options: { appId?: string; uninstalled?: string[] } = {}) {
    const stores = world.stores();
    const router = createGhlWebhookProcessor({
      ports: {
        scheduleContactSync: (job) => scheduleContactSync(stores.queues[QUEUE_NAMES.contactSync], job, 0),
        forward: async (event) => void (await stores.queues[QUEUE_NAMES.opinionStagePush].add(event.type, event)),
        appUninstalled: async (locationId) => void options.uninstalled?.push(locationId),
      },
      ...(options.appId === undefined ? {} : { appId: options.appId }),
      facts: stores.facts,
      ledger: stores.ledger,
      fingerprints: stores.fingerprints,
      snapshots: stores.snapshots,
      fieldIds: stores.fieldIds,
      mapping: stores.mapping,
      metrics: stores.metrics,
      logger: stores.logger,
    });
    let n = 0;
    const route = (event: Record<string, unknown>, source: GhlWebhookJob['source'] = 'marketplace') => {
      const data: GhlWebhookJob = { source, receivedAt: Date.now(), event };
      n += 1;
      return router({ id: `job-${n}`, data } as unknown as Job);
    };
    const syncJobs = async () => (await stores.queues[QUEUE_NAMES.contactSync].getJobs(['waiting', 'delayed', 'prioritized'])).map((job) => ContactSyncJobSchema.parse(job.data));
    const pushed = async () => (await stores.queues[QUEUE_NAMES.opinionStagePush].getJobs(['waiting'])).map((job) => PushEventSchema.parse(job.data));
    return { stores, route, syncJobs, pushed };
  }

  const contactEvent = (type: string, extra: Record<string, unknown> = {}) => ({
    type,
    locationId: LOCATION_ID,
    id: CONTACT_ID,
    firstName: 'Router',
    email: 'router@example.com',
    tags: ['vip'],
    customFields: [],
    ...extra,
  });

  test('contact events schedule a sync with their snapshot stored, and are forwarded', async () => {
    const { stores, route, syncJobs, pushed } = setup();
    assert.deepEqual(await route(contactEvent('ContactUpdate', { webhookId: 'wh-update-1' })), { routed: 'contact-sync', type: 'ContactUpdate' });

    const [job, ...more] = await syncJobs();
    assert.equal(more.length, 0);
    assert.deepEqual({ ...job, triggeredAt: 0 }, { locationId: LOCATION_ID, contactId: CONTACT_ID, reason: 'webhook', triggeredAt: 0, eventType: 'ContactUpdate' });
    const taken = await stores.snapshots.take(LOCATION_ID, CONTACT_ID);
    assert.deepEqual(taken.snapshot?.tags, ['vip']);
    assert.deepEqual((await pushed()).map((event) => [event.id, event.type, event.locationId]), [['wh-update-1', 'ContactUpdate', LOCATION_ID]]);
  });

  test('a workflow delivery schedules a sync with no snapshot: its sync reads the contact', async () => {
    const { stores, route, syncJobs } = setup();
    const workflowEvent = { type: 'ContactUpdate', origin: 'workflow', locationId: LOCATION_ID, id: CONTACT_ID, email: 'router@example.com', tags: ['vip'] };
    assert.deepEqual(await route(workflowEvent, 'workflow'), { routed: 'contact-sync', type: 'ContactUpdate' });
    assert.equal((await syncJobs()).length, 1);
    assert.equal((await stores.snapshots.take(LOCATION_ID, CONTACT_ID)).snapshot, undefined);
  });

  test("an echo of the bridge's own write is dropped, though still forwarded", async () => {
    const { stores, route, syncJobs, pushed } = setup();
    const fieldIds = await stores.fieldIds.resolve(LOCATION_ID);
    const event = contactEvent('ContactTagUpdate');
    await stores.fingerprints.remember(LOCATION_ID, CONTACT_ID, contactFingerprint(event, fingerprintScope(stores.mapping, fieldIds)), []);

    assert.deepEqual(await route(event), { routed: 'unchanged', type: 'ContactTagUpdate' });
    assert.deepEqual(await syncJobs(), []);
    assert.deepEqual(await pushed(), [], 'ContactTagUpdate is not a forwarded change');
    assert.deepEqual(await route(contactEvent('ContactUpdate')), { routed: 'unchanged', type: 'ContactUpdate' });
    assert.deepEqual((await pushed()).map((pushedEvent) => pushedEvent.type), ['ContactUpdate']);
  });

  test('ContactDelete is remembered and its waiting snapshot dropped', async () => {
    const { stores, route, syncJobs } = setup();
    await route(contactEvent('ContactCreate'));
    assert.deepEqual(await route(contactEvent('ContactDelete')), { routed: 'contact-deleted', type: 'ContactDelete' });
    assert.equal(await stores.facts.isDeleted(LOCATION_ID, CONTACT_ID), true);
    assert.equal((await stores.snapshots.take(LOCATION_ID, CONTACT_ID)).snapshot, undefined);
    assert.equal((await syncJobs()).length, 1, 'only the create scheduled a sync');
  });

  test("TaskComplete of the bridge's task is recorded; others' tasks and notes are only recorded as seen", async () => {
    const { stores, route, syncJobs, pushed } = setup();
    await stores.ledger.recordTask(LOCATION_ID, CONTACT_ID, 'followup:r1', 'taskOurs0000000000001', 'open', '2030-01-02T09:00:00.000Z');
    const task = (type: string, id: string) => ({ type, locationId: LOCATION_ID, id, contactId: CONTACT_ID, title: 'Call back' });

    assert.deepEqual(await route(task('TaskComplete', 'taskOurs0000000000001')), { routed: 'task-recorded', type: 'TaskComplete' });
    assert.equal((await stores.ledger.view(LOCATION_ID, CONTACT_ID)).tasks['followup:r1']?.status, 'completed');
    assert.deepEqual(await route(task('TaskComplete', 'taskTheirs00000000001')), { routed: 'recorded', type: 'TaskComplete' });
    assert.deepEqual(await route(task('TaskCreate', 'taskTheirs00000000002')), { routed: 'recorded', type: 'TaskCreate' });
    const note = { type: 'NoteCreate', locationId: LOCATION_ID, id: 'noteRouter0000000001', contactId: CONTACT_ID, body: 'hello' };
    assert.deepEqual(await route(note), { routed: 'recorded', type: 'NoteCreate' });
    assert.deepEqual(await route({ type: 'INSTALL', locationId: LOCATION_ID }), { routed: 'recorded', type: 'AppInstall' });

    assert.deepEqual(await syncJobs(), []);
    assert.deepEqual((await pushed()).map((event) => event.type).sort(), ['NoteCreate', 'TaskComplete', 'TaskComplete', 'TaskCreate']);
  });

  test("another app's uninstall or contact event changes nothing; this app's uninstall ends the location", async () => {
    const uninstalled: string[] = [];
    const { route, syncJobs, pushed } = setup({ appId: 'appOurs', uninstalled });
    assert.deepEqual(await route({ type: 'UNINSTALL', appId: 'appTheirs', locationId: LOCATION_ID }), { routed: 'foreign-app', type: 'AppUninstall' });
    assert.deepEqual(await route(contactEvent('ContactUpdate', { appId: 'appTheirs' })), { routed: 'foreign-app', type: 'ContactUpdate' });
    assert.deepEqual(uninstalled, []);
    assert.deepEqual(await syncJobs(), []);
    assert.deepEqual(await pushed(), []);
    assert.deepEqual(await route({ type: 'UNINSTALL', appId: 'appOurs', locationId: LOCATION_ID }), { routed: 'recorded', type: 'AppUninstall' });
    assert.deepEqual(await route({ type: 'UNINSTALL', locationId: LOCATION_ID }), { routed: 'recorded', type: 'AppUninstall' });
    assert.deepEqual(uninstalled, [LOCATION_ID, LOCATION_ID], 'ours, and one without appId, as before');
  });
});
