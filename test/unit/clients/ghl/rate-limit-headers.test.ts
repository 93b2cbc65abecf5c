import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readRateLimitHeaders } from '../../../../src/clients/ghl/rate-limit-headers.js';

describe('readRateLimitHeaders', () => {
  test('reads all five X-RateLimit-* headers as numbers', () => {
    assert.deepEqual(
      readRateLimitHeaders({
        'x-ratelimit-max': '100',
        'x-ratelimit-remaining': '0',
        'x-ratelimit-interval-milliseconds': '10000',
        'x-ratelimit-limit-daily': '200000',
        'x-ratelimit-daily-remaining': '5',
      }),
      { max: 100, remaining: 0, intervalMs: 10_000, dailyLimit: 200_000, dailyRemaining: 5 },
    );
  });

  test('returns undefined when a response carries none of them', () => {
    assert.equal(readRateLimitHeaders({ 'content-type': 'application/json' }), undefined);
  });

  test('leaves missing, empty, negative or non-numeric values undefined', () => {
    assert.deepEqual(
      readRateLimitHeaders({ 'x-ratelimit-max': 'lots', 'x-ratelimit-remaining': '', 'x-ratelimit-interval-milliseconds': '-1', 'x-ratelimit-limit-daily': '10' }),
      { max: undefined, remaining: undefined, intervalMs: undefined, dailyLimit: 10, dailyRemaining: undefined },
    );
  });
});
