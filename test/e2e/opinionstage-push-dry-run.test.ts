/**
 * DRY_RUN=true with OPINIONSTAGE_PUSH_URL: a GHL change that would be forwarded is recorded as a
 * planned write (system `opinionstage`, POST to the push URL's origin, never its path or query) and nothing
 * reaches the collector, a real HTTP server that counts every request it gets.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { request } from 'undici';
import { startGhlSimulator, type GhlSimulator } from '../../src/sandbox/ghl/simulator.js';
import { settle, simulatorEnv, startTestBridge, type TestBridge } from '../helpers/bridge.js';
import { waitFor } from '../helpers/wait.js';
import { createTestSigner } from '../helpers/ghl-signing.js';
import { startRedisServer, type RedisServerHandle } from '../helpers/redis-server.js';

const LOCATION_ID = 'locPushDryRun00000001';
const TOKEN = 'pit-push-dry-run-0001';
const VIEWER_TOKEN = 'viewer-token-push-dry-run-01';
const COLLECTOR_KEY = 'collector-key-in-query-0001';

interface PlannedEntry {
  locationId: string;
  contactId: string;
  system: string;
  method: string;
  path: string;
  body: { id?: string; type?: string; locationId?: string; data?: { id?: string } };
  reason: string;
}

describe('dry run with a push URL', () => {
  let redis: RedisServerHandle;
  let ghl: GhlSimulator;
  let bridge: TestBridge;
  let collector: Server;
  let received = 0;

  before(async () => {
    redis = await startRedisServer();
    const signer = createTestSigner();
    ghl = await startGhlSimulator({
      locations: [{ id: LOCATION_ID, token: TOKEN }],
      signingKeys: { ed25519PrivateKeyPem: signer.ed25519PrivateKeyPem, rsaPrivateKeyPem: signer.rsaPrivateKeyPem },
    });
    collector = createServer((req, res) => {
      received += 1;
      req.resume();
      req.on('end', () => res.writeHead(204).end());
    });
    await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
    const address = collector.address();
    assert.ok(address && typeof address === 'object');
    bridge = await startTestBridge({
      mode: 'all',
      redisUrl: redis.url,
      env: {
        ...simulatorEnv(ghl, LOCATION_ID, TOKEN),
        DRY_RUN: 'true',
        ADMIN_TOKEN: 'admin-token-push-dry-run-01',
        VIEWER_TOKEN,
        OPINIONSTAGE_PUSH_URL: `http://127.0.0.1:${address.port}/collect/events?key=${COLLECTOR_KEY}`,
        OPINIONSTAGE_PUSH_SECRET: 'push-secret-dry-run-0001',
      },
    });
    ghl.setWebhookUrl(`${bridge.url}/webhooks/ghl`);
  });

  after(async () => {
    await bridge.close();
    await new Promise((resolve) => collector.close(resolve));
    await ghl.close();
    await redis.close();
  });

  async function planned(): Promise<{ entries: PlannedEntry[]; text: string }> {
    const response = await request(`${bridge.url}/admin/planned?limit=100`, { headers: { authorization: `Bearer ${VIEWER_TOKEN}` } });
    const text = await response.body.text();
    assert.equal(response.statusCode, 200, text);
    return { entries: JSON.parse(text) as PlannedEntry[], text };
  }

  test('a contact change is planned as a forward in /admin/planned and the collector gets no request', async () => {
    const contact = ghl.userCreateContact(LOCATION_ID, { firstName: 'Dry', lastName: 'Run', email: 'dry.run@example.com' });
    const forward = await waitFor(
      async () => (await planned()).entries.find((entry) => entry.system === 'opinionstage' && entry.body.data?.id === contact.id),
      20_000,
      'the planned forward',
    );
    await settle(bridge, [ghl]);
    assert.equal(forward.method, 'POST');
    assert.equal(forward.path, `${new URL(bridge.config.OPINIONSTAGE_PUSH_URL ?? '').origin}/[redacted]`, 'the origin only: the path and the query may hold a credential');
    assert.equal(forward.locationId, LOCATION_ID);
    assert.equal(forward.contactId, contact.id);
    assert.equal(forward.body.type, 'ContactCreate');
    assert.equal(forward.body.locationId, LOCATION_ID);
    assert.equal(typeof forward.body.id, 'string');
    assert.match(forward.reason, /ContactCreate/);
    const { text } = await planned();
    assert.ok(!text.includes(COLLECTOR_KEY), 'the push URL query never reaches /admin/planned');
    assert.equal(received, 0, 'nothing was sent to the push URL');
    const jobs = await bridge.container.queues['opinionstage-push'].getJobs(['completed']);
    assert.ok(jobs.some((job) => (job.returnvalue as { planned?: string } | undefined)?.planned === forward.body.id), 'the job completed as planned');
  });
});
