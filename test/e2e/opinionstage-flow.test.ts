/**
 * Opinion Stage ⇄ GHL end to end, over real HTTP and Redis against the simulators: responses become
 * upserted contacts with one note, tags and tasks, whether they come by webhook or poll (or both,
 * twice); personal links bring responses back to the exact contact; GHL changes are forwarded as
 * signed events to a collector that fails at first.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { request } from 'undici';
import { verifyHmacSignature } from '../../src/clients/http/hmac-signature.js';
import { QUEUE_NAMES } from '../../src/queue/catalog.js';
import { startGhlSimulator, type GhlSimulator } from '../../src/sandbox/ghl/simulator.js';
import { startOpinionStageSimulator, type OpinionStageSimulator } from '../../src/sandbox/opinionstage/simulator.js';
import { setupFields } from '../../src/workers/setup-fields.js';
import { settle as settleBridge, simulatorEnv, startTestBridge, type TestBridge } from '../helpers/bridge.js';
import { waitFor } from '../helpers/wait.js';
import { createTestSigner, signedEvent } from '../helpers/ghl-signing.js';
import { startTestRedis, type TestRedis } from '../helpers/redis-cluster.js';

const LOCATION_ID = 'locOpinionStage000001';

function delivery(found: { body: string } | undefined): string {
  assert.ok(found, 'the webhook delivery');
  return found.body;
}
const TOKEN = 'pit-opinionstage-flow-01';
const OS_SECRET = 'os-webhook-secret-0001';
const PUSH_SECRET = 'push-secret-0123456789';
const SURVEY_URL = 'https://www.opinionstage.com/page/nps-survey';

interface Collected {
  body: string;
  headers: Record<string, string | string[] | undefined>;
}

describe('Opinion Stage ⇄ GHL', () => {
  let redis: TestRedis;
  let ghl: GhlSimulator;
  let os: OpinionStageSimulator;
  let bridge: TestBridge;
  let collector: Server;
  const collected: Collected[] = [];
  let failuresLeft = 2;
  let itemId = '';

  before(async () => {
    redis = await startTestRedis();
    const signer = createTestSigner();
    ghl = await startGhlSimulator({
      locations: [{ id: LOCATION_ID, token: TOKEN }],
      signingKeys: { ed25519PrivateKeyPem: signer.ed25519PrivateKeyPem, rsaPrivateKeyPem: signer.rsaPrivateKeyPem },
    });
    os = await startOpinionStageSimulator({ webhookToken: OS_SECRET });
    const item = os.addItem({
      title: 'NPS survey',
      type: 'survey',
      questions: [
        { id: 'q-rating', title: 'How likely are you to recommend us?', kind: 'rating' },
        { id: 'q-email', title: 'Email', kind: 'email', lead: true },
        { id: 'q-name', title: 'Name', kind: 'name', lead: true },
      ],
    });
    itemId = item.id;
    collector = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        // The collector is down for its first requests: forwarding must retry through it.
        if (failuresLeft > 0) {
          failuresLeft -= 1;
          res.writeHead(503).end();
          return;
        }
        collected.push({ body, headers: req.headers });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
    const address = collector.address();
    assert.ok(address && typeof address === 'object');
    bridge = await startTestBridge({
      mode: 'all',
      redisUrl: redis.url,
      env: {
        ...simulatorEnv(ghl, LOCATION_ID, TOKEN),
        OPINIONSTAGE_API_BASE_URL: os.apiBaseUrl,
        OPINIONSTAGE_API_KEY: 'os-sandbox-key',
        OPINIONSTAGE_WEBHOOK_SECRET: OS_SECRET,
        OPINIONSTAGE_POLL_INTERVAL: '1h',
        OPINIONSTAGE_SURVEY_URL: SURVEY_URL,
        OPINIONSTAGE_PUSH_URL: `http://127.0.0.1:${address.port}/collect`,
        OPINIONSTAGE_PUSH_SECRET: PUSH_SECRET,
        COALESCE_WINDOW_MS: '200',
      },
    });
    await setupFields(bridge.container.ghl, LOCATION_ID, bridge.container.mapping, bridge.container.syncDeps.fieldIds);
    ghl.setWebhookUrl(`${bridge.url}/webhooks/ghl`);
    os.setWebhookUrl(`${bridge.url}/webhooks/opinionstage`);
  });

  after(async () => {
    await bridge.close();
    await new Promise((resolve) => collector.close(resolve));
    await os.close();
    await ghl.close();
    await redis.close();
  });

  const contactsByEmail = (email: string) => ghl.store.listContacts(LOCATION_ID).filter((contact) => contact.email === email);
  const notes = (contactId: string) => ghl.store.listNotes(contactId);
  const tasks = (contactId: string) => ghl.store.listTasks(contactId);

  const settle = () => settleBridge(bridge, [ghl, os]);

  async function poll(): Promise<void> {
    await bridge.container.queues[QUEUE_NAMES.opinionStagePoll].add('poll', {});
    await settle();
  }

  test('a response by webhook becomes one upserted contact with one note, the rule task and the tag', async () => {
    os.addResponse(itemId, { answers: { 'q-rating': '3', 'q-email': 'Lin@Example.com', 'q-name': 'Lin Chen' }, result: { title: 'Detractor', score: 3 } });
    await waitFor(() => (contactsByEmail('lin@example.com')[0] && tasks(contactsByEmail('lin@example.com')[0]?.id ?? '').length > 0 ? true : undefined), 20_000, 'the contact and its task');
    await settle();
    const [contact] = contactsByEmail('lin@example.com');
    assert.ok(contact);
    assert.equal(contact.firstName, 'Lin');
    assert.equal(contact.lastName, 'Chen');
    assert.equal(notes(contact.id).length, 1);
    assert.match(notes(contact.id)[0]?.body ?? '', /How likely are you to recommend us\?: 3/);
    assert.ok(contact.tags?.includes('opinionstage-respondent'));
    assert.equal(tasks(contact.id).length, 1);
    assert.match(tasks(contact.id)[0]?.title ?? '', /score 3 in "NPS survey"/);
  });

  test('the same response by webhook and by poll, twice each, is still one of everything', async () => {
    const delivery = os.deliveries.at(-1);
    assert.ok(delivery);
    for (let i = 0; i < 2; i++) {
      const body: string = delivery.body;
      const answer = await request(`${bridge.url}/webhooks/opinionstage?token=${OS_SECRET}`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
      assert.equal(((await answer.body.json()) as { status: string }).status, 'duplicate');
    }
    await poll();
    await poll();
    const contacts = contactsByEmail('lin@example.com');
    assert.equal(contacts.length, 1, 'one contact');
    const contactId = contacts[0]?.id ?? '';
    assert.equal(notes(contactId).length, 1, 'one note');
    assert.equal(tasks(contactId).length, 1, 'one task');
  });

  test('a response that only the poll sees reaches GHL too', async () => {
    os.addResponse(itemId, { answers: { 'q-rating': '9', 'q-email': 'polled@example.com' }, result: { title: 'Promoter', score: 9 }, sendWebhook: false });
    await poll();
    const [contact] = contactsByEmail('polled@example.com');
    assert.ok(contact, 'the polled response created its contact');
    assert.equal(notes(contact.id).length, 1);
    assert.equal(tasks(contact.id).length, 0, 'a promoter opens no task');
  });

  test('new contacts get a personal survey link, and a response through it lands on that contact', async () => {
    const contact = ghl.userCreateContact(LOCATION_ID, { firstName: 'Ada', lastName: 'Byron', email: 'ada@example.com' });
    const linkField = ghl.store.findCustomField(LOCATION_ID, 'contact.opinionstage_survey_link');
    assert.ok(linkField);
    const link = await waitFor(() => ghl.store.getContact(contact.id)?.customFields?.find((field) => field.id === linkField.id)?.value, 15_000, 'the survey link');
    assert.equal(typeof link, 'string');
    const url = new URL(String(link));
    assert.equal(url.origin + url.pathname, SURVEY_URL);
    assert.equal(url.searchParams.get('contact_id'), contact.id);
    assert.equal(url.searchParams.get('email'), 'ada@example.com');
    await settle();

    const before = ghl.store.listContacts(LOCATION_ID).length;
    os.addResponse(itemId, { answers: { 'q-rating': '2' }, result: { title: 'Detractor', score: 2 }, query: Object.fromEntries(url.searchParams) });
    await waitFor(() => (notes(contact.id).length > 0 ? true : undefined), 15_000, 'the note on the linked contact');
    await settle();
    assert.equal(ghl.store.listContacts(LOCATION_ID).length, before, 'no new contact');
    assert.equal(notes(contact.id).length, 1);
    assert.equal(tasks(contact.id).length, 1);
  });

  test('a 404 for the item\'s questions still imports the answers and the respondent; the note says the labels were missing', async () => {
    const hidden = os.addItem({
      title: 'Deleted survey',
      type: 'survey',
      questions: [
        { id: 'q-stars', title: 'How many stars?', kind: 'rating' },
        { id: 'q-mail', title: 'Email', kind: 'email', lead: true },
      ],
    });
    os.hideQuestions(hidden.id);
    const added = os.addResponse(hidden.id, { answers: { 'q-stars': '2', 'q-mail': 'unlabelled@example.com' }, result: { title: 'Detractor', score: 2 } });
    await waitFor(() => (contactsByEmail('unlabelled@example.com')[0] && notes(contactsByEmail('unlabelled@example.com')[0]?.id ?? '').length > 0 ? true : undefined), 20_000, 'the unlabelled response imported');
    await settle();
    const [contact] = contactsByEmail('unlabelled@example.com');
    assert.ok(contact);
    const body = notes(contact.id)[0]?.body ?? '';
    assert.match(body, /q-stars: 2/, 'the answer as given, under its question id');
    assert.match(body, /Missing: question labels unavailable/);
    const jobs = await bridge.container.queues[QUEUE_NAMES.opinionStageResponses].getJobs(['completed', 'failed']);
    const job = jobs.find((item) => (item.data as { response: { id: string } }).response.id === added.id);
    assert.equal(await job?.getState(), 'completed');
    assert.equal(job?.returnvalue?.outcome, 'synced');
    assert.ok(os.calls.some((call) => call.path.includes(`/items/${hidden.id}/questions`)), 'the questions were asked for');
  });

  test('a response whose attributes are null is imported from the flat fields, by webhook and by poll, once', async () => {
    const item = os.addItem({ title: 'Lead form', type: 'form', questions: [{ id: 'q-lead-email', title: 'Email', kind: 'email', lead: true }] });
    const added = os.addResponse(item.id, { answers: { 'q-lead-email': 'nulls@example.com' }, nulls: 'attributes' });
    await waitFor(() => (contactsByEmail('nulls@example.com')[0] && notes(contactsByEmail('nulls@example.com')[0]?.id ?? '').length > 0 ? true : undefined), 20_000, 'the null-attributes response imported');
    await poll();
    const [contact] = contactsByEmail('nulls@example.com');
    assert.ok(contact);
    assert.equal(contactsByEmail('nulls@example.com').length, 1);
    assert.equal(notes(contact.id).length, 1, 'one note, though the poll saw it too');
    assert.match(notes(contact.id)[0]?.body ?? '', /Missing: answers unavailable/);
    const delivered = os.deliveries.find((delivery) => delivery.responseId === added.id);
    assert.equal((JSON.parse(String(delivery(delivered))) as { data: { attributes: unknown } }).data.attributes, null, 'the webhook carried null attributes');
  });

  test('a wrong secret is 401 and queues nothing', async () => {
    const queue = bridge.container.queues[QUEUE_NAMES.opinionStageResponses];
    const before = await queue.getJobCountByTypes('waiting', 'active', 'delayed', 'completed', 'failed');
    const body = JSON.stringify({ data: { id: 'forged-1', type: 'response', attributes: { answers: [], timestamps: { created: new Date().toISOString() } } }, email: 'x@example.com' });
    for (const url of [`${bridge.url}/webhooks/opinionstage?token=wrong`, `${bridge.url}/webhooks/opinionstage`]) {
      const response = await request(url, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
      assert.equal(response.statusCode, 401);
      await response.body.dump();
    }
    assert.equal(await queue.getJobCountByTypes('waiting', 'active', 'delayed', 'completed', 'failed'), before);
  });

  test('a response with no email and no contact id is recorded as skipped, not retried', async () => {
    const added = os.addResponse(itemId, { answers: { 'q-rating': '1' }, result: { title: 'Detractor', score: 1 } });
    const job = await waitFor(async () => {
      const jobs = await bridge.container.queues[QUEUE_NAMES.opinionStageResponses].getJobs(['completed', 'failed']);
      return jobs.find((item) => (item.data as { response: { id: string } }).response.id === added.id && item.finishedOn);
    }, 15_000, 'the response job');
    assert.equal(job.returnvalue?.outcome, 'skipped');
    assert.match(String(job.returnvalue?.reason), /no email, phone or contact id/);
    assert.equal(job.attemptsMade, 1);
    assert.equal(await job.getState(), 'completed');
  });

  test('GHL changes are forwarded as signed events, through the collector being down', async () => {
    await settle();
    await waitFor(() => (collected.some((item) => JSON.parse(item.body).type === 'ContactCreate') ? true : undefined), 30_000, 'a forwarded ContactCreate');
    for (const item of collected) {
      assert.ok(verifyHmacSignature(PUSH_SECRET, item.body, String(item.headers['x-bridge-signature'])), 'signature verifies');
      const event = JSON.parse(item.body) as { id: string; type: string; locationId: string; occurredAt: string; data: unknown };
      assert.equal(item.headers['x-bridge-event-id'], event.id);
      assert.ok(Number(item.headers['x-bridge-timestamp']) > 0);
      assert.equal(event.locationId, LOCATION_ID);
    }
    const ids = collected.map((item) => (JSON.parse(item.body) as { id: string }).id);
    assert.equal(new Set(ids).size, ids.length, 'each event delivered once');
    assert.equal(failuresLeft, 0, 'the collector failures were retried through');
  });

  test('a TaskCreate without contactId is forwarded without crashing, and counted', async () => {
    const event = signedEvent('TaskCreate', { locationId: LOCATION_ID, contactId: undefined, body: undefined });
    const response = await request(`${bridge.url}/webhooks/ghl`, { method: 'POST', body: event.body, headers: event.headers });
    assert.equal(((await response.body.json()) as { status: string }).status, 'accepted');
    const webhookId = (JSON.parse(event.body) as { webhookId: string }).webhookId;
    await waitFor(() => collected.find((item) => (JSON.parse(item.body) as { id: string }).id === webhookId), 15_000, 'the forwarded task event');
    const metrics = await (await request(`${bridge.url}/metrics`)).body.text();
    assert.match(metrics, /ghl_bridge_jobs_skipped_total\{queue="opinionstage-push",reason="task-without-contact"\} 1/);
  });
});
