/**
 * syncContact against the GHL simulator and a real Redis: a fresh webhook snapshot is planned from
 * without reading the contact; a snapshot observed before the bridge's own last write is refused and
 * the contact is read; a run not allowed a snapshot (an admin sync, a retry) reads it too.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { toSnapshot } from '../../../src/domain/contact-snapshot.js';
import { syncContact, type ContactSyncDeps } from '../../../src/workers/contact-sync-processor.js';
import { LOCATION_ID, startWorkerWorld, type WorkerWorld } from './worker-world.js';

describe('syncContact', () => {
  let world: WorkerWorld;

  before(async () => {
    world = await startWorkerWorld();
  });
  after(() => world.close());

  function setup() {
    const stores = world.stores();
    const deps: ContactSyncDeps = {
      ghl: world.ghl,
      facts: stores.facts,
      fieldIds: stores.fieldIds,
      ledger: stores.ledger,
      fingerprints: stores.fingerprints,
      snapshots: stores.snapshots,
      trustpilot: undefined,
      mapping: stores.mapping,
      surveyUrl: undefined,
      apply: { planned: stores.planned, dryRun: false, writeMarks: stores.snapshots },
      metrics: stores.metrics,
      logger: stores.logger,
    };
    return { deps, stores };
  }

  const readsOf = (contactId: string) => world.sim.calls.filter((call) => call.method === 'GET' && call.path === `/contacts/${contactId}`).length;

  async function lastRead(deps: ContactSyncDeps, contactId: string) {
    return (await deps.facts.recentSyncs(50)).find((record) => record.contactId === contactId)?.read;
  }

  test('a fresh snapshot is taken and the contact is not read', async () => {
    const { deps } = setup();
    const contact = world.sim.store.insertContact(LOCATION_ID, { firstName: 'Snap', email: 'snap@example.com' });
    assert.equal(await deps.snapshots?.put(toSnapshot(contact, LOCATION_ID), Date.now(), 'webhook'), true);

    const outcome = await syncContact(deps, LOCATION_ID, contact.id, Date.now, { fromSnapshot: true });

    assert.equal(outcome.outcome, 'synced');
    assert.equal(readsOf(contact.id), 0);
    assert.deepEqual(await lastRead(deps, contact.id), ['ghl contact (webhook snapshot)']);
  });

  test('a snapshot observed before the bridge last wrote the contact is refused: the contact is read', async () => {
    const { deps } = setup();
    const contact = world.sim.store.insertContact(LOCATION_ID, { firstName: 'Stale', email: 'stale@example.com' });
    const observedAt = Date.now() - 60_000;
    await deps.snapshots?.put(toSnapshot(contact, LOCATION_ID), observedAt, 'webhook');
    await deps.snapshots?.writeStarted(LOCATION_ID, contact.id);
    await deps.snapshots?.writeFinished(LOCATION_ID, contact.id);

    const outcome = await syncContact(deps, LOCATION_ID, contact.id, Date.now, { fromSnapshot: true });

    assert.equal(outcome.outcome, 'synced');
    assert.equal(readsOf(contact.id), 1);
    assert.deepEqual(await lastRead(deps, contact.id), ['ghl contact']);
  });

  test('a run not allowed a snapshot reads the contact and leaves the snapshot alone', async () => {
    const { deps } = setup();
    const contact = world.sim.store.insertContact(LOCATION_ID, { firstName: 'Admin', email: 'admin@example.com' });
    await deps.snapshots?.put(toSnapshot(contact, LOCATION_ID), Date.now(), 'webhook');

    await syncContact(deps, LOCATION_ID, contact.id);

    assert.equal(readsOf(contact.id), 1);
    const taken = await deps.snapshots?.take(LOCATION_ID, contact.id);
    assert.equal(taken?.snapshot?.id, contact.id, 'the snapshot is still there for the queued run');
  });

  test('a contact seen deleted is skipped without a read', async () => {
    const { deps } = setup();
    const contact = world.sim.store.insertContact(LOCATION_ID, { firstName: 'Gone', email: 'gone@example.com' });
    await deps.facts.markDeleted(LOCATION_ID, contact.id);

    const outcome = await syncContact(deps, LOCATION_ID, contact.id, Date.now, { fromSnapshot: true });

    assert.deepEqual(outcome, { outcome: 'skipped', reason: 'contact-deleted', writes: 0, ghlCalls: 0 });
    assert.equal(readsOf(contact.id), 0);
  });

  test('a run that went on without a missing custom field keeps the warning in the contact\'s timeline', async () => {
    const { deps } = setup();
    // No field was set up in this location: the survey link has nowhere to go.
    const contact = world.sim.store.insertContact(LOCATION_ID, { firstName: 'Warned', email: 'warned@example.com' });
    await syncContact({ ...deps, surveyUrl: 'https://survey.example/s' }, LOCATION_ID, contact.id);
    const [sync] = await deps.facts.history.syncs(LOCATION_ID, contact.id);
    assert.equal(sync?.outcome, 'synced');
    assert.deepEqual(sync.warnings, [`custom field contact.opinionstage_survey_link does not exist in location ${LOCATION_ID}; run setup-fields`]);
  });

  test('an admin run that fails is in the timeline with the calls it made and its duration', async () => {
    const { deps } = setup();
    const contact = world.sim.store.insertContact(LOCATION_ID, { firstName: 'Broken', email: 'broken@example.com' });
    const clear = world.sim.injectFault({ fault: { kind: 'status', status: 500 }, method: 'GET', path: new RegExp(`^/contacts/${contact.id}$`) });
    let clock = 1_000;
    try {
      await assert.rejects(syncContact(deps, LOCATION_ID, contact.id, () => (clock += 250)));
    } finally {
      clear();
    }
    const [sync] = await deps.facts.history.syncs(LOCATION_ID, contact.id);
    assert.equal(sync?.outcome, 'failed');
    assert.equal(sync.trigger, 'admin');
    assert.equal(sync.upstreamCalls, readsOf(contact.id), 'every read it made, the failed one included');
    assert.ok(sync.upstreamCalls >= 1);
    assert.ok(sync.durationMs > 0, JSON.stringify(sync));
  });
});
