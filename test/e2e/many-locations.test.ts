/**
 * Two served locations (a private-token one and an OAuth install), end to end against the simulators:
 * every Opinion Stage response and every Trustpilot review lands only in its own location, counted
 * from the GHL simulator's state; a response whose location cannot be told is imported nowhere,
 * dead-lettered with its reason, with one alert.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { request } from 'undici';
import { signState } from '../../src/http/routes/oauth.js';
import { scheduleContactSync } from '../../src/lifecycle/container.js';
import { DeadLetterJobSchema, QUEUE_NAMES } from '../../src/queue/catalog.js';
import { startGhlSimulator, type GhlSimulator } from '../../src/sandbox/ghl/simulator.js';
import { startOpinionStageSimulator, type OpinionStageSimulator } from '../../src/sandbox/opinionstage/simulator.js';
import { startTrustpilotSimulator, type TrustpilotSimulator } from '../../src/sandbox/trustpilot/simulator.js';
import { setupFields } from '../../src/workers/setup-fields.js';
import { settle as settleBridge, simulatorEnv, startTestBridge, trustpilotSimulatorEnv, type TestBridge } from '../helpers/bridge.js';
import { createTestSigner } from '../helpers/ghl-signing.js';
import { startRedisServer, type RedisServerHandle } from '../helpers/redis-server.js';
import { waitFor } from '../helpers/wait.js';

const LOC1 = 'locAgencyPrivate00001';
const TOKEN1 = 'pit-agency-private-0001';
const LOC2 = 'locAgencyInstalled001';
const CLIENT = { clientId: 'appAgency0001-many-locations', clientSecret: 'client-secret-many-locations-01', versionId: 'ver-many-locations-01' };
const OS_SECRET = 'os-webhook-secret-many-0001';
const TP_SECRET = 'tp-webhook-secret-many-0001';
const VIEWER_TOKEN = 'viewer-token-many-locations-01';
const ADMIN_TOKEN = 'admin-token-many-locations-01';
const SURVEY_URL = 'https://www.opinionstage.com/page/agency-survey';
const QUESTIONS = [
  { id: 'q-rating', title: 'How likely are you to recommend us?', kind: 'rating' },
  { id: 'q-email', title: 'Email', kind: 'email', lead: true },
  { id: 'q-name', title: 'Name', kind: 'name', lead: true },
];

describe('many locations, nothing crossing', () => {
  let redis: RedisServerHandle;
  let ghl: GhlSimulator;
  let tp: TrustpilotSimulator;
  let os: OpinionStageSimulator;
  let bridge: TestBridge;
  const items = { a: '', b: '', unmapped: '', connected: '', urlRouted: '' };

  before(async () => {
    redis = await startRedisServer();
    const signer = createTestSigner();
    ghl = await startGhlSimulator({
      locations: [{ id: LOC1, token: TOKEN1 }],
      oauthClients: [CLIENT],
      signingKeys: { ed25519PrivateKeyPem: signer.ed25519PrivateKeyPem, rsaPrivateKeyPem: signer.rsaPrivateKeyPem },
    });
    tp = await startTrustpilotSimulator();
    os = await startOpinionStageSimulator({ webhookToken: OS_SECRET });
    items.a = os.addItem({ title: 'Survey of client one', type: 'survey', questions: QUESTIONS }).id;
    items.b = os.addItem({ title: 'Survey of client two', type: 'survey', questions: QUESTIONS }).id;
    items.unmapped = os.addItem({ title: 'Survey nobody mapped', type: 'survey', questions: QUESTIONS }).id;
    items.connected = os.addItem({ title: "Survey of location two's own account", type: 'survey', questions: QUESTIONS }).id;
    items.urlRouted = os.addItem({ title: 'Survey sent to a per-location URL', type: 'survey', questions: QUESTIONS }).id;
    bridge = await startTestBridge({
      mode: 'all',
      redisUrl: redis.url,
      env: {
        ...simulatorEnv(ghl, LOC1, TOKEN1),
        GHL_CLIENT_ID: CLIENT.clientId,
        GHL_CLIENT_SECRET: CLIENT.clientSecret,
        GHL_APP_VERSION_ID: CLIENT.versionId,
        ENCRYPTION_KEY: Buffer.alloc(32, 12).toString('base64'),
        ...trustpilotSimulatorEnv(tp),
        TRUSTPILOT_WEBHOOK_SECRET: TP_SECRET,
        TRUSTPILOT_LOCATIONS: LOC2,
        OPINIONSTAGE_API_BASE_URL: os.apiBaseUrl,
        OPINIONSTAGE_API_KEY: 'os-sandbox-key',
        OPINIONSTAGE_WEBHOOK_SECRET: OS_SECRET,
        OPINIONSTAGE_ITEM_LOCATIONS: `${items.a}=${LOC1},${items.b}=${LOC2}`,
        OPINIONSTAGE_SURVEY_URL: SURVEY_URL,
        ADMIN_TOKEN,
        VIEWER_TOKEN,
        COALESCE_WINDOW_MS: '200',
      },
    });
    // LOC2 installs the app (the callback with a state of ours, as after /oauth/install).
    const code = ghl.issueAuthorizationCode({ userType: 'Location', locationId: LOC2 });
    const installed = await request(`${bridge.url}/oauth/callback?code=${encodeURIComponent(code)}&state=${encodeURIComponent(signState(CLIENT.clientSecret, Date.now()))}`, {
      headers: { accept: 'application/json' },
    });
    assert.equal(installed.statusCode, 200);
    assert.deepEqual(await installed.body.json(), { status: 'installed', locations: [LOC2] });
    for (const locationId of [LOC1, LOC2]) await setupFields(bridge.container.ghl, locationId, bridge.container.mapping, bridge.container.syncDeps.fieldIds);
    ghl.setWebhookUrl(`${bridge.url}/webhooks/ghl`);
    os.setWebhookUrl(`${bridge.url}/webhooks/opinionstage`);
    tp.setWebhookUrl(`${bridge.url}/webhooks/trustpilot?token=${TP_SECRET}`);
  });

  after(async () => {
    await bridge.close();
    await os.close();
    await tp.close();
    await ghl.close();
    await redis.close();
  });

  const settle = () => settleBridge(bridge, [ghl, tp, os]);
  const contactsByEmail = (locationId: string, email: string) => ghl.store.listContacts(locationId).filter((contact) => contact.email === email);
  const notes = (contactId: string) => ghl.store.listNotes(contactId);
  /** Every contact and note of both locations, to prove a step wrote nothing. */
  const footprint = () => [LOC1, LOC2].map((locationId) => ghl.store.listContacts(locationId).map((contact) => `${contact.id}:${notes(contact.id).length}`).sort().join(','));

  async function noteIn(locationId: string, email: string): Promise<string> {
    return waitFor(() => contactsByEmail(locationId, email).find((contact) => notes(contact.id).length > 0)?.id, 20_000, `a note for ${email} in ${locationId}`);
  }

  test('responses of item A and item B each land only in their own location', async () => {
    os.addResponse(items.a, { answers: { 'q-rating': '9', 'q-email': 'one@client-one.test', 'q-name': 'One Person' }, result: { title: 'Promoter', score: 9 } });
    os.addResponse(items.b, { answers: { 'q-rating': '8', 'q-email': 'two@client-two.test', 'q-name': 'Two Person' }, result: { title: 'Passive', score: 8 } });
    const one = await noteIn(LOC1, 'one@client-one.test');
    const two = await noteIn(LOC2, 'two@client-two.test');
    await settle();
    assert.equal(notes(one).length, 1);
    assert.equal(notes(two).length, 1);
    assert.deepEqual(contactsByEmail(LOC2, 'one@client-one.test'), [], 'item A wrote nothing in location 2');
    assert.deepEqual(contactsByEmail(LOC1, 'two@client-two.test'), [], 'item B wrote nothing in location 1');
  });

  test('a response of an unmapped item is imported nowhere: one dead letter with its reason, one alert', async () => {
    await settle();
    const before = footprint();
    const added = os.addResponse(items.unmapped, { answers: { 'q-rating': '2', 'q-email': 'lost@nowhere.test' }, result: { title: 'Detractor', score: 2 } });
    const letter = await waitFor(async () => {
      const letters = (await bridge.container.queues[QUEUE_NAMES.deadLetter].getJobs(['waiting'])).map((job) => DeadLetterJobSchema.parse(job.data));
      return letters.find((entry) => entry.queue === QUEUE_NAMES.opinionStageResponses && JSON.stringify(entry.data).includes(added.id));
    }, 20_000, 'the dead letter of the unmapped response');
    assert.match(letter.failedReason, new RegExp(`no location for Opinion Stage item ${items.unmapped}`));
    assert.equal(letter.attemptsMade, 1, 'failed for good at once, not retried');
    await settle();
    assert.deepEqual(footprint(), before, 'nothing written in either location');
    const alerts = await waitFor(async () => {
      const jobs = await bridge.container.queues[QUEUE_NAMES.alerts].getJobs(['waiting', 'active', 'delayed', 'completed', 'failed']);
      const found = jobs.filter((job) => JSON.stringify(job.data).includes('OPINIONSTAGE_LOCATION_UNKNOWN'));
      return found.length > 0 ? found : undefined;
    }, 20_000, 'the alert');
    assert.equal(alerts.length, 1, 'one alert');
  });

  test("a response through a personal link lands in the link's location, whatever its item's location", async () => {
    const contact = ghl.userCreateContact(LOC2, { firstName: 'Linked', lastName: 'Person', email: 'linked@client-two.test' });
    const linkField = ghl.store.findCustomField(LOC2, 'contact.opinionstage_survey_link');
    assert.ok(linkField);
    const link = await waitFor(() => ghl.store.getContact(contact.id)?.customFields?.find((field) => field.id === linkField.id)?.value, 20_000, 'the survey link');
    const url = new URL(String(link));
    assert.equal(url.searchParams.get('location_id'), LOC2);
    await settle();
    // Item A's responses go to location 1; this one came through a link built in location 2.
    os.addResponse(items.a, { answers: { 'q-rating': '3' }, result: { title: 'Detractor', score: 3 }, query: Object.fromEntries(url.searchParams) });
    await waitFor(() => (notes(contact.id).length > 0 ? true : undefined), 20_000, 'the note on the linked contact');
    await settle();
    assert.equal(notes(contact.id).length, 1);
    assert.deepEqual(contactsByEmail(LOC1, 'linked@client-two.test'), [], 'nothing in location 1');
  });

  test('a review of our unit with TRUSTPILOT_LOCATIONS=location 2 is written only there, though location 1 has a contact with that email', async () => {
    const email = 'shared@both-clients.test';
    const first = ghl.userCreateContact(LOC1, { firstName: 'Shared', lastName: 'One', email });
    const second = ghl.userCreateContact(LOC2, { firstName: 'Shared', lastName: 'Two', email });
    await settle();
    tp.addReview({ stars: 1, title: 'Not good', text: 'It broke on day one.', referralEmail: email, consumerName: 'Shared P.' });
    await waitFor(() => (notes(second.id).length > 0 ? true : undefined), 20_000, 'the review note in location 2');
    // Location 1's contact synced again, now that the review exists: still nothing of it there.
    const runsOf = async (contactId: string) => (await bridge.container.syncDeps.facts.recentSyncs(200)).filter((run) => run.contactId === contactId).length;
    const runs = await runsOf(first.id);
    await scheduleContactSync(bridge.container.queues[QUEUE_NAMES.contactSync], { locationId: LOC1, contactId: first.id, reason: 'manual', triggeredAt: Date.now() }, 0);
    await waitFor(async () => ((await runsOf(first.id)) > runs ? true : undefined), 20_000, 'the sync of location 1');
    await settle();
    assert.equal(notes(second.id).length, 1);
    assert.equal(notes(first.id).length, 0, 'no note in location 1');
    assert.deepEqual(ghl.store.listTasks(first.id), [], 'no task in location 1');
  });

  test('GET /admin/locations shows both locations and where their reviews and responses come from', async () => {
    const answer = await request(`${bridge.url}/admin/locations`, { headers: { authorization: `Bearer ${VIEWER_TOKEN}` } });
    assert.equal(answer.statusCode, 200);
    const body = await answer.body.text();
    for (const secret of [OS_SECRET, TP_SECRET, TOKEN1, 'os-sandbox-key']) assert.ok(!body.includes(secret), 'no secret in the answer');
    const locations = JSON.parse(body) as {
      locationId: string;
      authorisation: string;
      needsReconnect: boolean;
      budget: { day: number };
      trustpilot: { source: string } | null;
      opinionStage: { source: string; itemIds: string[] } | null;
    }[];
    const byId = new Map(locations.map((location) => [location.locationId, location]));
    assert.deepEqual([...byId.keys()].sort(), [LOC1, LOC2].sort());
    assert.equal(byId.get(LOC1)?.authorisation, 'private-token');
    assert.equal(byId.get(LOC2)?.authorisation, 'oauth');
    assert.equal(byId.get(LOC2)?.needsReconnect, false);
    assert.equal(byId.get(LOC1)?.trustpilot, null, 'our unit is not matched in location 1');
    assert.equal(byId.get(LOC2)?.trustpilot?.source, 'environment');
    assert.deepEqual(byId.get(LOC1)?.opinionStage?.itemIds, [items.a]);
    assert.deepEqual(byId.get(LOC2)?.opinionStage?.itemIds, [items.b]);
    assert.ok((byId.get(LOC1)?.budget.day ?? 0) > 0, 'location 1 has used its GHL budget');
  });

  test("a location's own Opinion Stage connection routes its items there, and its own webhook URL routes what arrives on it", async () => {
    // Location 2 connects its own account (the same simulator here) listing one item; the shared URL
    // then sends that item's responses to location 2, though no environment setting names it.
    const put = await request(`${bridge.url}/admin/locations/${LOC2}/opinionstage`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ apiKey: 'os-sandbox-key', itemIds: [items.connected], webhookSecret: OS_SECRET }),
    });
    assert.equal(put.statusCode, 200, await put.body.text());
    os.addResponse(items.connected, { answers: { 'q-rating': '10', 'q-email': 'own@client-two.test', 'q-name': 'Own Account' }, result: { title: 'Promoter', score: 10 } });
    await noteIn(LOC2, 'own@client-two.test');

    // An item nothing maps, delivered to location 2's own URL, goes to location 2.
    os.setWebhookUrl(`${bridge.url}/webhooks/opinionstage?location=${LOC2}`);
    try {
      os.addResponse(items.urlRouted, { answers: { 'q-rating': '7', 'q-email': 'url@client-two.test', 'q-name': 'Url Routed' }, result: { title: 'Passive', score: 7 } });
      await noteIn(LOC2, 'url@client-two.test');
    } finally {
      os.setWebhookUrl(`${bridge.url}/webhooks/opinionstage`);
    }
    await settle();
    assert.deepEqual(contactsByEmail(LOC1, 'own@client-two.test'), [], 'the connected item wrote nothing in location 1');
    assert.deepEqual(contactsByEmail(LOC1, 'url@client-two.test'), [], 'the per-location URL wrote nothing in location 1');

    // The dashboard's locations overview names location 2's own account, and location 1 the environment's.
    const page = await (await request(`${bridge.url}/dashboard`, { headers: { authorization: `Bearer ${VIEWER_TOKEN}` } })).body.text();
    const overview = page.slice(page.indexOf('<table id="locations">'));
    const rowOf = (locationId: string) => overview.slice(overview.indexOf(locationId), overview.indexOf('</tr>', overview.indexOf(locationId)));
    assert.match(rowOf(LOC2), /Opinion Stage \(own account, 1 items\)/);
    assert.match(rowOf(LOC1), /Opinion Stage(?! \(own)/);

    // The admin's search reaches GHL in the location installed after start-up.
    const search = await (await request(`${bridge.url}/dashboard/search?q=${encodeURIComponent('own@client-two.test')}&locationId=${LOC2}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).body.text();
    assert.doesNotMatch(search, /is not served by this bridge/);
    assert.match(search, /Own Account/);
  });
});
