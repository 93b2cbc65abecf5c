/**
 * Fresh Trustpilot answers end to end, over real HTTP, Redis and BullMQ against both simulators, with
 * Trustpilot notifications off throughout (no webhook URL is ever set on the Trustpilot simulator):
 * a review written after the shared listing was last read is found on the contact's next event, with
 * one delta refresh and no per-contact call, even though the contact's "no review" was cached before;
 * a burst folded into one job answers its newest event; with the poll on, a review written after the contact's sync reaches GHL within the poll interval,
 * an edit reaches the note, and an unchanged review is never routed twice. Trustpilot calls counted.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { TRUSTPILOT_SANDBOX_DEFAULTS as TP, type RecordedCall } from '../../src/sandbox/trustpilot/simulator.js';
import { QUEUE_NAMES } from '../../src/queue/catalog.js';
import { syncContact } from '../../src/workers/contact-sync-processor.js';
import { waitFor } from '../helpers/wait.js';
import { startWorld, type World } from '../helpers/world.js';
import { startRedisServer, type RedisServerHandle } from '../helpers/redis-server.js';

const LOCATION_ID = 'locTrustpilotFresh001';
const TOKEN = 'pit-trustpilot-fresh-0001';
const LIST_PATH = `/v1/private/business-units/${TP.businessUnitId}/reviews`;

function startFreshWorld(redis: RedisServerHandle, env: Record<string, string>): Promise<World> {
  // Trustpilot notifications stay off: no trustpilotWebhookSecret.
  return startWorld({ redisUrl: redis.url, locationId: LOCATION_ID, token: TOKEN, env: { COALESCE_WINDOW_MS: '200', LOG_LEVEL: 'info', ...env } });
}

/** A world for the enclosing describe: started before its tests, stopped after them. */
function useWorld(env: Record<string, string>) {
  let world: World | undefined;
  const get = () => {
    assert.ok(world);
    return world;
  };
  before(async () => {
    world = await startFreshWorld(redis, env);
  });
  after(() => world?.close());
  return { get, h: helpers(get) };
}

function helpers(world: () => World) {
  const field = (contactId: string, key: string): unknown => {
    const definition = world().ghl.store.findCustomField(LOCATION_ID, key);
    assert.ok(definition, `field ${key} exists`);
    return world().ghl.store.getContact(contactId)?.customFields?.find((item) => item.id === definition.id)?.value;
  };
  const listings = (from: number): RecordedCall[] => world().tp.calls.slice(from).filter((call) => call.path === LIST_PATH);
  return {
    field,
    notes: (contactId: string) => world().ghl.store.listNotes(contactId),
    tasks: (contactId: string) => world().ghl.store.listTasks(contactId),
    tags: (contactId: string) => world().ghl.store.getContact(contactId)?.tags ?? [],
    /** Listings of the whole unit (the index), as opposed to one contact's (filtered by referenceId or email). */
    indexPages: (from: number) => listings(from).filter((call) => call.query.referenceId === undefined && call.query.referralEmail === undefined),
    perContact: (from: number) => listings(from).filter((call) => call.query.referenceId !== undefined || call.query.referralEmail !== undefined),
    singleReads: (from: number) => world().tp.calls.slice(from).filter((call) => call.path.startsWith('/v1/private/reviews/')),
    runs: async (contactId: string) => (await world().bridge.container.syncDeps.facts.recentSyncs(500)).filter((run) => run.contactId === contactId),
    settle: () => world().settle(),
  };
}

let redis: RedisServerHandle;
before(async () => {
  redis = await startRedisServer();
});
after(async () => {
  await redis.close();
});

