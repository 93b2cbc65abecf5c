/**
 * The webhook counter's tally: counts are plain numbers until the counter is read, and every way of
 * reading it (the /metrics text, the JSON the host-wide aggregate uses, `get()`) sees them, once.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createMetrics } from '../../../src/observability/metrics.js';

async function webhookTotals(metrics: ReturnType<typeof createMetrics>): Promise<Record<string, number>> {
  const totals: Record<string, number> = {};
  for (const { labels, value } of (await metrics.webhooks.get()).values) totals[`${labels.source}/${labels.type}/${labels.outcome}`] = value;
  return totals;
}

test('each label set counts on its own, and a read shows every count so far', async () => {
  const metrics = createMetrics();
  metrics.countWebhook('marketplace', 'ContactUpdate', 'accepted');
  metrics.countWebhook('marketplace', 'ContactUpdate', 'accepted');
  metrics.countWebhook('marketplace', 'ContactUpdate', 'duplicate');
  metrics.countWebhook('trustpilot', 'unknown', 'rejected');
  assert.deepEqual(await webhookTotals(metrics), {
    'marketplace/ContactUpdate/accepted': 2,
    'marketplace/ContactUpdate/duplicate': 1,
    'trustpilot/unknown/rejected': 1,
  });
});

test('reading twice counts nothing twice; counts after a read add to the totals', async () => {
  const metrics = createMetrics();
  metrics.countWebhook('workflow', 'ContactCreate', 'accepted');
  await webhookTotals(metrics);
  assert.deepEqual(await webhookTotals(metrics), { 'workflow/ContactCreate/accepted': 1 });
  metrics.countWebhook('workflow', 'ContactCreate', 'accepted');
  metrics.countWebhook('workflow', 'ContactCreate', 'unavailable');
  assert.deepEqual(await webhookTotals(metrics), { 'workflow/ContactCreate/accepted': 2, 'workflow/ContactCreate/unavailable': 1 });
});

test('the /metrics text and the JSON the host-wide aggregate reads both include the tally', async () => {
  const metrics = createMetrics();
  metrics.countWebhook('opinionstage', 'response', 'accepted');
  assert.match(await metrics.registry.metrics(), /^ghl_bridge_webhooks_total\{source="opinionstage",type="response",outcome="accepted"\} 1$/m);
  metrics.countWebhook('opinionstage', 'response', 'accepted');
  const json = await metrics.registry.getMetricsAsJSON();
  const webhooks = json.find((metric) => metric.name === 'ghl_bridge_webhooks_total');
  assert.deepEqual(webhooks?.values.map(({ value }) => value), [2]);
});
