import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createMetrics, EVENT_LOOP_SAMPLE_MS } from '../../../src/observability/metrics.js';

/** A gauge's value as a scrape would serve it (a scrape collects every metric, in registration order). */
async function scrapedValue(metrics: ReturnType<typeof createMetrics>, name: string): Promise<number> {
  const metric = (await metrics.registry.getMetricsAsJSON()).find((entry) => entry.name === name);
  const value = metric?.values[0]?.value;
  assert.equal(typeof value, 'number', `${name} has a value`);
  return value ?? Number.NaN;
}

test('the event-loop lag, sampled every EVENT_LOOP_SAMPLE_MS, still shows a stall longer than that', async () => {
  const metrics = createMetrics();
  // The sampler records the time between two of its timer's runs: let it run once first.
  await new Promise((resolve) => setTimeout(resolve, 2 * EVENT_LOOP_SAMPLE_MS));
  // Block the loop synchronously for four sampling periods: the sampler's timer, due inside the
  // block, fires only after it, late by at least three periods (a busy machine makes it later still).
  const stall = 4 * EVENT_LOOP_SAMPLE_MS;
  const until = performance.now() + stall;
  while (performance.now() < until);
  // The sampler's timer was due before this one, so it runs first in the next turn of the loop.
  await new Promise((resolve) => setTimeout(resolve, 1));
  const maxSeconds = await scrapedValue(metrics, 'ghl_bridge_nodejs_eventloop_lag_max_seconds');
  assert.ok(maxSeconds * 1000 >= 2 * EVENT_LOOP_SAMPLE_MS, `max lag ${maxSeconds} s after a ${stall} ms stall`);
});

test('the event-loop lag of an idle process reads what the loop added, not the sampling period', async () => {
  const metrics = createMetrics();
  // A few sampling periods with nothing to do.
  await new Promise((resolve) => setTimeout(resolve, 4 * EVENT_LOOP_SAMPLE_MS));
  const minSeconds = await scrapedValue(metrics, 'ghl_bridge_nodejs_eventloop_lag_min_seconds');
  // Node's sampler records period + delay; uncorrected, the least of these samples would be the whole period.
  assert.ok(minSeconds * 1000 < EVENT_LOOP_SAMPLE_MS, `min lag ${minSeconds} s with a ${EVENT_LOOP_SAMPLE_MS} ms period`);
  const names = (await metrics.registry.getMetricsAsJSON()).map((metric) => metric.name).filter((name) => name.includes('eventloop_lag'));
  assert.deepEqual(names.sort(), [
    'ghl_bridge_nodejs_eventloop_lag_max_seconds', 'ghl_bridge_nodejs_eventloop_lag_mean_seconds', 'ghl_bridge_nodejs_eventloop_lag_min_seconds',
    'ghl_bridge_nodejs_eventloop_lag_p50_seconds', 'ghl_bridge_nodejs_eventloop_lag_p90_seconds', 'ghl_bridge_nodejs_eventloop_lag_p99_seconds',
    'ghl_bridge_nodejs_eventloop_lag_seconds', 'ghl_bridge_nodejs_eventloop_lag_stddev_seconds',
  ]);
});
