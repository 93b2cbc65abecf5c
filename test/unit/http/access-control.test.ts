/**
 * Access control on the app as production builds it (`buildApp` + `inject`, a recording producer
 * instead of Redis): the webhook IP allowlist (with and without a trusted proxy), the public rate
 * limit, security headers, and body limits. Every request comes from 127.0.0.1; other client
 * addresses are presented through a trusted proxy.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DOCS_CSP, HSTS, STRICT_CSP } from '../../../src/http/plugins/security-headers.js';
import { buildTestApp, inject, type InjectedAnswer, type TestApp } from '../../helpers/app.js';
import { signedEvent } from '../../helpers/ghl-signing.js';

const TRUSTPILOT_SECRET = 'trustpilot-secret-for-tests-01';
const ADMIN_TOKEN = 'admin-token-for-tests-0000000001';
const ALLOWLIST = '10.0.0.0/8, 2001:db8::/32, 192.0.2.7';
const PUBLIC_LIMIT = 5;
const TWO_MIB = Buffer.alloc(2 * 1024 * 1024, 0x20);

type Answer = InjectedAnswer;

function call(t: TestApp, url: string, options: { method?: 'GET' | 'POST'; body?: string | Buffer; headers?: Record<string, string> } = {}): Promise<Answer> {
  return inject(t.app, { url, ...options });
}

function assertErrorReply(answer: Answer, status: number, code: string): void {
  assert.equal(answer.status, status, answer.text);
  assert.equal(answer.json.statusCode, status);
  assert.equal(answer.json.code, code);
  assert.equal(typeof answer.json.error, 'string');
  assert.equal(typeof answer.json.message, 'string');
}

function assertSecurityHeaders(answer: Answer, csp: string): void {
  assert.equal(answer.headers['x-content-type-options'], 'nosniff');
  assert.equal(answer.headers['x-frame-options'], 'DENY');
  assert.equal(answer.headers['referrer-policy'], 'no-referrer');
  assert.equal(answer.headers['cross-origin-resource-policy'], 'same-origin');
  assert.equal(answer.headers['content-security-policy'], csp);
}

/** The sources a CSP allows for one fetch directive, falling back to default-src as browsers do. */
function allowed(csp: string, directive: string): string[] {
  const directives = new Map(csp.split(';').map((part) => part.trim().split(/\s+/)).map(([name = '', ...sources]) => [name, sources]));
  return directives.get(directive) ?? directives.get('default-src') ?? [];
}

