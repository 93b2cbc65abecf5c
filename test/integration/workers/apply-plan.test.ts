/**
 * applyPlan against the GHL simulator and a real Redis: a plan of field writes, a note, a task and
 * tags lands once however often its sync runs (each run plans from GHL and the ledger); a pending ledger mark whose note already reached GHL (a run
 * cut short after the create) finds that note instead of making a second; dry run records every
 * request and sends none.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DEFAULT_MAPPING, mappedFieldKeys } from '../../../src/config/mapping.js';
import { toSnapshot } from '../../../src/domain/contact-snapshot.js';
import type { Plan } from '../../../src/domain/plan.js';
import { planTrustpilot, type ReviewFacts } from '../../../src/domain/trustpilot-plan.js';
import { applyPlan, referenceLine, type ApplyDeps } from '../../../src/workers/apply-plan.js';
import { LOCATION_ID, startWorkerWorld, type WorkerWorld } from './worker-world.js';

const ONE_STAR: ReviewFacts = { id: 'review0000000000000001', stars: 1, title: 'Slow', text: 'Never arrived', createdAt: '2026-01-05T10:00:00.000Z', url: 'https://www.trustpilot.com/reviews/review0000000000000001' };

describe('applyPlan', () => {
  let world: WorkerWorld;
  let scoreFieldId: string;

  before(async () => {
    world = await startWorkerWorld();
    scoreFieldId = world.sim.store.insertCustomField(LOCATION_ID, { name: 'Apply Plan Score', dataType: 'NUMERICAL' }).id;
    // The fields the default mapping writes, named so GHL derives their keys.
    for (const key of mappedFieldKeys(DEFAULT_MAPPING)) world.sim.store.insertCustomField(LOCATION_ID, { name: key.slice('contact.'.length), dataType: 'TEXT' });
  });
  after(() => world.close());

  function deps(dryRun = false): { apply: ApplyDeps; stores: ReturnType<WorkerWorld['stores']> } {
    const stores = world.stores();
    return { apply: { ghl: world.ghl, ledger: stores.ledger, planned: stores.planned, dryRun, logger: stores.logger, writeMarks: stores.snapshots }, stores };
  }

  const plan = (): Plan => ({
    warnings: [],
    writes: [
      { kind: 'set-fields', fields: [{ id: scoreFieldId, key: 'contact.apply_plan_score', value: 4 }], reason: 'score' },
      { kind: 'create-note', sourceKey: 'review:r1', body: 'Four stars', reason: 'review note' },
      { kind: 'create-task', sourceKey: 'followup:r1', title: 'Call back', body: 'About the review', dueDate: '2030-01-02T09:00:00.000Z', reason: 'follow-up' },
      { kind: 'add-tags', tags: ['trustpilot-reviewed'], reason: 'tag' },
    ],
  });

  test('a plan of fields, note, task and tags, applied and then planned and applied again: one note, one task', async () => {
    const { apply, stores } = deps();
    const contact = world.sim.store.insertContact(LOCATION_ID, { firstName: 'Twice', email: 'twice@example.com' });
    const target = { locationId: LOCATION_ID, contactId: contact.id };
    const fieldIds = await stores.fieldIds.resolve(LOCATION_ID, mappedFieldKeys(stores.mapping));
    // What a contact sync does each run: plan from the contact as GHL has it and from the ledger.
    const planRun = async () =>
      planTrustpilot({
        contact: toSnapshot(await world.ghl.getContact(LOCATION_ID, contact.id), LOCATION_ID),
        review: ONE_STAR,
        company: undefined,
        fieldIds,
        ledger: await apply.ledger.view(LOCATION_ID, contact.id),
        mapping: stores.mapping.trustpilot,
      });

    const first = await planRun();
    assert.deepEqual(first.writes.map((write) => write.kind).sort(), ['add-tags', 'create-note', 'create-task', 'set-fields']);
    await applyPlan(apply, target, first);
    const second = await planRun();
    assert.deepEqual(second.writes, [], 'nothing left to do');
    await applyPlan(apply, target, second);

    assert.equal(world.sim.store.listNotes(contact.id).length, 1);
    assert.equal(world.sim.store.listTasks(contact.id).length, 1);
    const stored = world.sim.store.getContact(contact.id);
    assert.ok(stored?.customFields?.some((field) => field.id === fieldIds['contact.trustpilot_review_id'] && field.value === ONE_STAR.id));
    const ledger = await apply.ledger.view(LOCATION_ID, contact.id);
    assert.deepEqual(Object.values(ledger.notes).map((note) => note.noteId), world.sim.store.listNotes(contact.id).map((note) => note.id));
    assert.deepEqual(Object.values(ledger.tasks).map((task) => task.taskId), world.sim.store.listTasks(contact.id).map((task) => task.id));
  });

  test('a pending mark whose note is already in GHL finds that note and creates none', async () => {
    const { apply } = deps();
    const contact = world.sim.store.insertContact(LOCATION_ID, { firstName: 'Interrupted', email: 'interrupted@example.com' });
    // A run that marked the create pending, made the note, and stopped before recording it.
    assert.equal(await apply.ledger.markPending(LOCATION_ID, contact.id, 'review:r2'), false);
    const made = world.sim.store.insertNote(contact.id, { body: `Five stars\n\n${referenceLine('review:r2')}` });

    await applyPlan(apply, { locationId: LOCATION_ID, contactId: contact.id }, { warnings: [], writes: [{ kind: 'create-note', sourceKey: 'review:r2', body: 'Five stars', reason: 'review note' }] });

    assert.deepEqual(world.sim.store.listNotes(contact.id).map((note) => note.id), [made.id]);
    assert.equal((await apply.ledger.view(LOCATION_ID, contact.id)).notes['review:r2']?.noteId, made.id);
  });

  test('dry run records each request and sends none', async () => {
    const { apply, stores } = deps(true);
    const contact = world.sim.store.insertContact(LOCATION_ID, { firstName: 'Dry', email: 'dry@example.com' });
    const before = world.sim.calls.length;
    const result = await applyPlan(apply, { locationId: LOCATION_ID, contactId: contact.id }, plan());

    assert.deepEqual(result, { writes: 4, calls: 0 });
    assert.equal(world.sim.calls.length, before, 'no request reached GHL');
    assert.equal(world.sim.store.listNotes(contact.id).length, 0);
    const recorded = await stores.planned.list();
    assert.deepEqual(recorded.map((entry) => `${entry.method} ${entry.path}`).sort(), [
      `POST /contacts/${contact.id}/notes`,
      `POST /contacts/${contact.id}/tags`,
      `POST /contacts/${contact.id}/tasks`,
      `PUT /contacts/${contact.id}`,
    ]);
    assert.deepEqual(await apply.ledger.view(LOCATION_ID, contact.id), { notes: {}, tasks: {} });
  });
});
