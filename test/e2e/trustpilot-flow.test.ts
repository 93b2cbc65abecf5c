/**
 * Trustpilot → GHL end to end, over real HTTP and Redis against both simulators: fields, note, tags
 * and follow-up task from a review; the review edited; redeliveries and lost responses; echoes of the
 * bridge's own writes; bursts; the company TrustScore; the lookup cache.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { request } from 'undici';
import { scheduleContactSync } from '../../src/lifecycle/container.js';
import { QUEUE_NAMES } from '../../src/queue/catalog.js';
import type { GhlSimulator } from '../../src/sandbox/ghl/simulator.js';
import type { TrustpilotSimulator } from '../../src/sandbox/trustpilot/simulator.js';
import type { TestBridge } from '../helpers/bridge.js';
import { startWorld, type World } from '../helpers/world.js';
import { waitFor } from '../helpers/wait.js';
import { startTestRedis, type TestRedis } from '../helpers/redis-cluster.js';

const LOCATION_ID = 'locTrustpilot00000001';
const TOKEN = 'pit-trustpilot-flow-0001';
const TP_SECRET = 'tp-webhook-secret-0001';

describe('Trustpilot → GHL', () => {
  let redis: TestRedis;
  let ghl: GhlSimulator;
  let tp: TrustpilotSimulator;
  let bridge: TestBridge;
  let world: World;

  before(async () => {
    redis = await startTestRedis();
    world = await startWorld({
      redisUrl: redis.url,
      locationId: LOCATION_ID,
      token: TOKEN,
      trustpilotWebhookSecret: TP_SECRET,
      env: { ENCRYPTION_KEY: Buffer.alloc(32, 3).toString('base64'), COALESCE_WINDOW_MS: '300', LOG_LEVEL: 'info' },
    });
    ({ ghl, tp, bridge } = world);
    tp.addBusinessUnit({ domain: 'acme-widgets.com', displayName: 'Acme Widgets', trustScore: 4.2, stars: 4, totalReviews: 321 });
  });

  after(async () => {
    await world.close();
    await redis.close();
  });

  /** A custom field value of a contact, by mapping key, as the GHL simulator holds it. */
  function field(contactId: string, key: string): unknown {
    const definition = ghl.store.findCustomField(LOCATION_ID, key);
    assert.ok(definition, `field ${key} exists`);
    return ghl.store.getContact(contactId)?.customFields?.find((item) => item.id === definition.id)?.value;
  }

  const notes = (contactId: string) => ghl.store.listNotes(contactId);
  const tasks = (contactId: string) => ghl.store.listTasks(contactId);
  const tags = (contactId: string) => ghl.store.getContact(contactId)?.tags ?? [];
  const contactReads = (contactId: string) => ghl.calls.filter((call) => call.method === 'GET' && call.path === `/contacts/${contactId}`).length;
  const searches = () => ghl.calls.filter((call) => call.method === 'POST' && call.path === '/contacts/search').length;
  const runs = async (contactId: string) => (await bridge.container.syncDeps.facts.recentSyncs(200)).filter((run) => run.contactId === contactId);

  const settle = () => world.settle();

  /**
   * Each test that needs one makes its own: a contact (email at the acme-widgets.com unit) with a
   * 1★ review, synced, i.e. one note, the detractor tag and one open follow-up task.
   */
  async function detractor(name: string): Promise<{ contactId: string; reviewId: string }> {
    const email = `${name.toLowerCase()}@acme-widgets.com`;
    const reviewId = tp.addReview({ stars: 1, title: 'Never arrived', text: 'Ordered three weeks ago, still waiting and nobody answers.', referralEmail: email, consumerName: `${name} H.` }).id;
    const contactId = ghl.userCreateContact(LOCATION_ID, { firstName: name, lastName: 'Hopper', email, assignedTo: 'user_owner_1' }).id;
    await waitFor(() => (tasks(contactId).length > 0 ? true : undefined), 15_000, `the follow-up task for ${name}`);
    await settle();
    return { contactId, reviewId };
  }

  test('a contact with a 1★ review: fields written, one note, detractor tag, one follow-up task', async () => {
    const { contactId } = await detractor('Grace');

    assert.equal(Number(field(contactId, 'contact.trustpilot_review_stars')), 1);
    assert.equal(field(contactId, 'contact.trustpilot_review_title'), 'Never arrived');
    assert.equal(Number(field(contactId, 'contact.trustpilot_trustscore')), 4.2, 'company TrustScore by email domain');
    assert.equal(notes(contactId).length, 1);
    assert.match(notes(contactId)[0]?.body ?? '', /1★ "Never arrived"/);
    assert.ok(tags(contactId).includes('trustpilot-detractor'));
    assert.ok(tags(contactId).includes('trustpilot-reviewer'));
    const [task] = tasks(contactId);
    assert.equal(tasks(contactId).length, 1);
    assert.equal(task?.title, 'Call back about a 1★ Trustpilot review');
    assert.equal(task?.assignedTo, 'user_owner_1');
    assert.equal(task?.completed, false);
  });

  test("the bridge's own writes echoed back by GHL cause no further calls", async () => {
    const { contactId } = await detractor('Echo');
    const before = ghl.calls.length;
    const tpBefore = tp.calls.length;
    // A re-save in GHL that changes nothing the flow depends on.
    ghl.userUpdateContact(LOCATION_ID, contactId, { phone: '+14155550100' });
    await settle();
    assert.equal(ghl.calls.length, before, `GHL calls after the echo: ${ghl.calls.slice(before).map((call) => `${call.method} ${call.path}`).join(', ')}`);
    assert.equal(tp.calls.length, tpBefore);
  });

  test('the review edited to 5★: note updated in place, task completed, tags swapped, no contact search', async () => {
    const { contactId, reviewId } = await detractor('Edith');
    const searchesBefore = searches();
    tp.updateReview(reviewId, { stars: 5, title: 'Sorted out', text: 'They called me and fixed it the same day.' });
    await waitFor(() => (tasks(contactId)[0]?.completed ? true : undefined), 15_000, 'the task to be completed');
    await settle();
    assert.equal(notes(contactId).length, 1, 'still one note');
    assert.match(notes(contactId)[0]?.body ?? '', /5★ "Sorted out"/);
    assert.equal(tasks(contactId).length, 1, 'still one task');
    assert.ok(!tags(contactId).includes('trustpilot-detractor'));
    assert.ok(tags(contactId).includes('trustpilot-promoter'));
    assert.equal(Number(field(contactId, 'contact.trustpilot_review_stars')), 5);
    assert.equal(searches(), searchesBefore, 'the review owner was known: no contact search');
  });

  test('a redelivered Trustpilot notification is a duplicate; a resync changes nothing', async () => {
    const { contactId, reviewId } = await detractor('Redmond');
    const body = JSON.stringify({ events: [{ eventName: 'service-review-updated', version: '1', eventData: { id: reviewId, stars: 5 } }] });
    const send = async () => {
      const response = await request(`${bridge.url}/webhooks/trustpilot`, { method: 'POST', body, headers: { 'content-type': 'application/json', 'x-webhook-token': TP_SECRET } });
      return (await response.body.json()) as { status: string };
    };
    assert.equal((await send()).status, 'accepted');
    assert.equal((await send()).status, 'duplicate');
    await settle();
    const writes = ghl.calls.filter((call) => call.method !== 'GET');
    await bridge.container.queues['contact-sync'].add('sync', { locationId: LOCATION_ID, contactId, reason: 'manual', triggeredAt: Date.now() });
    await settle();
    assert.deepEqual(ghl.calls.filter((call) => call.method !== 'GET'), writes, 'a resync of an unchanged contact writes nothing');
    assert.equal(notes(contactId).length, 1);
    assert.equal(tasks(contactId).length, 1);
  });

  test('a new review: the contact found by the search is the sync\'s snapshot, never read again', async () => {
    const contact = ghl.userCreateContact(LOCATION_ID, { firstName: 'Linus', email: 'linus@example.org', assignedTo: 'user_owner_1' });
    await settle();
    const readsBefore = contactReads(contact.id);
    const searchesBefore = searches();
    tp.addReview({ stars: 1, title: 'Cracked', text: 'The case cracked on day one.', referralEmail: 'linus@example.org', consumerName: 'Linus T.' });
    await waitFor(() => (tasks(contact.id).length > 0 ? true : undefined), 15_000, 'the follow-up task');
    await settle();
    assert.equal(searches() - searchesBefore, 1, 'one search found the contact');
    assert.equal(contactReads(contact.id), readsBefore, 'the sync planned from the search result');
    assert.equal(notes(contact.id).length, 1);
    assert.equal(tasks(contact.id)[0]?.assignedTo, 'user_owner_1', 'the search result carried the owner');
    assert.ok(tags(contact.id).includes('trustpilot-detractor'));
    const [last] = await runs(contact.id);
    assert.ok(last?.read?.includes('ghl contact (search snapshot)'), `read: ${JSON.stringify(last?.read)}`);
  });

  test('a snapshot from before the bridge\'s own writes is not planned from: the sync reads the contact', async () => {
    const { contactId } = await detractor('Snap');
    const snapshots = bridge.container.syncDeps.snapshots;
    assert.ok(snapshots);
    // The contact as it was before the bridge wrote anything, observed just before a write run.
    const before = { id: contactId, locationId: LOCATION_ID, firstName: 'Snap', lastName: 'Hopper', email: 'snap@acme-widgets.com', assignedTo: 'user_owner_1', tags: [], customFields: [] };
    assert.equal(await snapshots.put(before, Date.now(), 'webhook'), true);
    await snapshots.writeStarted(LOCATION_ID, contactId);
    await snapshots.writeFinished(LOCATION_ID, contactId);
    const readsBefore = contactReads(contactId);
    const writes = ghl.calls.filter((call) => call.method !== 'GET').length;
    await scheduleContactSync(bridge.container.queues[QUEUE_NAMES.contactSync], { locationId: LOCATION_ID, contactId, reason: 'webhook', triggeredAt: Date.now() }, 0);
    await settle();
    assert.equal(contactReads(contactId) - readsBefore, 1, 'read instead');
    assert.equal(ghl.calls.filter((call) => call.method !== 'GET').length, writes, 'nothing to write');
  });

  test('even a stale snapshot taken for current never makes a second note, task or tag', async () => {
    // A detractor who became a promoter: one note, one completed task, the promoter tags.
    const { contactId, reviewId } = await detractor('Stella');
    tp.updateReview(reviewId, { stars: 5, title: 'Sorted out', text: 'They called me and fixed it the same day.' });
    await waitFor(() => (tasks(contactId)[0]?.completed ? true : undefined), 15_000, 'the task to be completed');
    await settle();
    const snapshots = bridge.container.syncDeps.snapshots;
    assert.ok(snapshots);
    const tagsBefore = [...tags(contactId)].sort();
    const from = ghl.calls.length;
    // Worst case: a snapshot without any of the bridge's writes that the store cannot tell is stale
    // (say, GHL's clock far ahead of ours).
    const stale = { id: contactId, locationId: LOCATION_ID, firstName: 'Stella', lastName: 'Hopper', email: 'stella@acme-widgets.com', assignedTo: 'user_owner_1', tags: [], customFields: [] };
    assert.equal(await snapshots.put(stale, Date.now() + 60_000, 'webhook'), true);
    await scheduleContactSync(bridge.container.queues[QUEUE_NAMES.contactSync], { locationId: LOCATION_ID, contactId, reason: 'webhook', triggeredAt: Date.now() }, 0);
    await settle();
    const calls = ghl.calls.slice(from).map((call) => `${call.method} ${call.path.replace(contactId, ':id')}`);
    assert.ok(!calls.some((call) => /^POST \/contacts\/:id\/(notes|tasks)$/.test(call)), `no note or task created: ${calls.join(', ')}`);
    assert.equal(notes(contactId).length, 1);
    assert.equal(tasks(contactId).length, 1);
    assert.equal(tasks(contactId)[0]?.completed, true, 'not reopened');
    assert.deepEqual([...tags(contactId)].sort(), tagsBefore, 'tags added again through POST /tags are not doubled');
    assert.equal(new Set(tags(contactId).map((tag) => tag.toLowerCase())).size, tags(contactId).length);
    assert.equal(Number(field(contactId, 'contact.trustpilot_review_stars')), 5);
  });

  test('a contact deleted while its snapshot waits is skipped without any call', async () => {
    const contact = ghl.userCreateContact(LOCATION_ID, { firstName: 'Short', email: 'short@example.org' });
    await settle();
    const from = ghl.calls.length;
    ghl.userUpdateContact(LOCATION_ID, contact.id, { email: 'short-lived@example.org' });
    ghl.userDeleteContact(LOCATION_ID, contact.id);
    await settle();
    assert.deepEqual(ghl.calls.slice(from).filter((call) => call.path.includes(contact.id)), []);
    const [last] = await runs(contact.id);
    assert.equal(last?.outcome, 'skipped');
    assert.equal(last?.reason, 'contact-deleted');
  });

  test('a create whose answer was lost is not made twice when the job is retried', async () => {
    ghl.injectFault({ fault: { kind: 'lost-response' }, method: 'POST', path: /^\/contacts\/[^/]+\/notes$/, times: 1 });
    ghl.injectFault({ fault: { kind: 'lost-response' }, method: 'POST', path: /^\/contacts\/[^/]+\/tasks$/, times: 1 });
    tp.addReview({ stars: 2, title: 'Meh', text: 'Broke after a week.', referralEmail: 'alan@example.org', consumerName: 'Alan T.' });
    const contact = ghl.userCreateContact(LOCATION_ID, { firstName: 'Alan', email: 'alan@example.org' });
    await waitFor(() => (tasks(contact.id).length > 0 && notes(contact.id).length > 0 ? true : undefined), 30_000, 'note and task');
    await settle();
    assert.equal(notes(contact.id).length, 1, 'one note despite the lost answer');
    assert.equal(tasks(contact.id).length, 1, 'one task despite the lost answer');
    assert.ok(bridge.logs.some((line) => line.includes('note from an interrupted run found')), 'the retry found the note instead of creating it');
    assert.ok(bridge.logs.some((line) => line.includes('task from an interrupted run found')), 'the retry found the task instead of creating it');
  });

  test('a follow-up task completed or deleted in GHL is never reopened or recreated', async () => {
    const completedReview = tp.addReview({ stars: 1, title: 'Broken', text: 'Arrived broken.', referralEmail: 'done@example.org' });
    const deletedReview = tp.addReview({ stars: 2, title: 'Late', text: 'Arrived late.', referralEmail: 'gone@example.org' });
    const done = ghl.userCreateContact(LOCATION_ID, { firstName: 'Done', email: 'done@example.org' });
    const gone = ghl.userCreateContact(LOCATION_ID, { firstName: 'Gone', email: 'gone@example.org' });
    await waitFor(() => (tasks(done.id).length > 0 && tasks(gone.id).length > 0 ? true : undefined), 15_000, 'both follow-up tasks');
    await settle();
    const doneTask = tasks(done.id)[0];
    const goneTask = tasks(gone.id)[0];
    assert.ok(doneTask && goneTask);
    // A user closes one task and deletes the other in GHL; the webhooks tell the bridge.
    ghl.userCompleteTask(LOCATION_ID, done.id, doneTask.id);
    ghl.userDeleteTask(LOCATION_ID, gone.id, goneTask.id);
    await settle();
    // Both reviews are edited, still low: the flow runs again for both contacts.
    tp.updateReview(completedReview.id, { text: 'Arrived broken, and the replacement too.' });
    tp.updateReview(deletedReview.id, { text: 'Arrived late, twice.' });
    await waitFor(() => (notes(done.id)[0]?.body?.includes('replacement') && notes(gone.id)[0]?.body?.includes('twice') ? true : undefined), 15_000, 'the notes to follow the edits');
    await settle();
    assert.equal(tasks(done.id).length, 1, 'no second task for the completed one');
    assert.equal(tasks(done.id)[0]?.completed, true, 'not reopened');
    assert.equal(tasks(gone.id).length, 0, 'the deleted task is not recreated');
  });

  // One run when the burst lands within the coalescing window (bench/upstream.ts counts that case);
  // events that straggle in after the run started add exactly one trailing run, never more.
  test('ten updates in one burst run the sync at most twice', async () => {
    const contact = ghl.userCreateContact(LOCATION_ID, { firstName: 'Burst', email: 'burst@acme-widgets.com' });
    await settle();
    const runsBefore = (await runs(contact.id)).length;
    for (let i = 0; i < 10; i++) ghl.userUpdateContact(LOCATION_ID, contact.id, { website: `https://acme-widgets.com/p/${i}` });
    await settle();
    const burstRuns = (await runs(contact.id)).length - runsBefore;
    assert.ok(burstRuns >= 1 && burstRuns <= 2, `runs for the burst: ${burstRuns}`);
  });

  test('company TrustScore by website domain, and a second lookup within the TTL costs no Trustpilot call', async () => {
    const contact = ghl.userCreateContact(LOCATION_ID, { firstName: 'Web', email: 'web@gmail.com', website: 'https://www.acme-widgets.com/about' });
    await waitFor(() => (field(contact.id, 'contact.trustpilot_business_unit_id') ? true : undefined), 15_000, 'the company fields');
    await settle();
    assert.equal(Number(field(contact.id, 'contact.trustpilot_company_reviews')), 321);
    const findCalls = () => tp.calls.filter((call) => call.path === '/v1/business-units/find').length;
    const before = findCalls();
    const other = ghl.userCreateContact(LOCATION_ID, { firstName: 'Same', email: 'same@gmail.com', website: 'acme-widgets.com' });
    await waitFor(() => (field(other.id, 'contact.trustpilot_business_unit_id') ? true : undefined), 15_000, 'the second contact');
    await settle();
    assert.equal(findCalls(), before, 'the business unit came from the cache');
  });
});
