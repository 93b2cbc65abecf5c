/**
 * The spine end to end: a contact created in the GHL simulator produces a signed webhook; the bridge
 * verifies it, queues it, and a worker syncs the contact from the webhook's own snapshot (no read);
 * a sync without a snapshot reads the contact back through the GHL client. Runs with known secrets
 * configured and checks that none of them reaches a log line.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { request } from 'undici';
import { secretValues } from '../../src/config/env.js';
import { scheduleContactSync } from '../../src/lifecycle/container.js';
import { QUEUE_NAMES } from '../../src/queue/catalog.js';
import { startGhlSimulator, type GhlSimulator } from '../../src/sandbox/ghl/simulator.js';
import { startTrustpilotSimulator, type TrustpilotSimulator } from '../../src/sandbox/trustpilot/simulator.js';
import { simulatorEnv, startTestBridge, type TestBridge } from '../helpers/bridge.js';
import { waitFor } from '../helpers/wait.js';
import { startTestRedis, type TestRedis } from '../helpers/redis-cluster.js';

const LOCATION_ID = 'locSpine0000000000001';
const TOKEN = 'pit-spine-secret-token-7f3a9c';

describe('spine: simulator → signed webhook → queue → worker → GHL', () => {
  let redis: TestRedis;
  let ghl: GhlSimulator;
  let trustpilot: TrustpilotSimulator;
  let bridge: TestBridge;

  before(async () => {
    redis = await startTestRedis();
    ghl = await startGhlSimulator({ locations: [{ id: LOCATION_ID, token: TOKEN }] });
    trustpilot = await startTrustpilotSimulator({
      apiKey: 'tp-key-spine-secret-0001',
      apiSecret: 'tp-secret-spine-secret-0001',
      users: [{ username: 'owner@spine.test', password: 'tp-password-spine-0001' }],
    });
    bridge = await startTestBridge({
      mode: 'all',
      redisUrl: redis.url,
      env: {
        ...simulatorEnv(ghl, LOCATION_ID, TOKEN),
        GHL_WEBHOOK_SECRET: 'workflow-secret-spine-51c0ffee',
        ADMIN_TOKEN: 'admin-token-spine-0123456789abcdef',
        VIEWER_TOKEN: 'viewer-token-spine-0123456789abcdef',
        TRUSTPILOT_API_BASE_URL: trustpilot.url,
        TRUSTPILOT_API_KEY: 'tp-key-spine-secret-0001',
        TRUSTPILOT_USERNAME: 'owner@spine.test',
        TRUSTPILOT_BUSINESS_UNIT_ID: 'bu_sandbox_own',
        TRUSTPILOT_API_SECRET: 'tp-secret-spine-secret-0001',
        TRUSTPILOT_PASSWORD: 'tp-password-spine-0001',
        OPINIONSTAGE_API_KEY: 'os-key-spine-secret-0001',
        ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64'),
      },
    });
    ghl.setWebhookUrl(`${bridge.url}/webhooks/ghl`);
  });

  after(async () => {
    await bridge.close();
    await trustpilot.close();
    await ghl.close();
    await redis.close();
  });

  const readsOf = (contactId: string) => ghl.calls.filter((call) => call.method === 'GET' && call.path === `/contacts/${contactId}`);
  const runsOf = async (contactId: string) => (await bridge.container.syncDeps.facts.recentSyncs(200)).filter((run) => run.contactId === contactId);

  test('a contact created in GHL is synced from the webhook snapshot without reading it; a sync without one reads it', async () => {
    const contact = ghl.userCreateContact(LOCATION_ID, { firstName: 'Ada', lastName: 'Lovelace', email: 'ada@example.com' });
    const [run] = await waitFor(async () => {
      const runs = await runsOf(contact.id);
      return runs.length > 0 ? runs : undefined;
    }, 10_000, 'the worker to sync the contact');
    assert.equal(run?.outcome, 'synced');
    assert.ok(run?.read?.includes('ghl contact (webhook snapshot)'), `read: ${JSON.stringify(run?.read)}`);
    const delivery = ghl.deliveries.find((item) => item.type === 'ContactCreate');
    assert.ok(delivery, 'the simulator delivered a ContactCreate');
    assert.equal(delivery.status, 200, 'the bridge answered 200');
    assert.deepEqual(readsOf(contact.id), [], 'the contact was not read back');

    // A reconcile-style sync has no snapshot: it reads the contact through the GHL client.
    await scheduleContactSync(bridge.container.queues[QUEUE_NAMES.contactSync], { locationId: LOCATION_ID, contactId: contact.id, reason: 'reconcile', triggeredAt: Date.now() }, 0);
    const read = await waitFor(() => readsOf(contact.id)[0], 10_000, 'the worker to read the contact');
    assert.equal(read.status, 200);
    assert.equal(read.locationId, LOCATION_ID);
    const synced = await waitFor(async () => {
      const syncs = await bridge.container.queues[QUEUE_NAMES.contactSync].getJobCounts('completed');
      return (syncs.completed ?? 0) >= 2 ? syncs.completed : undefined;
    });
    assert.ok(synced >= 2);
  });

  test('a contact deleted in GHL is remembered and not read again', async () => {
    const contact = ghl.userCreateContact(LOCATION_ID, { firstName: 'Grace', email: 'grace@example.com' });
    await waitFor(async () => ((await runsOf(contact.id)).length > 0 ? true : undefined), 10_000, 'first sync');
    ghl.userDeleteContact(LOCATION_ID, contact.id);
    await ghl.idle();
    await waitFor(() => ghl.deliveries.find((item) => item.type === 'ContactDelete' && item.status === 200), 10_000, 'ContactDelete delivered');
    const metrics = await request(`${bridge.url}/metrics`);
    const text = await metrics.body.text();
    assert.match(text, /ghl_bridge_webhooks_total\{source="marketplace",type="ContactDelete",outcome="accepted"\} 1/);
    // A late sync of the deleted contact is skipped without a read.
    await scheduleContactSync(bridge.container.queues[QUEUE_NAMES.contactSync], { locationId: LOCATION_ID, contactId: contact.id, reason: 'manual', triggeredAt: Date.now() }, 0);
    await waitFor(async () => ((await runsOf(contact.id)).some((run) => run.outcome === 'skipped' && run.reason === 'contact-deleted') ? true : undefined), 10_000, 'the skipped sync');
    assert.deepEqual(readsOf(contact.id), []);
  });

  test('/health, /ready, /metrics, /docs and /openapi.json answer', async () => {
    const health = await request(`${bridge.url}/health`);
    assert.deepEqual(await health.body.json(), { status: 'ok' });
    const ready = await request(`${bridge.url}/ready`);
    assert.equal(ready.statusCode, 200);
    const readyBody = (await ready.body.json()) as { checks: Record<string, { ok: boolean }> };
    assert.equal(readyBody.checks.redis?.ok, true);
    assert.equal(readyBody.checks['circuit-ghl']?.ok, true, 'each upstream circuit is reported');
    assert.ok(readyBody.checks['circuit-trustpilot'], 'the Trustpilot circuit is reported when Trustpilot is configured');
    const metrics = await request(`${bridge.url}/metrics`);
    const text = await metrics.body.text();
    assert.match(text, /ghl_bridge_upstream_calls_total\{system="ghl",status="200"\} \d+/);
    assert.match(text, /ghl_bridge_jobs\{queue="contact-sync",state="completed"\} \d+/);
    assert.match(text, /ghl_bridge_circuit_state\{system="ghl"\} 0/);
    assert.match(text, /ghl_bridge_job_duration_seconds_count\{queue="contact-sync",outcome="completed"\} \d+/);
    const docs = await request(`${bridge.url}/docs/`);
    assert.equal(docs.statusCode, 200);
    assert.match(await docs.body.text(), /swagger/i);
    const spec = await request(`${bridge.url}/openapi.json`);
    const document = (await spec.body.json()) as { paths: Record<string, unknown> };
    assert.ok(document.paths['/webhooks/ghl']);
  });

  test('no configured secret appears in any log line of the run', () => {
    const secrets = secretValues(bridge.config);
    assert.ok(secrets.length >= 8, 'the run had secrets configured');
    assert.ok(bridge.logs.length > 0, 'logs were captured');
    for (const line of bridge.logs) {
      for (const secret of secrets) assert.ok(!line.includes(secret), `a log line leaks a secret: ${line.slice(0, 200)}`);
    }
  });
});
