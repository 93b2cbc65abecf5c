/**
 * Bull Board at /admin/queues over real HTTP against the production container and a real Redis:
 * admin only (bearer or the dashboard's admin session), viewer refused even for reads, the page and
 * its assets served under their own CSP, its API listing the bridge's queues and acting on them.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { request } from 'undici';
import { QUEUE_NAMES } from '../../../src/queue/catalog.js';
import { BULL_BOARD_CSP } from '../../../src/http/routes/bull-board.js';
import { STRICT_CSP } from '../../../src/http/plugins/security-headers.js';
import { startTestBridge, type TestBridge } from '../../helpers/bridge.js';
import { postSignIn } from '../../helpers/dashboard-sign-in.js';
import { startRedisServer, type RedisServerHandle } from '../../helpers/redis-server.js';

const ADMIN_TOKEN = 'bull-board-admin-token-0001';
const VIEWER_TOKEN = 'bull-board-viewer-token-0001';

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

interface CallOptions {
  token?: string;
  cookie?: string;
  origin?: string;
}

async function call(base: string, method: 'GET' | 'PUT', path: string, options: CallOptions = {}): Promise<Reply> {
  const headers: Record<string, string> = {};
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.cookie) headers.cookie = options.cookie;
  if (options.origin) headers.origin = options.origin;
  const response = await request(`${base}${path}`, { method, headers });
  return { status: response.statusCode, headers: response.headers, text: await response.body.text() };
}

function json(reply: Reply): unknown {
  return JSON.parse(reply.text) as unknown;
}

function errorCode(reply: Reply): unknown {
  const body = json(reply);
  assert.ok(typeof body === 'object' && body !== null);
  return 'code' in body ? body.code : undefined;
}

/** The dashboard's session cookie for a token, as a browser would get it on sign-in. */
async function sessionCookie(base: string, token: string): Promise<string> {
  const reply = await postSignIn(base, token);
  assert.equal(reply.status, 303);
  assert.ok(reply.cookie.startsWith('ghl_bridge_dashboard='), reply.cookie);
  return reply.cookie;
}

interface QueueSummary {
  name: string;
  counts: Record<string, number>;
  isPaused?: boolean;
}

function queuesOf(reply: Reply): QueueSummary[] {
  const body = json(reply);
  assert.ok(typeof body === 'object' && body !== null && 'queues' in body && Array.isArray(body.queues), `expected { queues: [] }, got ${reply.text.slice(0, 200)}`);
  return body.queues.map((queue: unknown) => {
    assert.ok(typeof queue === 'object' && queue !== null && 'name' in queue && typeof queue.name === 'string' && 'counts' in queue);
    const counts = queue.counts;
    assert.ok(typeof counts === 'object' && counts !== null);
    return {
      name: queue.name,
      counts: Object.fromEntries(Object.entries(counts).map(([key, value]) => [key, Number(value)])),
      ...('isPaused' in queue && typeof queue.isPaused === 'boolean' ? { isPaused: queue.isPaused } : {}),
    };
  });
}