describe('a contact\'s next event finds a review written after the last listing (poll off)', () => {
  const { get, h } = useWorld({ TRUSTPILOT_POLL_INTERVAL: '0' });

  test('fields, note, tags and task on the next event; the cached "no review" is not the answer; one delta refresh', async () => {
    const { ghl, tp } = get();
    const contact = ghl.userCreateContact(LOCATION_ID, { firstName: 'Ada', email: 'ada@fresh-widgets.com', assignedTo: 'user_owner_1' });
    await waitFor(async () => ((await h.runs(contact.id)).some((run) => run.outcome === 'synced') ? true : undefined), 15_000, 'the first sync');
    await h.settle();
    assert.equal(h.notes(contact.id).length, 0, 'no review yet: no note');
    assert.ok((await h.runs(contact.id)).some((run) => run.read?.includes('trustpilot review')), 'the first sync looked the review up (and cached "no review")');

    const mark = tp.calls.length;
    tp.addReview({ stars: 1, title: 'Broken on arrival', text: 'The box was crushed.', referralEmail: 'ada@fresh-widgets.com', consumerName: 'Ada L.' });
    ghl.userUpdateContact(LOCATION_ID, contact.id, { website: 'https://fresh-widgets.com/ada' });
    await waitFor(() => (h.tasks(contact.id).length > 0 ? true : undefined), 15_000, 'the follow-up task');
    await h.settle();

    assert.equal(Number(h.field(contact.id, 'contact.trustpilot_review_stars')), 1);
    assert.equal(h.field(contact.id, 'contact.trustpilot_review_title'), 'Broken on arrival');
    assert.equal(h.notes(contact.id).length, 1);
    assert.match(h.notes(contact.id)[0]?.body ?? '', /1★ "Broken on arrival"/);
    assert.ok(h.tags(contact.id).includes('trustpilot-detractor'));
    assert.equal(h.tasks(contact.id).length, 1);
    assert.deepEqual(h.indexPages(mark).map((call) => call.query.page), ['1'], 'one delta refresh of one page');
    assert.equal(h.perContact(mark).length, 0, 'no per-contact listing');
    assert.equal(h.singleReads(mark).length, 0, 'no single-review read');
  });

  test('a burst coalesced into one job answers its newest event, not the first one the job was queued for', async () => {
    const { ghl, tp, bridge } = get();
    const first = ghl.userCreateContact(LOCATION_ID, { firstName: 'Burst', email: 'burst@fresh-widgets.com' });
    const other = ghl.userCreateContact(LOCATION_ID, { firstName: 'Other', email: 'other@fresh-widgets.com' });
    await waitFor(async () => ((await h.runs(first.id)).length > 0 && (await h.runs(other.id)).length > 0 ? true : undefined), 15_000, 'the first syncs');
    await h.settle();
    const syncWorker = bridge.container.workers.find((worker) => worker.name === QUEUE_NAMES.contactSync);
    assert.ok(syncWorker);
    // Held: the burst's job waits, so the second event is folded into it (the job keeps the first event's data).
    await syncWorker.pause();
    try {
      const pending = async (name: string, states: ('waiting' | 'delayed' | 'active')[]) =>
        Object.values(await bridge.container.queues[name as keyof typeof bridge.container.queues].getJobCounts(...states)).reduce((sum, count) => sum + count, 0);
      ghl.userUpdateContact(LOCATION_ID, first.id, { website: 'https://fresh-widgets.com/burst/1' });
      await waitFor(async () => ((await pending(QUEUE_NAMES.contactSync, ['waiting', 'delayed'])) > 0 ? true : undefined), 15_000, 'the burst job');
      // Another contact's run reads the listing after the first event, before the review exists.
      await syncContact(bridge.container.syncDeps, LOCATION_ID, other.id);
      tp.addReview({ stars: 3, title: 'Folded in', text: 'Written between the two events.', referralEmail: 'burst@fresh-widgets.com' });
      const marked = ghl.deliveries.length;
      ghl.userUpdateContact(LOCATION_ID, first.id, { website: 'https://fresh-widgets.com/burst/2' });
      await waitFor(() => (ghl.deliveries.length > marked ? true : undefined), 15_000, 'the second event delivered');
      await waitFor(async () => ((await pending(QUEUE_NAMES.ghlWebhooks, ['waiting', 'active'])) === 0 ? true : undefined), 15_000, 'the second event routed');
      assert.equal(await pending(QUEUE_NAMES.contactSync, ['waiting', 'delayed', 'active']), 1, 'one job for the burst');
    } finally {
      syncWorker.resume();
    }
    await waitFor(() => (h.notes(first.id).length > 0 ? true : undefined), 15_000, 'the note');
    await h.settle();
    assert.equal(h.field(first.id, 'contact.trustpilot_review_title'), 'Folded in');
    assert.equal(h.notes(first.id).length, 1);
  });

  test('N contacts updated together, each with a review written after the last listing: every review found, at most one refresh per contact, none per contact', async () => {
    const { ghl, tp } = get();
    const count = 6;
    const contacts = Array.from({ length: count }, (_, i) => ghl.userCreateContact(LOCATION_ID, { firstName: `Batch${i}`, email: `batch${i}@fresh-widgets.com` }));
    await waitFor(async () => ((await Promise.all(contacts.map((contact) => h.runs(contact.id)))).every((runs) => runs.length > 0) ? true : undefined), 15_000, 'the first syncs');
    await h.settle();
    const mark = tp.calls.length;
    for (let i = 0; i < count; i++) tp.addReview({ stars: 4, title: `Batch review ${i}`, text: 'Good.', referralEmail: `batch${i}@fresh-widgets.com` });
    for (let i = 0; i < count; i++) ghl.userUpdateContact(LOCATION_ID, contacts[i]?.id ?? '', { website: `https://fresh-widgets.com/batch/${i}` });
    await waitFor(() => (contacts.every((contact) => h.notes(contact.id).length === 1) ? true : undefined), 15_000, 'every note');
    await h.settle();
    for (const [i, contact] of contacts.entries()) assert.equal(h.field(contact.id, 'contact.trustpilot_review_title'), `Batch review ${i}`);
    const pages = h.indexPages(mark).length;
    assert.ok(pages >= 1 && pages <= count, `index pages for ${count} contacts: ${pages}`);
    assert.equal(h.perContact(mark).length, 0);
  });
});