describe('access control', () => {
  /** Allowlist on, no trusted proxy: the socket address (127.0.0.1) is the client, always refused. */
  let direct: TestApp;
  /** Allowlist on, 127.0.0.1 is a trusted proxy: X-Forwarded-For names the client. Small public limit. */
  let proxied: TestApp;

  before(async () => {
    const env = {
      TRUSTPILOT_WEBHOOK_SECRET: TRUSTPILOT_SECRET,
      ADMIN_TOKEN,
      WEBHOOK_IP_ALLOWLIST: ALLOWLIST,
    };
    [direct, proxied] = await Promise.all([
      buildTestApp({ env }),
      buildTestApp({ env: { ...env, TRUSTED_PROXIES: '127.0.0.1', PUBLIC_RATE_LIMIT: `${PUBLIC_LIMIT}/60` } }),
    ]);
  });

  after(async () => {
    await direct.close();
    await proxied.close();
  });

  async function postEvent(t: TestApp, forwardedFor?: string): Promise<Answer> {
    const event = signedEvent('ContactCreate');
    const headers = forwardedFor === undefined ? event.headers : { ...event.headers, 'x-forwarded-for': forwardedFor };
    return call(t, '/webhooks/ghl', { method: 'POST', body: event.body, headers });
  }

  async function rejectedByAllowlist(t: TestApp): Promise<number> {
    const { values } = await t.metrics.webhooks.get();
    return values.find((value) => value.labels.source === 'marketplace' && value.labels.type === 'unknown' && value.labels.outcome === 'rejected')?.value ?? 0;
  }

  /** What the route asked the queue to store. */
  function queuedJobs(t: TestApp): number {
    return t.enqueued.length;
  }

  describe('webhook IP allowlist', () => {
    test('a caller outside the allowlist gets 403 IP_NOT_ALLOWED, counted as rejected, nothing queued', async () => {
      const rejectedBefore = await rejectedByAllowlist(direct);
      const answer = await postEvent(direct);
      assertErrorReply(answer, 403, 'IP_NOT_ALLOWED');
      assertSecurityHeaders(answer, STRICT_CSP);
      assert.equal((await rejectedByAllowlist(direct)) - rejectedBefore, 1);
      assert.equal(queuedJobs(direct), 0);
    });

    test('X-Forwarded-For is ignored when the peer is not a trusted proxy', async () => {
      assertErrorReply(await postEvent(direct, '10.1.2.3'), 403, 'IP_NOT_ALLOWED');
      assertErrorReply(await postEvent(direct, '2001:db8::5'), 403, 'IP_NOT_ALLOWED');
      assert.equal(queuedJobs(direct), 0);
    });

    test('every webhook route is guarded, before its own token check; other routes are not', async () => {
      const trustpilot = await call(direct, `/webhooks/trustpilot`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
      assertErrorReply(trustpilot, 403, 'IP_NOT_ALLOWED');
      assertErrorReply(await call(direct, `/webhooks/ghl/workflow?token=x`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } }), 403, 'IP_NOT_ALLOWED');
      assertErrorReply(await call(direct, `/webhooks/opinionstage`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } }), 403, 'IP_NOT_ALLOWED');
      assertErrorReply(await call(direct, `/webhooks/nowhere`), 403, 'IP_NOT_ALLOWED');
      assert.equal((await call(direct, `/health`)).status, 200);
    });

    test('a 2 MiB body from a refused caller is refused with 403 before the body is read (not 413)', async () => {
      const answer = await call(direct, `/webhooks/ghl`, { method: 'POST', body: TWO_MIB, headers: { 'content-type': 'application/json' } });
      assertErrorReply(answer, 403, 'IP_NOT_ALLOWED');
    });

    test('behind a trusted proxy, allowed IPv4, CIDR, IPv6 and IPv4-mapped clients are accepted', async () => {
      for (const client of ['10.1.2.3', '192.0.2.7', '2001:db8::5', '2001:DB8:0:0:1::9', '::ffff:10.9.9.9', '[2001:db8::7]:4431', '203.0.113.5, 10.0.0.1']) {
        const answer = await postEvent(proxied, client);
        assert.equal(answer.status, 200, `${client}: ${answer.text}`);
        assert.equal(answer.json.status, 'accepted', client);
      }
    });

    test('behind a trusted proxy, clients outside the allowlist are refused, forged left hops included', async () => {
      const rejectedBefore = await rejectedByAllowlist(proxied);
      const refused = ['192.0.2.8', '11.0.0.1', '2001:db9::1', '::ffff:11.0.0.1', '10.0.0.1, 203.0.113.5', 'not-an-address'];
      for (const client of refused) assertErrorReply(await postEvent(proxied, client), 403, 'IP_NOT_ALLOWED');
      // No header: the proxy itself (127.0.0.1) is the client, and it is not on the allowlist.
      assertErrorReply(await postEvent(proxied), 403, 'IP_NOT_ALLOWED');
      assert.equal((await rejectedByAllowlist(proxied)) - rejectedBefore, refused.length + 1);
    });
  });

  describe('public rate limit', () => {
    test(`/health answers 429 with Retry-After after ${PUBLIC_LIMIT} requests, per client; webhooks from that client keep answering`, async () => {
      const client = { 'x-forwarded-for': '10.20.30.40' };
      for (let i = 0; i < PUBLIC_LIMIT; i++) {
        const answer = await call(proxied, `/health`, { headers: client });
        assert.equal(answer.status, 200, `request ${i + 1}`);
        assert.equal(answer.headers['x-ratelimit-remaining'], String(PUBLIC_LIMIT - i - 1));
      }
      const limited = await call(proxied, `/health`, { headers: client });
      assertErrorReply(limited, 429, 'RATE_LIMITED');
      const retryAfter = Number(limited.headers['retry-after']);
      assert.ok(retryAfter > 0 && retryAfter <= 60, `Retry-After is ${String(limited.headers['retry-after'])}`);
      assertSecurityHeaders(limited, STRICT_CSP);
      // Other routes share the client's budget; another client has its own.
      assertErrorReply(await call(proxied, `/ready`, { headers: client }), 429, 'RATE_LIMITED');
      assert.equal((await call(proxied, `/health`, { headers: { 'x-forwarded-for': '10.20.30.41' } })).status, 200);

      for (let i = 0; i < PUBLIC_LIMIT * 3; i++) {
        const answer = await postEvent(proxied, '10.20.30.40');
        assert.equal(answer.status, 200, `webhook ${i + 1}: ${answer.text}`);
        assert.equal(answer.headers['x-ratelimit-limit'], undefined, 'the limiter does not even look at webhooks');
      }
    });

    test('/admin is limited before the token is checked, and unknown paths count too', async () => {
      const client = { 'x-forwarded-for': '10.20.30.50' };
      for (let i = 0; i < PUBLIC_LIMIT - 1; i++) assertErrorReply(await call(proxied, `/admin/jobs`, { headers: { ...client, authorization: 'Bearer wrong-token-guess-000000' } }), 401, 'UNAUTHORIZED');
      assertErrorReply(await call(proxied, `/nowhere`, { headers: client }), 404, 'NOT_FOUND');
      const limited = await call(proxied, `/admin/jobs`, { headers: { ...client, authorization: `Bearer ${ADMIN_TOKEN}` } });
      assertErrorReply(limited, 429, 'RATE_LIMITED');
      assert.ok(Number(limited.headers['retry-after']) > 0);
    });
  });

  describe('security headers', () => {
    test('JSON answers, 404s and webhook answers carry them, with the strict CSP and no HSTS over plain http', async () => {
      const health = await call(direct, `/health`);
      assert.equal(health.status, 200);
      assertSecurityHeaders(health, STRICT_CSP);
      assert.deepEqual(allowed(STRICT_CSP, 'script-src'), ["'none'"]);
      assert.deepEqual(allowed(STRICT_CSP, 'frame-ancestors'), ["'none'"]);
      assert.equal(health.headers['strict-transport-security'], undefined);
      assertSecurityHeaders(await call(direct, `/nowhere`), STRICT_CSP);
      assertSecurityHeaders(await call(direct, `/openapi.json`), STRICT_CSP);
      const accepted = await postEvent(proxied, '10.3.3.3');
      assert.equal(accepted.status, 200);
      assertSecurityHeaders(accepted, STRICT_CSP);
    });

    test('HSTS only when a trusted proxy says the client used https', async () => {
      const viaProxy = await call(proxied, `/health`, { headers: { 'x-forwarded-for': '10.4.4.4', 'x-forwarded-proto': 'https' } });
      assert.equal(viaProxy.headers['strict-transport-security'], HSTS);
      const plainViaProxy = await call(proxied, `/health`, { headers: { 'x-forwarded-for': '10.4.4.4', 'x-forwarded-proto': 'http' } });
      assert.equal(plainViaProxy.headers['strict-transport-security'], undefined);
      const forged = await call(direct, `/health`, { headers: { 'x-forwarded-proto': 'https' } });
      assert.equal(forged.headers['strict-transport-security'], undefined, 'an untrusted peer cannot claim https');
    });

    test('/docs and every asset it loads answer, same-origin, under a CSP that allows exactly them', async () => {
      const client = { 'x-forwarded-for': '10.5.5.5' };
      const page = await call(direct, `/docs`, { headers: client });
      assert.equal(page.status, 200);
      assert.match(String(page.headers['content-type']), /^text\/html/);
      assertSecurityHeaders(page, DOCS_CSP);
      // What Swagger UI needs: its own scripts, styles and spec, data: icons; never inline or eval'd script.
      assert.ok(allowed(DOCS_CSP, 'script-src').includes("'self'"));
      assert.ok(!allowed(DOCS_CSP, 'script-src').some((source) => /unsafe|\*|https?:/.test(source)), 'script-src stays strict');
      assert.ok(allowed(DOCS_CSP, 'style-src').includes("'self'"));
      assert.ok(allowed(DOCS_CSP, 'img-src').includes('data:'));
      assert.ok(allowed(DOCS_CSP, 'connect-src').includes("'self'"));
      assert.deepEqual(allowed(DOCS_CSP, 'frame-ancestors'), ["'none'"]);
      // The CSP has no 'unsafe-inline': the page must have no inline script or style.
      assert.doesNotMatch(page.text, /<script(?![^>]*\bsrc=)[^>]*>/i);
      assert.doesNotMatch(page.text, /<style|\sstyle=|\son\w+=/i);

      const assets = [...page.text.matchAll(/(?:src|href)="([^"]+)"/g)].map((match) => match[1] ?? '');
      assert.ok(assets.length >= 5, `assets found: ${assets.join(', ')}`);
      for (const asset of assets) {
        assert.match(asset, /^\/docs\//, 'same origin, under /docs');
        const answer = await call(direct, `${asset}`, { headers: client });
        assert.equal(answer.status, 200, asset);
        assertSecurityHeaders(answer, DOCS_CSP);
        // Stylesheets may only pull data: URIs or same-origin files (img-src/font-src 'self' data:).
        if (asset.endsWith('.css')) {
          const external = [...answer.text.matchAll(/url\(\s*["']?([^"')]+)/g)].map((match) => match[1] ?? '').filter((url) => /^(?:https?:)?\/\//.test(url));
          assert.deepEqual(external, [], asset);
        }
        if (asset.endsWith('swagger-initializer.js')) {
          assert.match(answer.text, /validatorUrl: null/, 'the online validator (a third-party image) stays off');
          assert.match(answer.text, /resolveUrl\('\.\/json'\)/, 'the spec is fetched from /docs itself (connect-src self)');
        }
      }
      const spec = await call(direct, `/docs/json`, { headers: client });
      assert.equal(spec.status, 200);
      assert.equal(spec.json.openapi, '3.1.0');
    });
  });

  describe('body limits', () => {
    test('2 MiB to /admin and to /webhooks/trustpilot (allowed caller, right token) answers 413', async () => {
      const admin = await call(proxied, `/admin/dead-letter/replay`, {
        method: 'POST',
        body: TWO_MIB,
        headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}`, 'x-forwarded-for': '10.6.6.6' },
      });
      assertErrorReply(admin, 413, 'BODY_TOO_LARGE');
      const trustpilot = await call(proxied, `/webhooks/trustpilot`, {
        method: 'POST',
        body: TWO_MIB,
        headers: { 'content-type': 'application/json', 'x-webhook-token': TRUSTPILOT_SECRET, 'x-forwarded-for': '10.6.6.6' },
      });
      assertErrorReply(trustpilot, 413, 'BODY_TOO_LARGE');
      assertSecurityHeaders(trustpilot, STRICT_CSP);
    });
  });
});