describe('Bull Board at /admin/queues', () => {
  let redis: RedisServerHandle;
  let bridge: TestBridge;
  let disabled: TestBridge;

  before(async () => {
    redis = await startRedisServer();
    // Web only: no worker takes the job this test queues, so its count stays put.
    bridge = await startTestBridge({ mode: 'web', redisUrl: redis.url, env: { ADMIN_TOKEN, VIEWER_TOKEN } });
    disabled = await startTestBridge({ mode: 'web', redisUrl: redis.url });
  });

  after(async () => {
    await bridge?.close();
    await disabled?.close();
    await redis?.close();
  });

  test('no token or a wrong one: 401 with a Bearer challenge', async () => {
    for (const path of ['/admin/queues', '/admin/queues/api/queues', '/admin/queues/static/favicon-32x32.png']) {
      const reply = await call(bridge.url, 'GET', path);
      assert.equal(reply.status, 401, path);
      assert.match(String(reply.headers['www-authenticate']), /^Bearer /);
    }
    const wrong = await call(bridge.url, 'GET', '/admin/queues', { token: 'not-a-token' });
    assert.equal(wrong.status, 401);
    assert.match(String(wrong.headers['www-authenticate']), /invalid_token/);
  });

  test('the viewer token is refused, reads and actions alike, and changes nothing', async () => {
    for (const path of ['/admin/queues', '/admin/queues/api/queues']) {
      const reply = await call(bridge.url, 'GET', path, { token: VIEWER_TOKEN });
      assert.equal(reply.status, 403, path);
      assert.equal(errorCode(reply), 'FORBIDDEN');
    }
    const action = await call(bridge.url, 'PUT', `/admin/queues/api/queues/${QUEUE_NAMES.contactSync}/pause`, { token: VIEWER_TOKEN });
    assert.equal(action.status, 403);
    assert.equal(await bridge.container.queues[QUEUE_NAMES.contactSync].isPaused(), false);
    // The viewer's dashboard session does not open it either.
    const viewerCookie = await sessionCookie(bridge.url, VIEWER_TOKEN);
    assert.equal((await call(bridge.url, 'GET', '/admin/queues/api/queues', { cookie: viewerCookie })).status, 403);
  });

  test('admin: the page is HTML under its own CSP, and its script asset loads', async () => {
    const page = await call(bridge.url, 'GET', '/admin/queues', { token: ADMIN_TOKEN });
    assert.equal(page.status, 200);
    assert.match(String(page.headers['content-type']), /^text\/html/);
    assert.equal(page.headers['content-security-policy'], BULL_BOARD_CSP);
    assert.match(page.text, /<base href="\/admin\/queues\/"/);
    const script = /src="(static\/js\/main\.[^"]+\.js)"/.exec(page.text)?.[1];
    assert.ok(script, 'the page names its main script');
    const asset = await call(bridge.url, 'GET', `/admin/queues/${script}`, { token: ADMIN_TOKEN });
    assert.equal(asset.status, 200);
    assert.match(String(asset.headers['content-type']), /javascript/);
    assert.ok(asset.text.length > 1_000);
    assert.equal(asset.headers['content-security-policy'], BULL_BOARD_CSP);
    // Elsewhere the strict default still applies.
    assert.equal((await call(bridge.url, 'GET', '/healthz')).headers['content-security-policy'], STRICT_CSP);
  });

  test('admin: the API lists the bridge queues with their counts, and its actions work', async () => {
    const syncQueue = bridge.container.queues[QUEUE_NAMES.contactSync];
    await syncQueue.add('sync', { locationId: 'locBullBoard', contactId: 'c1' }, { jobId: 'bull-board-job-1' });

    const listed = await call(bridge.url, 'GET', '/admin/queues/api/queues', { token: ADMIN_TOKEN });
    assert.equal(listed.status, 200);
    const queues = queuesOf(listed);
    const names = queues.map((queue) => queue.name).sort();
    assert.deepEqual(names, Object.values(QUEUE_NAMES).sort());
    assert.equal(queues.find((queue) => queue.name === QUEUE_NAMES.contactSync)?.counts.waiting, 1);

    const paused = await call(bridge.url, 'PUT', `/admin/queues/api/queues/${QUEUE_NAMES.contactSync}/pause`, { token: ADMIN_TOKEN });
    assert.equal(paused.status, 200);
    assert.equal(await syncQueue.isPaused(), true);
    const resumed = await call(bridge.url, 'PUT', `/admin/queues/api/queues/${QUEUE_NAMES.contactSync}/resume`, { token: ADMIN_TOKEN });
    assert.equal(resumed.status, 200);
    assert.equal(await syncQueue.isPaused(), false);
  });

  test("the dashboard's admin session works in a browser; its changes must come from this host", async () => {
    const cookie = await sessionCookie(bridge.url, ADMIN_TOKEN);
    const syncQueue = bridge.container.queues[QUEUE_NAMES.contactSync];
    const listed = await call(bridge.url, 'GET', '/admin/queues/api/queues', { cookie });
    assert.equal(listed.status, 200);
    assert.ok(queuesOf(listed).some((queue) => queue.name === QUEUE_NAMES.ghlWebhooks));

    const path = `/admin/queues/api/queues/${QUEUE_NAMES.contactSync}/pause`;
    const crossSite = await call(bridge.url, 'PUT', path, { cookie, origin: 'https://evil.example' });
    assert.equal(crossSite.status, 403);
    const noOrigin = await call(bridge.url, 'PUT', path, { cookie });
    assert.equal(noOrigin.status, 403);
    assert.equal(await syncQueue.isPaused(), false);

    const sameOrigin = await call(bridge.url, 'PUT', path, { cookie, origin: bridge.url });
    assert.equal(sameOrigin.status, 200);
    assert.equal(await syncQueue.isPaused(), true);
    assert.equal((await call(bridge.url, 'PUT', `/admin/queues/api/queues/${QUEUE_NAMES.contactSync}/resume`, { cookie, origin: bridge.url })).status, 200);
    assert.equal(await syncQueue.isPaused(), false);
  });

  test('without ADMIN_TOKEN it is off: 404 ADMIN_DISABLED even with a token', async () => {
    const reply = await call(disabled.url, 'GET', '/admin/queues', { token: ADMIN_TOKEN });
    assert.equal(reply.status, 404);
    assert.equal(errorCode(reply), 'ADMIN_DISABLED');
  });
});
