/**
 * An agency's three installed locations, end to end against the simulators: A and B each connected
 * (through the admin API) to their own Trustpilot account (key, secret, business user, unit) and their
 * own Opinion Stage account (key, items, webhook secret), C on the environment's defaults. 300 mixed
 * events in a fixed, seeded order: GHL contact creates and updates, Trustpilot review created/updated/
 * deleted notifications to each account's own webhook URL (and the environment's), Opinion Stage
 * responses on each account's items, and one response of an item nothing maps. Counted from the
 * simulators' state afterwards: every write is in its own location, none in another; each Trustpilot
 * key stayed within its call budget; no client ever used another account (no 403 from Trustpilot, no
 * 404 from Opinion Stage); the unmapped response is one dead letter and one alert.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { request } from 'undici';
import { signState } from '../../src/http/routes/oauth.js';
import { DeadLetterJobSchema, QUEUE_NAMES } from '../../src/queue/catalog.js';
import { startGhlSimulator, type GhlSimulator } from '../../src/sandbox/ghl/simulator.js';
import { startOpinionStageSimulator, type OpinionStageSimulator } from '../../src/sandbox/opinionstage/simulator.js';
import { startTrustpilotSimulator, TRUSTPILOT_SANDBOX_DEFAULTS, type TrustpilotSimulator } from '../../src/sandbox/trustpilot/simulator.js';
import { setupFields } from '../../src/workers/setup-fields.js';
import { settle as settleBridge, startTestBridge, trustpilotSimulatorEnv, type TestBridge } from '../helpers/bridge.js';
import { createTestSigner } from '../helpers/ghl-signing.js';
import { startRedisServer, type RedisServerHandle } from '../helpers/redis-server.js';
import { waitFor } from '../helpers/wait.js';

type Client = 'A' | 'B' | 'C';
const CLIENTS: readonly Client[] = ['A', 'B', 'C'];
const LOCATION: Record<Client, string> = { A: 'locAgencyClientA00001', B: 'locAgencyClientB00001', C: 'locAgencyClientC00001' };
const APP = { clientId: 'appAgency3-three-locations', clientSecret: 'client-secret-three-locations-01', versionId: 'ver-three-locations-01' };
const ADMIN_TOKEN = 'admin-token-three-locations-01';
const TP_ENV_SECRET = 'tp-env-webhook-secret-three-01';
const OS_ENV_SECRET = 'os-env-webhook-secret-three-01';
/** A's and B's own Trustpilot accounts; C's reviews are of the environment's (the simulator's default) account. */
const TP_ACCOUNT = {
  A: { apiKey: 'tp-key-client-a', apiSecret: 'tp-secret-client-a', users: [{ username: 'owner@client-a.test', password: 'client-a-password' }], businessUnitId: 'bu_client_a', domain: 'client-a.test', webhookSecret: 'tp-webhook-secret-client-a' },
  B: { apiKey: 'tp-key-client-b', apiSecret: 'tp-secret-client-b', users: [{ username: 'owner@client-b.test', password: 'client-b-password' }], businessUnitId: 'bu_client_b', domain: 'client-b.test', webhookSecret: 'tp-webhook-secret-client-b' },
} as const;
const TP_KEY: Record<Client, string> = { A: TP_ACCOUNT.A.apiKey, B: TP_ACCOUNT.B.apiKey, C: TRUSTPILOT_SANDBOX_DEFAULTS.apiKey };
const OS_ACCOUNT = {
  A: { apiKey: 'os-key-client-a', webhookSecret: 'os-webhook-secret-client-a' },
  B: { apiKey: 'os-key-client-b', webhookSecret: 'os-webhook-secret-client-b' },
} as const;
/**
 * Every Trustpilot key's budget (TRUSTPILOT_RATE_LIMIT applies to the environment's and to each
 * connection's): 6 calls per 3 s, small enough to bind (unbudgeted, this run puts about 10 calls of a
 * key in 1.5 s). The simulator counts each key's calls in 1.5 s windows: a call reaches it a little
 * after the bridge's budget (on Redis's clock) granted it, so a window as long as the budget's could
 * catch one call too many from those delays alone; half of it leaves 1.5 s for them.
 */
