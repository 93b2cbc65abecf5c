/**
 * Every request the bridge makes to GHL is one GHL's official OpenAPI documents describe. One real
 * bridge runs each flow against the simulators, whose strict validation refuses anything else:
 * setup-fields and backfill (the CLI commands), a contact with a Trustpilot review and the review
 * edited, an Opinion Stage response, a reconcile pass, and the admin one-contact sync. At the end the
 * GHL simulator's list of undocumented requests must be empty and every call it saw validated.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { request } from 'undici';
import { QUEUE_NAMES } from '../../src/queue/catalog.js';
import { startGhlSimulator, type GhlSimulator } from '../../src/sandbox/ghl/simulator.js';
import { startOpinionStageSimulator, type OpinionStageSimulator } from '../../src/sandbox/opinionstage/simulator.js';
import { startTrustpilotSimulator, type TrustpilotSimulator } from '../../src/sandbox/trustpilot/simulator.js';
import { settle as settleBridge, simulatorEnv, startTestBridge, trustpilotSimulatorEnv, type TestBridge } from '../helpers/bridge.js';
import { waitFor } from '../helpers/wait.js';
import { startRedisServer, type RedisServerHandle } from '../helpers/redis-server.js';
import { runCli } from '../integration/commands/run-cli.js';

const LOCATION_ID = 'locDocumented00000001';
const TOKEN = 'pit-documented-traffic-01';
const TP_SECRET = 'tp-webhook-secret-documented';
const OS_SECRET = 'os-webhook-secret-documented';
const ADMIN_TOKEN = 'admin-token-documented-0123456789';

describe('all GHL traffic of the flows is documented', () => {
  let redis: RedisServerHandle;
  let ghl: GhlSimulator;
  let tp: TrustpilotSimulator;
  let os: OpinionStageSimulator;
  let bridge: TestBridge;
  let cliEnv: Record<string, string>;

  before(async () => {
    redis = await startRedisServer();
    ghl = await startGhlSimulator({ locations: [{ id: LOCATION_ID, token: TOKEN }] });
    tp = await startTrustpilotSimulator();
    os = await startOpinionStageSimulator({ webhookToken: OS_SECRET });
    bridge = await startTestBridge({
      mode: 'all',
      redisUrl: redis.url,
      env: {
        ...simulatorEnv(ghl, LOCATION_ID, TOKEN),
        ...trustpilotSimulatorEnv(tp),
        TRUSTPILOT_WEBHOOK_SECRET: TP_SECRET,
        OPINIONSTAGE_API_BASE_URL: os.apiBaseUrl,
        OPINIONSTAGE_API_KEY: 'os-sandbox-key',
        OPINIONSTAGE_WEBHOOK_SECRET: OS_SECRET,
        OPINIONSTAGE_POLL_INTERVAL: '1h',
        ADMIN_TOKEN,
        // The worker runs reconcile passes; the test queues the one it checks.
        RECONCILE_INTERVAL: '1h',
        ENCRYPTION_KEY: Buffer.alloc(32, 5).toString('base64'),
        COALESCE_WINDOW_MS: '200',
      },
    });
    cliEnv = {
      ...simulatorEnv(ghl, LOCATION_ID, TOKEN),
      REDIS_URL: redis.url,
      REDIS_PREFIX: bridge.config.REDIS_PREFIX,
      ENCRYPTION_KEY: Buffer.alloc(32, 5).toString('base64'),
      LOG_LEVEL: 'warn',
    };
    ghl.setWebhookUrl(`${bridge.url}/webhooks/ghl`);
    tp.setWebhookUrl(`${bridge.url}/webhooks/trustpilot?token=${TP_SECRET}`);
    os.setWebhookUrl(`${bridge.url}/webhooks/opinionstage`);
  });

  after(async () => {
    await bridge.close();
    await os.close();
    await tp.close();
    await ghl.close();
    await redis.close();
  });

  const settle = () => settleBridge(bridge, [ghl, tp, os]);
  /** The operations GHL saw, ids replaced: `PUT /contacts/:id/notes/:id`. */
  const operations = () =>
    new Set(
      ghl.calls.map((call) => {
        const path = call.path
          .replace(/^\/contacts\/(?!search$|upsert$)[^/]+/, '/contacts/:id')
          .replace(/\/(notes|tasks)\/[^/]+/, '/$1/:id')
          .replace(/^\/locations\/[^/]+/, '/locations/:id');
        return `${call.method} ${path}`;
      }),
    );

  test('setup-fields, Trustpilot, Opinion Stage, reconcile, backfill and the admin sync send only documented requests', async () => {
    const setup = await runCli(['setup-fields', '--location', LOCATION_ID], cliEnv);
    assert.equal(setup.code, 0, setup.stderr);

    // Trustpilot: a contact whose review exists gets fields, note, tags and task; then the review is edited.
    const review = tp.addReview({ stars: 1, title: 'Late', text: 'Still waiting for my order after three weeks.', referralEmail: 'doc@example.com', consumerName: 'Doc U.' });
    const contact = ghl.userCreateContact(LOCATION_ID, { firstName: 'Doc', lastName: 'Umented', email: 'doc@example.com' });
    await waitFor(() => (ghl.store.listTasks(contact.id).length > 0 ? true : undefined), 20_000, 'the follow-up task');
    tp.updateReview(review.id, { stars: 5, title: 'Sorted', text: 'They fixed it the same day, thank you.' });
    await waitFor(() => (ghl.store.listTasks(contact.id)[0]?.completed ? true : undefined), 20_000, 'the task completed');

    // Opinion Stage: a response by webhook becomes an upserted contact with a note.
    const item = os.addItem({
      title: 'NPS',
      type: 'survey',
      questions: [
        { id: 'q-rating', title: 'How likely are you to recommend us?', kind: 'rating' },
        { id: 'q-email', title: 'Email', kind: 'email', lead: true },
      ],
    });
    os.addResponse(item.id, { answers: { 'q-rating': '9', 'q-email': 'survey@example.com' }, result: { title: 'Promoter', score: 9 } });
    await waitFor(() => ghl.store.listContacts(LOCATION_ID).find((c) => c.email === 'survey@example.com'), 20_000, 'the respondent contact');
    await settle();

    // Reconcile: a pass over recently changed contacts.
    ghl.userUpdateContact(LOCATION_ID, contact.id, { city: 'Lyon' });
    const searchesBefore = ghl.calls.filter((call) => call.path === '/contacts/search').length;
    await bridge.container.queues[QUEUE_NAMES.reconcile].add('reconcile', { locationId: LOCATION_ID });
    await waitFor(() => (ghl.calls.filter((call) => call.path === '/contacts/search').length > searchesBefore ? true : undefined), 20_000, 'a reconcile search');
    await settle();

    // Backfill (the CLI command), then the admin one-contact sync, plain and dry.
    const backfill = await runCli(['backfill', '--location', LOCATION_ID], cliEnv);
    assert.equal(backfill.code, 0, backfill.stderr);
    for (const dryRun of [false, true]) {
      const sync = await request(`${bridge.url}/admin/contacts/${contact.id}/sync?locationId=${LOCATION_ID}&dryRun=${dryRun}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      });
      assert.equal(sync.statusCode, 200, await sync.body.text());
    }
    await settle();

    const listed = await request(`${ghl.url}/__sandbox/undocumented`);
    const body: unknown = await listed.body.json();
    assert.deepEqual(body, { requests: [] }, 'GHL saw no undocumented request');
    assert.deepEqual(ghl.calls.filter((call) => !call.validated || call.status >= 400), [], 'every call validated and succeeded');
    const seen = operations();
    for (const expected of [
      'GET /locations/:id/customFields',
      'POST /locations/:id/customFields',
      'POST /contacts/search',
      'POST /contacts/upsert',
      'GET /contacts/:id',
      'GET /contacts/',
      'POST /contacts/:id/notes',
      'PUT /contacts/:id/notes/:id',
      'POST /contacts/:id/tasks',
      'PUT /contacts/:id/tasks/:id/completed',
      'POST /contacts/:id/tags',
      'DELETE /contacts/:id/tags',
    ]) {
      assert.ok(seen.has(expected), `${expected} was exercised (saw: ${[...seen].sort().join(', ')})`);
    }
  });
});
