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
  // Block the loop synchronously for three sampling periods: the sampler's timer, due inside the
  // block, fires only after it, late by at least two periods (a busy machine makes it later still).
  const stall = 3 * EVENT_LOOP_SAMPLE_MS;
  const until = performance.now() + stall;
  while (performance.now() < until);
  // The sampler's timer was due before this one, so it runs first in the next turn of the loop.
  await new Promise((resolve) => setTimeout(resolve, 1));
  const maxSeconds = await scrapedValue(metrics, 'ghl_bridge_nodejs_eventloop_lag_max_seconds');
  assert.ok(maxSeconds * 1000 >= 2 * EVENT_LOOP_SAMPLE_MS, `max lag ${maxSeconds} s after a ${stall} ms stall`);
});