const TP_BUDGET = { max: 6, seconds: 3 };
const TP_MEASURED_WINDOW_MS = 1_500;

const QUESTIONS = [
  { id: 'q-rating', title: 'How likely are you to recommend us?', kind: 'rating' },
  { id: 'q-email', title: 'Email', kind: 'email', lead: true },
  { id: 'q-name', title: 'Name', kind: 'name', lead: true },
];

/** Contacts every location has before the events, with the same emails everywhere. */
const BASE_CONTACTS = 25;
const REVIEWS_PER_ACCOUNT = 25;
const UPDATED_REVIEWS = 10;
const DELETED_REVIEWS = 5;
const CREATED_CONTACTS = 10;
const UPDATED_CONTACTS = 10;
const RESPONSES: Record<Client, number> = { A: 40, B: 40, C: 39 };
const STARS = [1, 2, 3, 4, 5] as const;
const baseEmail = (index: number) => `base${index}@agency-shared.test`;
const respondentEmail = (client: Client, index: number) => (index < 20 ? baseEmail(index) : `os-${client.toLowerCase()}-${index}@respondent.test`);

type AgencyEvent =
  | { kind: 'ghl-create'; client: Client; index: number }
  | { kind: 'ghl-update'; client: Client; index: number }
  | { kind: 'tp-create' | 'tp-update' | 'tp-delete'; client: Client; index: number }
  | { kind: 'os-response'; client: Client; index: number }
  | { kind: 'os-unmapped' };

/** Mulberry32: a fixed seed gives the same order on every run. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/**
 * The 300 events, shuffled with a fixed seed; a review's update waits for its creation. Deletions come
 * last, once their reviews' notes exist (the note stays as the record, so the outcome does not depend
 * on timing); everything else is sent at once.
 */
function eventMix(): AgencyEvent[] {
  const events: AgencyEvent[] = [];
  for (const client of CLIENTS) {
    for (let index = 0; index < CREATED_CONTACTS; index++) events.push({ kind: 'ghl-create', client, index });
    for (let index = 0; index < UPDATED_CONTACTS; index++) events.push({ kind: 'ghl-update', client, index });
    for (let index = 0; index < REVIEWS_PER_ACCOUNT; index++) events.push({ kind: 'tp-create', client, index });
    for (let index = 0; index < UPDATED_REVIEWS; index++) events.push({ kind: 'tp-update', client, index });
    for (let index = 0; index < DELETED_REVIEWS; index++) events.push({ kind: 'tp-delete', client, index: REVIEWS_PER_ACCOUNT - 1 - index });
    for (let index = 0; index < RESPONSES[client]; index++) events.push({ kind: 'os-response', client, index });
  }
  events.push({ kind: 'os-unmapped' });
  const random = seeded(12);
  for (let index = events.length - 1; index > 0; index--) {
    const other = Math.floor(random() * (index + 1));
    [events[index], events[other]] = [events[other] as AgencyEvent, events[index] as AgencyEvent];
  }
  const ordered: AgencyEvent[] = [];
  const created = new Set<string>();
  const waiting: AgencyEvent[] = [];
  const deletions = events.filter((event) => event.kind === 'tp-delete');
  for (const event of events) {
    if (event.kind === 'tp-delete') continue;
    const key = 'client' in event ? `${event.client}:${event.index}` : '';
    if (event.kind === 'tp-update' && !created.has(key)) {
      waiting.push(event);
      continue;
    }
    ordered.push(event);
    if (event.kind !== 'tp-create') continue;
    created.add(key);
    ordered.push(...waiting.filter((held) => 'client' in held && `${held.client}:${held.index}` === key));
    waiting.splice(0, waiting.length, ...waiting.filter((held) => !('client' in held) || `${held.client}:${held.index}` !== key));
  }
  assert.deepEqual(waiting, []);
  return [...ordered, ...deletions];
}

