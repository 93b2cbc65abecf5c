/**
 * /health, /ready, /openapi.json, unknown paths and the OAuth callback's refusal page, through
 * `buildApp` + `inject`: no Redis, no upstream.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { UpstreamError } from '../../../src/clients/http/upstream-error.js';
import { signState, type OAuthRouteDeps } from '../../../src/http/routes/oauth.js';
import { buildTestApp, inject, type TestApp } from '../../helpers/app.js';

describe('health, readiness and the OpenAPI document', () => {
  let t: TestApp;
  let redisUp = true;
  before(async () => {
    t = await buildTestApp({ readinessChecks: [{ name: 'redis', check: async () => ({ ok: redisUp }) }] });
  });
  after(() => t.close());

  test('/health answers 200 ok', async () => {
    const answer = await inject(t.app, { url: '/health' });
    assert.equal(answer.status, 200);
    assert.deepEqual(answer.json, { status: 'ok' });
  });

  test('/ready is 200 when every check passes and 503 naming the failing one otherwise', async () => {
    redisUp = true;
    const ready = await inject(t.app, { url: '/ready' });
    assert.equal(ready.status, 200, ready.text);
    assert.equal(ready.json.status, 'ready');
    redisUp = false;
    try {
      const notReady = await inject(t.app, { url: '/ready' });
      assert.equal(notReady.status, 503, notReady.text);
      assert.equal(notReady.json.status, 'not-ready');
      assert.match(JSON.stringify(notReady.json.checks), /redis/);
    } finally {
      redisUp = true;
    }
  });

  test('an informational check that fails is shown and leaves /ready at 200', async () => {
    const informed = await buildTestApp({
      readinessChecks: [
        { name: 'redis', check: async () => ({ ok: true }) },
        { name: 'inbox', informational: true, check: async () => Promise.reject(new Error('inbox unreadable')) },
      ],
    });
    try {
      const ready = await inject(informed.app, { url: '/ready' });
      assert.equal(ready.status, 200, ready.text);
      assert.deepEqual((ready.json.checks as Record<string, unknown>).inbox, { ok: true, detail: 'inbox unreadable' });
    } finally {
      await informed.close();
    }
  });

  test('/openapi.json is the OpenAPI 3.1 document with the webhook and operations paths', async () => {
    const answer = await inject(t.app, { url: '/openapi.json' });
    assert.equal(answer.status, 200);
    assert.equal(answer.json.openapi, '3.1.0');
    const paths = answer.json.paths;
    assert.ok(typeof paths === 'object' && paths !== null);
    for (const path of ['/webhooks/ghl', '/webhooks/ghl/workflow', '/health', '/ready', '/metrics']) assert.ok(path in paths, `${path} is documented`);
  });

  test('an unknown path is 404 NOT_FOUND naming the path without its query', async () => {
    const answer = await inject(t.app, { url: '/nowhere?secret=x' });
    assert.equal(answer.status, 404);
    assert.equal(answer.json.code, 'NOT_FOUND');
    assert.ok(!answer.text.includes('secret=x'));
  });
});

test('GHL rate-limiting the code exchange is 502 (try again), not a refused code', async () => {
  const t = await buildTestApp({
    oauth: {
      clientId: 'client-id-for-tests',
      clientSecret: 'oauth-client-secret-for-tests-02',
      redirectUri: 'https://bridge.example.com/oauth/callback',
      exchangeCode: async () => {
        throw new UpstreamError({ system: 'ghl', code: 'UPSTREAM_HTTP', method: 'POST', path: '/oauth/token', status: 429 });
      },
      afterInstall: async () => undefined,
    },
  });
  try {
    const state = signState('oauth-client-secret-for-tests-02', Date.now());
    const answer = await inject(t.app, { url: `/oauth/callback?code=abc&state=${encodeURIComponent(state)}`, headers: { accept: 'application/json' } });
    assert.equal(answer.status, 502);
    assert.equal(answer.json.code, 'OAUTH_EXCHANGE_FAILED');
  } finally {
    await t.close();
  }
});

describe('GET /oauth/callback refusals', () => {
  const CLIENT_SECRET = 'oauth-client-secret-for-tests-01';
  let t: TestApp;
  let exchanges = 0;
  before(async () => {
    const oauth: OAuthRouteDeps = {
      clientId: 'client-id-for-tests',
      clientSecret: CLIENT_SECRET,
      redirectUri: 'https://bridge.example.com/oauth/callback',
      exchangeCode: async () => {
        exchanges += 1;
        return { locations: ['locInstalled000001'] };
      },
      afterInstall: async () => undefined,
    };
    t = await buildTestApp({ oauth });
  });
  after(() => t.close());

  test('without a code: a 400 HTML page, its own strict CSP, nothing exchanged', async () => {
    const before = exchanges;
    const answer = await inject(t.app, { url: '/oauth/callback' });
    assert.equal(answer.status, 400);
    assert.match(String(answer.headers['content-type']), /^text\/html/);
    assert.equal(answer.headers['content-security-policy'], "default-src 'none'");
    assert.match(answer.text, /<h1>ghl-bridge was not installed<\/h1>/);
    assert.match(answer.text, /missing code/);
    assert.equal(exchanges, before);
  });

  test('a forged state: 400 OAUTH_STATE_INVALID as JSON when asked for JSON, nothing exchanged', async () => {
    const before = exchanges;
    const answer = await inject(t.app, { url: '/oauth/callback?code=abc&state=1.x.y', headers: { accept: 'application/json' } });
    assert.equal(answer.status, 400);
    assert.equal(answer.json.code, 'OAUTH_STATE_INVALID');
    assert.equal(exchanges, before);
  });

  test('no state and no allowed companies: 400, nothing exchanged', async () => {
    const before = exchanges;
    const answer = await inject(t.app, { url: '/oauth/callback?code=abc', headers: { accept: 'application/json' } });
    assert.equal(answer.status, 400);
    assert.equal(answer.json.code, 'OAUTH_STATE_INVALID');
    assert.equal(exchanges, before);
  });

  test('GHL sends back an OAuth error (the installer declined): a 400 page naming it, nothing exchanged', async () => {
    const before = exchanges;
    const page = await inject(t.app, { url: '/oauth/callback?error=access_denied&error_description=User%20denied' });
    assert.equal(page.status, 400);
    assert.match(String(page.headers['content-type']), /^text\/html/);
    assert.match(page.text, /not authorised \(access_denied\)/);
    const json = await inject(t.app, { url: '/oauth/callback?error=%3Cscript%3E&code=abc', headers: { accept: 'application/json' } });
    assert.equal(json.status, 400);
    assert.equal(json.json.code, 'OAUTH_DECLINED');
    assert.doesNotMatch(json.text, /<script>/);
    assert.equal(exchanges, before);
  });

  test('a state of ours: the code is exchanged and the page lists the locations', async () => {
    const state = signState(CLIENT_SECRET, Date.now());
    const answer = await inject(t.app, { url: `/oauth/callback?code=abc&state=${encodeURIComponent(state)}` });
    assert.equal(answer.status, 200, answer.text);
    assert.match(answer.text, /locInstalled000001/);
  });
});
