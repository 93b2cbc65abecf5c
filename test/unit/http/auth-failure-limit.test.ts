/**
 * WEBHOOK_AUTH_FAILURE_LIMIT: only failed webhook authentications count, per client IP; past the
 * limit that IP's webhook requests get 429 with Retry-After until the window ends, others are untouched.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { loadConfig } from '../../../src/config/env.js';
import { createFailureCounter } from '../../../src/http/plugins/auth-failure-limit.js';
import { buildTestApp, inject } from '../../helpers/app.js';
import { waitFor } from '../../helpers/wait.js';

const SECRET = 'trustpilot-secret-for-limit-01';
const JSON_HEADERS = { 'content-type': 'application/json' };
const REVIEW = JSON.stringify({ events: [{ eventName: 'service-review-updated', version: '1', eventData: { id: 'reviewUnit0001', stars: 5 } }] });

describe('the failure counter', () => {
  test('blocks after N failures until the window ends; other keys are untouched', () => {
    const counter = createFailureCounter({ max: 3, windowMs: 60_000 });
    assert.equal(counter.fail('a', 0), false);
    assert.equal(counter.fail('a', 1), false);
    assert.equal(counter.blockedFor('a', 2), 0);
    assert.equal(counter.fail('a', 2), true, 'the third reaches the limit');
    assert.equal(counter.blockedFor('a', 3), 59_997);
    assert.equal(counter.blockedFor('b', 3), 0);
    assert.equal(counter.blockedFor('a', 60_000), 0, 'the window passed');
    assert.equal(counter.fail('a', 60_001), false, 'a new window starts from one');
  });

  test('forgets the least recently failing key past its capacity', () => {
    const counter = createFailureCounter({ max: 1, windowMs: 60_000 }, 2);
    counter.fail('a', 0);
    counter.fail('b', 0);
    counter.fail('c', 0);
    assert.equal(counter.blockedFor('a', 1), 0);
    assert.ok(counter.blockedFor('c', 1) > 0);
  });

  test('the default is 20 failures a minute', () => {
    assert.deepEqual(loadConfig({}).WEBHOOK_AUTH_FAILURE_LIMIT, { max: 20, windowMs: 60_000 });
  });
});

describe('webhook routes with the limiter', () => {
  const post = (app: Awaited<ReturnType<typeof buildTestApp>>['app'], remoteAddress: string, token: string | undefined) =>
    inject(app, { method: 'POST', url: '/webhooks/trustpilot', body: REVIEW, headers: { ...JSON_HEADERS, ...(token ? { 'x-webhook-token': token } : {}) }, remoteAddress });

  test('failures from one IP block that IP only; successes never count', async () => {
    const t = await buildTestApp({ env: { TRUSTPILOT_WEBHOOK_SECRET: SECRET, WEBHOOK_AUTH_FAILURE_LIMIT: '3/600' } });
    try {
      for (let i = 0; i < 10; i++) assert.equal((await post(t.app, '10.0.0.9', SECRET)).status, 200, 'successes are never limited');
      for (let i = 0; i < 3; i++) assert.equal((await post(t.app, '10.0.0.1', 'wrong-token-wrong-token')).status, 401);
      const blocked = await post(t.app, '10.0.0.1', SECRET);
      assert.equal(blocked.status, 429, 'even the right token, once blocked');
      assert.equal(blocked.json.code, 'TOO_MANY_AUTH_FAILURES');
      const retryAfter = Number(blocked.headers['retry-after']);
      assert.ok(retryAfter > 0 && retryAfter <= 600, String(retryAfter));
      assert.equal((await post(t.app, '10.0.0.2', SECRET)).status, 200, 'another IP is untouched');
      assert.equal((await inject(t.app, { url: '/health', remoteAddress: '10.0.0.1' })).status, 200, 'only webhooks are refused');
      assert.equal((await post(t.app, '10.0.0.9', SECRET)).status, 200);
    } finally {
      await t.close();
    }
  });

  test('the block ends with the window', async () => {
    const t = await buildTestApp({ env: { TRUSTPILOT_WEBHOOK_SECRET: SECRET, WEBHOOK_AUTH_FAILURE_LIMIT: '2/1' } });
    try {
      await post(t.app, '10.0.0.3', undefined);
      await post(t.app, '10.0.0.3', undefined);
      // A 429 is no failure: polling does not extend the block.
      await waitFor(async () => ((await post(t.app, '10.0.0.3', SECRET)).status === 200 ? true : undefined), 15_000, 'the window to pass');
    } finally {
      await t.close();
    }
  });
});

test('no route carries an onResponse hook: failures are counted as the 401 is sent, and Fastify tracks no response ends', async () => {
  const { app } = await buildTestApp();
  try {
    await app.ready();
    const routes = app.printRoutes({ includeHooks: true, commonPrefix: false });
    assert.match(routes, /onSend/);
    assert.doesNotMatch(routes, /onResponse/);
  } finally {
    await app.close();
  }
});
