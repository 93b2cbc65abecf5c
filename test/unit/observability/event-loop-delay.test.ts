import assert from 'node:assert/strict';
import { test } from 'node:test';
import { delaySeconds, type DelaySampler } from '../../../src/observability/event-loop-delay.js';

/** A sampler whose samples were all `ms` milliseconds apart (its period included). */
function sampler(ms: number, count = 10): DelaySampler {
  const ns = ms * 1e6;
  return { count, min: ns, max: ns, mean: ns, stddev: 0, percentile: () => ns };
}

test('a figure is what the loop added to the sampling period', () => {
  assert.equal(delaySeconds(sampler(100), (s) => s.min, 100, true), 0);
  assert.equal(delaySeconds(sampler(350), (s) => s.max, 100, true), 0.25);
  assert.equal(delaySeconds(sampler(350), (s) => s.percentile(99), 100, true), 0.25);
});

test('the spread is not shifted, and nothing reads below 0', () => {
  assert.equal(delaySeconds({ ...sampler(100), stddev: 2e6 }, (s) => s.stddev, 100, false), 0.002);
  // A timer can run a little early against the period: never a negative delay.
  assert.equal(delaySeconds(sampler(99.5), (s) => s.min, 100, true), 0);
});

test('no sample yet reads 0, not Node\'s placeholder values', () => {
  const empty: DelaySampler = { count: 0, min: 9223372036854776000, max: 0, mean: Number.NaN, stddev: Number.NaN, percentile: () => 511 };
  for (const read of [(s: DelaySampler) => s.min, (s: DelaySampler) => s.mean, (s: DelaySampler) => s.percentile(50)]) assert.equal(delaySeconds(empty, read, 100, true), 0);
});
