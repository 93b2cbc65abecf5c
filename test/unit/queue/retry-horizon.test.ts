import assert from 'node:assert/strict';
import { test } from 'node:test';
import { attemptsForHorizon, MAX_DELAY_MS } from '../../../src/queue/backoff.js';
import { DEFAULT_JOB_OPTIONS, jobOptionsFor, QUEUE_NAMES } from '../../../src/queue/catalog.js';

/** The average total wait of `attempts` tries with full jitter (half of each ceiling). */
function expectedWaitMs(base: number, attempts: number): number {
  let total = 0;
  for (let attempt = 1; attempt < attempts; attempt++) total += Math.min(MAX_DELAY_MS, base * 2 ** (attempt - 1)) / 2;
  return total;
}

test('retryable queues retry for about a day by default', () => {
  const attempts = DEFAULT_JOB_OPTIONS[QUEUE_NAMES.contactSync].attempts ?? 0;
  const waited = expectedWaitMs(2_000, attempts);
  assert.ok(waited >= 86_400_000 && waited < 86_400_000 + MAX_DELAY_MS, `expected wait ${Math.round(waited / 3_600_000)} h over ${attempts} attempts`);
});

test('the horizon is configurable and scales the attempts', () => {
  const hour = jobOptionsFor(QUEUE_NAMES.contactSync, 3_600_000).attempts ?? 0;
  const week = jobOptionsFor(QUEUE_NAMES.contactSync, 7 * 86_400_000).attempts ?? 0;
  assert.ok(hour < (DEFAULT_JOB_OPTIONS[QUEUE_NAMES.contactSync].attempts ?? 0));
  assert.ok(week > (DEFAULT_JOB_OPTIONS[QUEUE_NAMES.contactSync].attempts ?? 0));
  assert.ok(expectedWaitMs(2_000, hour) >= 3_600_000);
  assert.equal(attemptsForHorizon(1_000, 0), 1, 'no horizon, no retry');
});

test('queues that are not retried for the horizon keep their own attempts', () => {
  assert.equal(jobOptionsFor(QUEUE_NAMES.deadLetter, 3_600_000).attempts, 1);
  assert.equal(jobOptionsFor(QUEUE_NAMES.reconcile, 7 * 86_400_000).attempts, 3);
});