describe('the poll routes reviews to their contacts without notifications', () => {
  const { get, h } = useWorld({ TRUSTPILOT_POLL_INTERVAL: '1s' });

  let contactId = '';
  let reviewId = '';

  test('a review written after the contact\'s sync reaches GHL within the poll interval; the poll costs index pages only', async () => {
    const { ghl, tp } = get();
    const contact = ghl.userCreateContact(LOCATION_ID, { firstName: 'Grace', email: 'grace@fresh-widgets.com', assignedTo: 'user_owner_2' });
    contactId = contact.id;
    await waitFor(async () => ((await h.runs(contactId)).length > 0 ? true : undefined), 15_000, 'the first sync');
    await h.settle();
    const mark = tp.calls.length;
    reviewId = tp.addReview({ stars: 2, title: 'Slow delivery', text: 'Took three weeks.', referralEmail: 'grace@fresh-widgets.com' }).id;
    await waitFor(() => (h.tasks(contactId).length > 0 ? true : undefined), 15_000, 'the follow-up task, from the poll');
    await h.settle();
    assert.equal(Number(h.field(contactId, 'contact.trustpilot_review_stars')), 2);
    assert.equal(h.notes(contactId).length, 1);
    assert.match(h.notes(contactId)[0]?.body ?? '', /2★ "Slow delivery"/);
    assert.ok(h.tags(contactId).includes('trustpilot-reviewer'));
    assert.equal(tp.deliveries.length, 0, 'no notification was ever sent');
    assert.equal(h.perContact(mark).length, 0, 'no per-contact listing');
    assert.equal(h.singleReads(mark).length, 0, 'the routed review travelled as read: no re-fetch');
    const calls = tp.calls.slice(mark);
    assert.ok(calls.every((call) => call.path === LIST_PATH || call.path.startsWith('/v1/oauth/')), `only listings: ${calls.map((call) => call.path).join(', ')}`);
  });

  test('an unchanged review is not routed again, however many polls read it', async () => {
    const { tp } = get();
    const runsBefore = (await h.runs(contactId)).length;
    const mark = tp.calls.length;
    await waitFor(() => (h.indexPages(mark).length >= 3 ? true : undefined), 15_000, 'three more polls');
    await h.settle();
    assert.equal((await h.runs(contactId)).length, runsBefore, 'no further sync of the contact');
    assert.equal(h.notes(contactId).length, 1);
  });

  test('an edit reaches the note: updated in place, task completed, tags swapped', async () => {
    const { tp } = get();
    tp.updateReview(reviewId, { stars: 5, title: 'Arrived after all', text: 'Great support.' });
    await waitFor(() => (h.tasks(contactId)[0]?.completed ? true : undefined), 15_000, 'the task to be completed');
    await h.settle();
    assert.equal(h.notes(contactId).length, 1, 'still one note');
    assert.match(h.notes(contactId)[0]?.body ?? '', /5★ "Arrived after all"/);
    assert.equal(Number(h.field(contactId, 'contact.trustpilot_review_stars')), 5);
    assert.ok(h.tags(contactId).includes('trustpilot-promoter'));
    assert.ok(!h.tags(contactId).includes('trustpilot-detractor'));
  });
});