/** The source id (review or response) a note's or task's reference line names. */
function referencedSource(body: string | undefined): string | undefined {
  return /— ghl-bridge ref: (?:tp-review|os-response):([^:\s]+)/.exec(body ?? '')?.[1];
}

describe('an agency: three locations, their own accounts, 300 mixed events, nothing crossing', () => {
  let redis: RedisServerHandle;
  let ghl: GhlSimulator;
  let tp: TrustpilotSimulator;
  let os: OpinionStageSimulator;
  let bridge: TestBridge;
  const items = { A: '', B: '', C: '', unmapped: '' };

  const admin = async (path: string, body: unknown) => {
    const answer = await request(`${bridge.url}${path}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    assert.equal(answer.statusCode, 200, await answer.body.text());
  };

  before(async () => {
    redis = await startRedisServer();
    const signer = createTestSigner();
    ghl = await startGhlSimulator({
      locations: [],
      oauthClients: [APP],
      rateLimit: { max: 300, windowMs: 10_000 },
      signingKeys: { ed25519PrivateKeyPem: signer.ed25519PrivateKeyPem, rsaPrivateKeyPem: signer.rsaPrivateKeyPem },
    });
    tp = await startTrustpilotSimulator({
      rateLimit: { max: TP_BUDGET.max, windowMs: TP_MEASURED_WINDOW_MS },
      accounts: [TP_ACCOUNT.A, TP_ACCOUNT.B],
    });
    os = await startOpinionStageSimulator({ webhookToken: OS_ENV_SECRET, accounts: [{ apiKey: OS_ACCOUNT.A.apiKey, webhookToken: OS_ACCOUNT.A.webhookSecret }, { apiKey: OS_ACCOUNT.B.apiKey, webhookToken: OS_ACCOUNT.B.webhookSecret }] });
    items.A = os.addItem({ title: "Client A's survey", type: 'survey', questions: QUESTIONS }, { apiKey: OS_ACCOUNT.A.apiKey }).id;
    items.B = os.addItem({ title: "Client B's survey", type: 'survey', questions: QUESTIONS }, { apiKey: OS_ACCOUNT.B.apiKey }).id;
    items.C = os.addItem({ title: "Client C's survey", type: 'survey', questions: QUESTIONS }).id;
    items.unmapped = os.addItem({ title: 'A survey nobody mapped', type: 'survey', questions: QUESTIONS }).id;
    bridge = await startTestBridge({
      mode: 'all',
      redisUrl: redis.url,
      env: {
        LOG_LEVEL: 'info',
        GHL_API_BASE_URL: ghl.url,
        GHL_WEBHOOK_ED25519_PUBLIC_KEY: ghl.publicKeys.ed25519,
        GHL_WEBHOOK_PUBLIC_KEY: ghl.publicKeys.rsa,
        GHL_CLIENT_ID: APP.clientId,
        GHL_CLIENT_SECRET: APP.clientSecret,
        GHL_APP_VERSION_ID: APP.versionId,
        GHL_RATE_LIMIT: '300/10',
        ENCRYPTION_KEY: Buffer.alloc(32, 3).toString('base64'),
        ...trustpilotSimulatorEnv(tp),
        TRUSTPILOT_WEBHOOK_SECRET: TP_ENV_SECRET,
        TRUSTPILOT_RATE_LIMIT: `${TP_BUDGET.max}/${TP_BUDGET.seconds}`,
        OPINIONSTAGE_API_BASE_URL: os.apiBaseUrl,
        OPINIONSTAGE_API_KEY: 'os-sandbox-key',
        OPINIONSTAGE_WEBHOOK_SECRET: OS_ENV_SECRET,
        OPINIONSTAGE_ITEM_LOCATIONS: `${items.C}=${LOCATION.C}`,
        OPINIONSTAGE_SURVEY_URL: 'https://www.opinionstage.com/page/agency-three-survey',
        ADMIN_TOKEN,
        COALESCE_WINDOW_MS: '200',
      },
    });
    for (const client of CLIENTS) {
      const code = ghl.issueAuthorizationCode({ userType: 'Location', locationId: LOCATION[client] });
      const installed = await request(`${bridge.url}/oauth/callback?code=${encodeURIComponent(code)}&state=${encodeURIComponent(signState(APP.clientSecret, Date.now()))}`, {
        headers: { accept: 'application/json' },
      });
      assert.equal(installed.statusCode, 200, await installed.body.text());
      await setupFields(bridge.container.ghl, LOCATION[client], bridge.container.mapping, bridge.container.syncDeps.fieldIds);
    }
    for (const client of ['A', 'B'] as const) {
      const { apiKey, apiSecret, users, businessUnitId, webhookSecret } = TP_ACCOUNT[client];
      const user = users[0];
      await admin(`/admin/locations/${LOCATION[client]}/trustpilot`, { businessUnitId, apiKey, apiSecret, username: user.username, password: user.password, webhookSecret });
      await admin(`/admin/locations/${LOCATION[client]}/opinionstage`, { apiKey: OS_ACCOUNT[client].apiKey, itemIds: [items[client]], webhookSecret: OS_ACCOUNT[client].webhookSecret });
      // Each account's own subscriptions point at its location's own URL, with its own secret.
      tp.setAccountWebhookUrl(apiKey, `${bridge.url}/webhooks/trustpilot?location=${LOCATION[client]}&token=${webhookSecret}`);
      os.setAccountWebhook(OS_ACCOUNT[client].apiKey, { url: `${bridge.url}/webhooks/opinionstage?location=${LOCATION[client]}` });
    }
    tp.setWebhookUrl(`${bridge.url}/webhooks/trustpilot?token=${TP_ENV_SECRET}`);
    os.setWebhookUrl(`${bridge.url}/webhooks/opinionstage`);
    ghl.setWebhookUrl(`${bridge.url}/webhooks/ghl`);
  });

  after(async () => {
    await bridge?.close();
    await os?.close();
    await tp?.close();
    await ghl?.close();
    await redis?.close();
  });

  const settle = () => settleBridge(bridge, [ghl, tp, os]);
  const contactOf = (client: Client, email: string) => ghl.store.listContacts(LOCATION[client]).find((contact) => contact.email === email);
  /** Every note and task body in a location, with the contact it is on. */
  const writesIn = (client: Client) =>
    ghl.store.listContacts(LOCATION[client]).flatMap((contact) => [
      ...ghl.store.listNotes(contact.id).map((note) => ({ kind: 'note', contactId: contact.id, email: contact.email, source: referencedSource(note.body) })),
      ...ghl.store.listTasks(contact.id).map((task) => ({ kind: 'task', contactId: contact.id, email: contact.email, source: referencedSource(task.body) })),
    ]);

  test('every write lands in its own location, none in another, and each Trustpilot key keeps its budget', async () => {
    const started = Date.now();
    for (const client of CLIENTS) {
      for (let index = 0; index < BASE_CONTACTS; index++) ghl.userCreateContact(LOCATION[client], { firstName: `Base${index}`, lastName: `Client${client}`, email: baseEmail(index) });
    }
    // The contacts exist in GHL from now on (their syncs run alongside the events).

    /** Where each review's or response's note must be: its account's location, on the contact with its email. */
    const expected = new Map<string, { client: Client; email: string }>();
    const reviews = new Map<string, string>();
    const events = eventMix();
    assert.equal(events.length, 300);
    let lostResponseId = '';
    let deletionsReady = false;
    for (const event of events) {
      switch (event.kind) {
        case 'ghl-create':
          ghl.userCreateContact(LOCATION[event.client], { firstName: `New${event.index}`, lastName: `Client${event.client}`, email: `new-${event.client.toLowerCase()}-${event.index}@created.test` });
          break;
        case 'ghl-update': {
          const contact = contactOf(event.client, baseEmail(event.index));
          assert.ok(contact);
          ghl.userUpdateContact(LOCATION[event.client], contact.id, { lastName: `Client${event.client}Updated`, phone: `+1555000${String(event.index).padStart(4, '0')}` });
          break;
        }
        case 'tp-create': {
          const email = baseEmail(event.index);
          const review = tp.addReview({
            ...(event.client === 'C' ? {} : { businessUnitId: TP_ACCOUNT[event.client].businessUnitId }),
            stars: STARS[event.index % STARS.length] ?? 1,
            title: `[${event.client}] review ${event.index}`,
            text: `Client ${event.client}'s customer number ${event.index} writes.`,
            referralEmail: email,
            consumerName: `Reviewer ${event.client}${event.index}`,
          });
          reviews.set(`${event.client}:${event.index}`, review.id);
          expected.set(review.id, { client: event.client, email });
          break;
        }
        case 'tp-update': {
          const reviewId = reviews.get(`${event.client}:${event.index}`);
          assert.ok(reviewId);
          tp.updateReview(reviewId, { stars: 5, title: `[${event.client}] review ${event.index}, edited` });
          break;
        }
        case 'tp-delete': {
          const reviewId = reviews.get(`${event.client}:${event.index}`);
          assert.ok(reviewId);
          if (!deletionsReady) {
            const targets = events.flatMap((other) => (other.kind === 'tp-delete' ? [{ client: other.client, reviewId: reviews.get(`${other.client}:${other.index}`) }] : []));
            await waitFor(() => (targets.every(({ client, reviewId: id }) => writesIn(client).some((write) => write.source === id)) ? true : undefined), 120_000, 'the notes of the reviews to delete');
            deletionsReady = true;
          }
          tp.deleteReview(reviewId);
          break;
        }
        case 'os-response': {
          const email = respondentEmail(event.client, event.index);
          const response = os.addResponse(items[event.client], {
            answers: { 'q-rating': String(event.index % 11), 'q-email': email, 'q-name': `Respondent ${event.client}${event.index}` },
            result: { title: 'Score', score: event.index % 11 },
          });
          expected.set(response.id, { client: event.client, email });
          break;
        }
        case 'os-unmapped':
          lostResponseId = os.addResponse(items.unmapped, { answers: { 'q-rating': '1', 'q-email': baseEmail(0), 'q-name': 'Nobody Knows' }, result: { title: 'Score', score: 1 } }).id;
          break;
      }
    }
    const sent = Date.now() - started;

    const notesWritten = () => CLIENTS.flatMap((client) => writesIn(client).filter((write) => write.kind === 'note' && write.source !== undefined && expected.has(write.source)));
    await waitFor(() => (notesWritten().length >= expected.size ? true : undefined), 120_000, `${expected.size} notes`);
    const letter = await waitFor(async () => {
      const letters = (await bridge.container.queues[QUEUE_NAMES.deadLetter].getJobs(['waiting'])).map((job) => DeadLetterJobSchema.parse(job.data));
      return letters.find((entry) => JSON.stringify(entry.data).includes(lostResponseId));
    }, 60_000, 'the dead letter of the unmapped response');
    assert.match(letter.failedReason, new RegExp(`no location for Opinion Stage item ${items.unmapped}`));
    await settle();
    const elapsed = Date.now() - started;

    // Every write, counted from the GHL simulator: in its own location, on the contact with its email.
    const perLocation: Record<string, { notes: number; tasks: number; contacts: number }> = {};
    const wrong: string[] = [];
    const seen = new Map<string, number>();
    for (const client of CLIENTS) {
      const writes = writesIn(client);
      for (const write of writes) {
        if (write.source === undefined) continue;
        const target = expected.get(write.source);
        if (write.source === lostResponseId || target === undefined || target.client !== client || target.email !== write.email) {
          wrong.push(`${write.kind} of ${write.source} in ${client} on ${write.email ?? '?'} (belongs to ${target ? `${target.client} on ${target.email}` : 'nobody'})`);
        }
        if (write.kind === 'note') seen.set(write.source, (seen.get(write.source) ?? 0) + 1);
      }
      const contacts = ghl.store.listContacts(LOCATION[client]);
      for (const contact of contacts) {
        const email = contact.email ?? '';
        const foreign = CLIENTS.filter((other) => other !== client).some((other) => email.startsWith(`os-${other.toLowerCase()}-`) || email.startsWith(`new-${other.toLowerCase()}-`));
        if (foreign) wrong.push(`contact ${email} in ${client}`);
        // The survey link written on each contact names the contact's own location.
        const link = contact.customFields?.find((field) => field.id === ghl.store.findCustomField(LOCATION[client], 'contact.opinionstage_survey_link')?.id)?.value;
        if (link !== undefined && new URL(String(link)).searchParams.get('location_id') !== LOCATION[client]) wrong.push(`survey link of ${email} in ${client} names ${String(link)}`);
      }
      perLocation[client] = { notes: writes.filter((write) => write.kind === 'note').length, tasks: writes.filter((write) => write.kind === 'task').length, contacts: contacts.length };
      const newContacts = RESPONSES[client] - 20;
      assert.equal(contacts.length, BASE_CONTACTS + CREATED_CONTACTS + newContacts, `${client}: its base, created and respondent contacts, no others`);
    }
    assert.deepEqual(wrong, [], 'zero writes in a wrong location');
    const missing = [...expected.keys()].filter((source) => seen.get(source) !== 1);
    assert.deepEqual(missing, [], 'every review and response has exactly one note');

    // The unmapped response: imported nowhere, one dead letter, one alert.
    assert.equal(CLIENTS.flatMap((client) => writesIn(client)).filter((write) => write.source === lostResponseId).length, 0);
    const alerts = await waitFor(async () => {
      const jobs = await bridge.container.queues[QUEUE_NAMES.alerts].getJobs(['waiting', 'active', 'delayed', 'completed', 'failed']);
      const found = jobs.filter((job) => JSON.stringify(job.data).includes('OPINIONSTAGE_LOCATION_UNKNOWN'));
      return found.length > 0 ? found : undefined;
    }, 20_000, 'the alert');
    assert.equal(alerts.length, 1, 'one alert');

    // Each Trustpilot key within its budget, and used; no client read with another account's credentials.
    const calls = Object.fromEntries(CLIENTS.map((client) => [client, tp.maxCallsInAnyWindow(TP_KEY[client])]));
    for (const client of CLIENTS) {
      assert.ok((calls[client] ?? 0) > 0, `${client}'s key was used`);
      assert.ok((calls[client] ?? 0) <= TP_BUDGET.max, `${client}'s key: ${calls[client]} calls in a ${TP_MEASURED_WINDOW_MS} ms window, budget ${TP_BUDGET.max}`);
    }
    assert.deepEqual(tp.calls.filter((call) => call.status === 403 || call.status === 401).map((call) => `${call.status} ${call.path}`), [], 'no Trustpilot call refused');
    assert.deepEqual(os.calls.filter((call) => call.status === 404 || call.status === 401).map((call) => `${call.status} ${call.path}`), [], 'no Opinion Stage item read with another account');

    console.log(
      `agency-three-locations: ${events.length} events sent in ${sent} ms, all written in ${elapsed} ms; per location ${JSON.stringify(perLocation)}; wrong writes ${wrong.length}; ` +
        `max Trustpilot calls in any ${TP_MEASURED_WINDOW_MS} ms window per key ${JSON.stringify(calls)} (budget ${TP_BUDGET.max}/${TP_BUDGET.seconds}s); ` +
        `Trustpilot calls ${tp.calls.length}, Opinion Stage calls ${os.calls.length}`,
    );
  });
});
