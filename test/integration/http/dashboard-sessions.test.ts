/**
 * Dashboard sessions against a real Redis, through `buildApp` + `inject`: sign-in by form only,
 * a random id in the cookie (HttpOnly, SameSite=Strict, Secure when the request came over TLS by
 * the trusted-proxy rule), revoked on sign-out and when a token changes, and single-use sign-in codes.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { createSignInCode } from '../../../src/http/plugins/dashboard-session.js';
import { describeOnlyDashboardDeps } from '../../../src/http/routes/dashboard.js';
import { createDashboardSessions, type DashboardSessions } from '../../../src/state/dashboard-sessions.js';
import { buildTestApp, inject, type TestApp } from '../../helpers/app.js';
import { startRedisServer, type RedisServerHandle } from '../../helpers/redis-server.js';

const ADMIN_TOKEN = 'sessions-admin-token-0001';
const VIEWER_TOKEN = 'sessions-viewer-token-0001';
const ORIGIN = 'http://bridge.test';
const FORM = { 'content-type': 'application/x-www-form-urlencoded', origin: ORIGIN, host: 'bridge.test' };

function cookieOf(setCookie: string | string[] | number | undefined): { pair: string; lines: string[] } {
  const lines = setCookie === undefined ? [] : Array.isArray(setCookie) ? setCookie : [String(setCookie)];
  return { pair: lines[0]?.split(';')[0] ?? '', lines };
}

describe('dashboard sessions', () => {
  let redis: RedisServerHandle;
  let client: Redis;
  let sessions: DashboardSessions;
  const opened: TestApp[] = [];

  before(async () => {
    redis = await startRedisServer();
    client = new Redis(redis.url);
    sessions = createDashboardSessions(client, `test-${randomUUID()}`);
  });
  after(async () => {
    await Promise.all(opened.map((app) => app.close()));
    client?.disconnect();
    await redis?.close();
  });

  const open = async (env: Record<string, string> = {}) => {
    const deps = { ...describeOnlyDashboardDeps(), adminToken: env.ADMIN_TOKEN ?? ADMIN_TOKEN, viewerToken: env.VIEWER_TOKEN ?? VIEWER_TOKEN, sessions };
    const built = await buildTestApp({ env: { ADMIN_TOKEN, VIEWER_TOKEN, ...env }, dashboard: deps });
    opened.push(built);
    return built.app;
  };
  const signIn = (app: TestApp['app'], token: string, extra: { headers?: Record<string, string>; remoteAddress?: string } = {}) =>
    inject(app, { method: 'POST', url: '/dashboard/login', body: new URLSearchParams({ token }).toString(), headers: { ...FORM, ...extra.headers }, ...(extra.remoteAddress ? { remoteAddress: extra.remoteAddress } : {}) });
  const page = (app: TestApp['app'], cookie: string) => inject(app, { url: '/dashboard', headers: { cookie } });

  test('the form signs in with a random session id; the token in a URL does not', async () => {
    const app = await open();
    const viaUrl = await inject(app, { url: `/dashboard?token=${ADMIN_TOKEN}` });
    assert.equal(viaUrl.status, 401, 'the sign-in form, not a session');
    assert.equal(viaUrl.headers['set-cookie'], undefined);

    const first = await signIn(app, ADMIN_TOKEN);
    const second = await signIn(app, ADMIN_TOKEN);
    assert.equal(first.status, 303);
    const { pair, lines } = cookieOf(first.headers['set-cookie']);
    assert.match(pair, /^ghl_bridge_dashboard=[\w-]{43}$/);
    assert.notEqual(pair, cookieOf(second.headers['set-cookie']).pair, 'each sign-in gets its own id');
    assert.ok(!pair.includes(ADMIN_TOKEN));
    for (const line of lines) {
      assert.match(line, /; HttpOnly; SameSite=Strict; Max-Age=43200$/, 'no Secure over plain http');
    }
    const answer = await page(app, pair);
    assert.equal(answer.status, 200);
    assert.match(answer.text, /id="role">admin</);
    assert.equal((await signIn(app, 'not-the-admin-token-000')).status, 401);
  });

  test('sign-out revokes the session on the server, not only in the browser', async () => {
    const app = await open();
    const { pair } = cookieOf((await signIn(app, VIEWER_TOKEN)).headers['set-cookie']);
    assert.equal((await page(app, pair)).status, 200);
    const out = await inject(app, { method: 'POST', url: '/dashboard/logout', headers: { ...FORM, cookie: pair } });
    assert.equal(out.status, 303);
    assert.match(cookieOf(out.headers['set-cookie']).lines[0] ?? '', /Max-Age=0/);
    assert.equal((await page(app, pair)).status, 401, 'the old cookie, replayed, is refused');
  });

  test('changing a token ends every session made under the old one', async () => {
    const before = await open();
    const admin = cookieOf((await signIn(before, ADMIN_TOKEN)).headers['set-cookie']).pair;
    const viewer = cookieOf((await signIn(before, VIEWER_TOKEN)).headers['set-cookie']).pair;
    const rotated = await open({ VIEWER_TOKEN: 'sessions-viewer-token-0002' });
    assert.equal((await page(rotated, admin)).status, 401, 'the admin session, after the viewer token changed');
    assert.equal((await page(rotated, viewer)).status, 401, 'the viewer session');
    assert.equal((await page(before, admin)).status, 401, 'revoked for good, not only under the new tokens');
  });

  test('a sign-in code works once', async () => {
    const app = await open();
    const code = await createSignInCode({ adminToken: ADMIN_TOKEN, viewerToken: VIEWER_TOKEN, sessions }, 'admin');
    const first = await inject(app, { url: `/dashboard/sign-in?code=${code}` });
    assert.equal(first.status, 303);
    const { pair } = cookieOf(first.headers['set-cookie']);
    assert.equal((await page(app, pair)).status, 200);
    assert.equal((await inject(app, { url: `/dashboard/sign-in?code=${code}` })).status, 401, 'used already');
    assert.equal((await inject(app, { url: '/dashboard/sign-in?code=nope' })).status, 401);
  });

  test('Secure when TLS reached us directly or through a trusted proxy, by the allowlist rule', async () => {
    const app = await open({ TRUSTED_PROXIES: '10.0.0.1' });
    const https = { 'x-forwarded-proto': 'https' };
    const viaProxy = cookieOf((await signIn(app, ADMIN_TOKEN, { headers: https, remoteAddress: '10.0.0.1' })).headers['set-cookie']);
    assert.ok(viaProxy.lines.length > 0 && viaProxy.lines.every((line) => line.endsWith('; Secure')), viaProxy.lines.join('\n'));
    const spoofed = cookieOf((await signIn(app, ADMIN_TOKEN, { headers: https, remoteAddress: '10.0.0.2' })).headers['set-cookie']);
    assert.ok(spoofed.lines.length > 0 && spoofed.lines.every((line) => !line.includes('Secure')), 'an untrusted peer cannot claim https');
  });
});
