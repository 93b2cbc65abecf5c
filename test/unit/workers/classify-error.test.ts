import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { z } from 'zod';
import { GhlClientError } from '../../../src/clients/ghl/ghl-client-error.js';
import { TrustpilotClientError } from '../../../src/clients/trustpilot/trustpilot-client-error.js';
import { UpstreamError } from '../../../src/clients/http/upstream-error.js';
import { RateBudgetExceededError } from '../../../src/clients/http/rate-budget-types.js';
import { classifyError, PermanentJobError } from '../../../src/workers/classify-error.js';

function http(status: number, retryAfterMs?: number): UpstreamError {
  return new UpstreamError({ system: 'ghl', code: 'UPSTREAM_HTTP', method: 'GET', path: '/contacts/x', status, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) });
}

describe('classifyError', () => {
  const cases: [string, unknown, string][] = [
    ['500 retries', http(500), 'retry'],
    ['502 retries', http(502), 'retry'],
    ['503 retries', http(503), 'retry'],
    ['408 retries', http(408), 'retry'],
    ['timeout retries', new UpstreamError({ system: 'ghl', code: 'UPSTREAM_TIMEOUT', method: 'GET', path: '/x' }), 'retry'],
    ['network error retries', new UpstreamError({ system: 'trustpilot', code: 'UPSTREAM_NETWORK', method: 'GET', path: '/x' }), 'retry'],
    ['an unknown error retries', new Error('boom'), 'retry'],
    ['400 gives up', http(400), 'give-up'],
    ['401 gives up (the client already refreshed once)', http(401), 'give-up'],
    ['403 gives up', http(403), 'give-up'],
    ['404 gives up', http(404), 'give-up'],
    ['422 gives up', http(422), 'give-up'],
    ['a body we cannot read gives up', new UpstreamError({ system: 'ghl', code: 'UPSTREAM_BAD_RESPONSE', method: 'GET', path: '/x', status: 200 }), 'give-up'],
    ['invalid job data gives up', z.object({ a: z.string() }).safeParse({}).error, 'give-up'],
    ['our own permanent errors give up', new PermanentJobError('X', 'no'), 'give-up'],
    ['429 waits', http(429, 3_000), 'wait'],
    ['a spent call budget waits', new RateBudgetExceededError('trustpilot', 1_500, 'window'), 'wait'],
    ['a request refused before sending gives up', new GhlClientError('GHL_INVALID_ID', 'bad id'), 'give-up'],
    ['a token lock held too long retries', new TrustpilotClientError('TRUSTPILOT_TOKEN_LOCK_TIMEOUT', 'busy'), 'retry'],
  ];
  for (const [name, error, action] of cases) {
    test(name, () => assert.equal(classifyError(error).action, action));
  }

  test('429 waits for the upstream reset, with a floor and a default', () => {
    assert.deepEqual(classifyError(http(429, 3_000)), { action: 'wait', delayMs: 3_000, cause: 'ghl:429', limit: { system: 'ghl', scope: 'upstream-429' } });
    assert.equal((classifyError(http(429, 0)) as { delayMs: number }).delayMs, 250);
    assert.equal((classifyError(http(429)) as { delayMs: number }).delayMs, 10_000);
  });

  test('the cause names system and status, never a path or id', () => {
    assert.equal(classifyError(http(404)).cause, 'ghl:404');
  });
});
