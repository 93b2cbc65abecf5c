/**
 * A push URL and an alert URL whose path and query hold their credentials (as Zapier, Make and
 * Slack hooks do), through a whole flow: a GHL change is forwarded, the collector refuses it (and
 * echoes the URL it was called on), the job is dead-lettered and an alert is posted. Neither URL's
 * secret appears in any captured log line, dead letter, admin or dashboard page, or alert.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, before, test } from 'node:test';
import { request } from 'undici';
import { QUEUE_NAMES } from '../../src/queue/catalog.js';
import { startGhlSimulator, type GhlSimulator } from '../../src/sandbox/ghl/simulator.js';
import { settle, simulatorEnv, startTestBridge, type TestBridge } from '../helpers/bridge.js';
import { postSignIn } from '../helpers/dashboard-sign-in.js';
import { createTestSigner } from '../helpers/ghl-signing.js';
import { startRedisServer, type RedisServerHandle } from '../helpers/redis-server.js';
import { waitFor } from '../helpers/wait.js';

const LOCATION_ID = 'locRedaction00000001';
const TOKEN = 'pit-redaction-flow-01';
const ADMIN_TOKEN = 'admin-token-redaction-0001';
const PUSH_PATH_SECRET = 'pushPathSecret7Q2w9Zx';
const PUSH_QUERY_SECRET = 'pushQuerySecret4Lm8Kd';
const ALERT_PATH_SECRET = 'alertPathSecret3Vb6Np';
const SECRETS = [PUSH_PATH_SECRET, PUSH_QUERY_SECRET, ALERT_PATH_SECRET];

let redis: RedisServerHandle;
let ghl: GhlSimulator;
let bridge: TestBridge;
let collector: Server;
const pushCalls: string[] = [];
const alerts: string[] = [];

function listen(server: Server): Promise<number> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : 0);
    }),
  );
}

before(async () => {
  redis = await startRedisServer();
  const signer = createTestSigner();
  ghl = await startGhlSimulator({
    locations: [{ id: LOCATION_ID, token: TOKEN }],
    signingKeys: { ed25519PrivateKeyPem: signer.ed25519PrivateKeyPem, rsaPrivateKeyPem: signer.rsaPrivateKeyPem },
  });
  // One server for both hooks: the push hook refuses for good and echoes the URL it was called on.
  collector = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      if ((req.url ?? '').startsWith('/services/')) {
        alerts.push(body);
        res.writeHead(200).end('ok');
        return;
      }
      pushCalls.push(req.url ?? '');
      res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'bad hook', url: req.url, decoded: decodeURIComponent(req.url ?? '') }));
    });
  });
  const port = await listen(collector);
  bridge = await startTestBridge({
    mode: 'all',
    redisUrl: redis.url,
    env: {
      ...simulatorEnv(ghl, LOCATION_ID, TOKEN),
      ADMIN_TOKEN,
      OPINIONSTAGE_PUSH_URL: `http://127.0.0.1:${port}/hooks/catch/${PUSH_PATH_SECRET}/?auth=${PUSH_QUERY_SECRET}`,
      ALERT_WEBHOOK_URL: `http://127.0.0.1:${port}/services/T000/${ALERT_PATH_SECRET}`,
      LOG_LEVEL: 'debug',
    },
  });
  ghl.setWebhookUrl(`${bridge.url}/webhooks/ghl`);
});

after(async () => {
  await bridge?.close();
  await new Promise((resolve) => collector?.close(resolve));
  await ghl?.close();
  await redis?.close();
});

test("a refused push: dead letter and alert, and neither URL's secret shows anywhere", async () => {
  ghl.userCreateContact(LOCATION_ID, { firstName: 'Ada', email: 'ada@example.org' });
  await waitFor(async () => ((await bridge.container.deadLetters.list(50, QUEUE_NAMES.opinionStagePush)).length > 0 ? true : undefined), 30_000, 'the push dead letter');
  await waitFor(() => (alerts.some((alert) => alert.includes(QUEUE_NAMES.opinionStagePush)) ? true : undefined), 30_000, 'the alert about it');
  await settle(bridge, [ghl]);
  assert.ok(pushCalls.some((url) => url.includes(PUSH_PATH_SECRET) && url.includes(PUSH_QUERY_SECRET)), 'the real URL was called');

  const deadLetters = JSON.stringify(await bridge.container.deadLetters.list(50));
  assert.match(deadLetters, /\[redacted\]/, 'the dead letter names the redacted path');
  const authorization = { authorization: `Bearer ${ADMIN_TOKEN}` };
  const adminJson = await Promise.all(
    ['/admin/dead-letter', '/admin/jobs?state=failed'].map(async (path) => {
      const response = await request(`${bridge.url}${path}`, { headers: authorization });
      assert.equal(response.statusCode, 200, path);
      return response.body.text();
    }),
  );
  const { cookie } = await postSignIn(bridge.url, ADMIN_TOKEN);
  const page = await request(`${bridge.url}/dashboard`, { headers: { cookie } });
  assert.equal(page.statusCode, 200);
  const html = await page.body.text();
  assert.match(html, /opinionstage-push/);

  const surfaces: Record<string, string> = { logs: bridge.logs.join('\n'), deadLetters, admin: adminJson.join('\n'), dashboard: html, alerts: alerts.join('\n') };
  for (const [where, text] of Object.entries(surfaces)) {
    for (const secret of SECRETS) assert.ok(!text.includes(secret), `${where} shows ${secret}`);
  }
});
