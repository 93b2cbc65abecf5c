import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fullJitterBackoff } from '../../../src/queue/backoff.js';

test('backoff grows exponentially, stays within [base/4, ceiling] and is capped at an hour', () => {
  assert.equal(fullJitterBackoff(1, 1_000, () => 1), 1_000);
  assert.equal(fullJitterBackoff(4, 1_000, () => 1), 8_000);
  assert.equal(fullJitterBackoff(4, 1_000, () => 0), 250);
  assert.equal(fullJitterBackoff(30, 1_000, () => 1), 3_600_000);
});

test('jitter spreads retries of jobs that failed together', () => {
  const delays = new Set(Array.from({ length: 50 }, () => fullJitterBackoff(6, 1_000)));
  assert.ok(delays.size > 40, `50 draws gave ${delays.size} distinct delays`);
  for (const delay of delays) assert.ok(delay >= 250 && delay <= 32_000);
});
