/** The contact page, search page, charts and troubleshooting words: pure rendering. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { flowCharts, renderChart } from '../../../src/http/views/charts.js';
import { describeSource, renderContactPage, renderSearch, type ContactPageView } from '../../../src/http/views/contact-page.js';
import { explainFailure } from '../../../src/observability/troubleshooting.js';
import type { SeriesPoint } from '../../../src/state/flow-series.js';

const evil = '<script>alert("x")</script>';

function view(overrides: Partial<ContactPageView> = {}): ContactPageView {
  return {
    role: 'viewer',
    generatedAt: 0,
    locationId: 'loc1',
    contactId: 'c1',
    contact: { name: evil, email: 'a@b.c', tags: [evil], fields: [{ key: 'contact.trustpilot_review_stars', value: 2 }] },
    ghlUrl: 'https://app.example/x',
    notes: [{ sourceKey: 'tp-review:r1', noteId: 'n1', body: evil }],
    tasks: [{ sourceKey: 'tp-review:r1:low', taskId: 't1', status: 'completed', dueDate: '2026-01-02' }],
    syncs: [{ locationId: 'loc1', contactId: 'c1', at: 0, durationMs: 5, outcome: 'failed', reason: 'GHL 401 invalid token', upstreamCalls: 0 }],
    deadLetters: [{ id: 'dl-1', queue: 'contact-sync', jobId: '1', name: 'sync', failedReason: evil, attemptsMade: 1, failedAt: 0 }],
    ...overrides,
  };
}

describe('contact page', () => {
  test('escapes outside text, shows task states and advice, and no action forms for a viewer', () => {
    const html = renderContactPage(view());
    assert.ok(!html.includes('<script'));
    assert.match(html, /completed by a user/);
    assert.match(html, /Reconnect location loc1: open \/oauth\/install/);
    assert.doesNotMatch(html, /<form method="post" action="\/dashboard\/contacts/);
  });

  test('the admin gets sync, dry-run and replay forms', () => {
    const html = renderContactPage(view({ role: 'admin' }));
    assert.match(html, /Sync now/);
    assert.match(html, /Plan a dry run/);
    assert.match(html, /action="\/dashboard\/contacts\/c1\/replay"/);
  });

  test('a contact GHL could not read still shows what the bridge knows', () => {
    const html = renderContactPage(view({ contact: { error: 'GHL 404' } }));
    assert.match(html, /GHL could not be read: GHL 404/);
    assert.match(html, /id="timeline"/);
  });

  test('search results link to contact pages', () => {
    const html = renderSearch({ role: 'viewer', generatedAt: 0, query: evil, known: [{ locationId: 'loc1', contactId: 'c1', email: 'a@b.c', lastSyncAt: 0 }], ghl: { note: 'GHL is searched for the admin only.' }, otherLocations: [] });
    assert.ok(!html.includes('<script'));
    assert.match(html, /href="\/dashboard\/contacts\/c1\?locationId=loc1"/);
  });

  test('a sync that went on without a missing field says so in the timeline, with the setup-fields command', () => {
    const warning = 'custom field contact.trustpilot_review_url does not exist in location loc1; run setup-fields';
    const html = renderContactPage(view({ syncs: [{ locationId: 'loc1', contactId: 'c1', at: 0, durationMs: 5, outcome: 'synced', upstreamCalls: 3, warnings: [warning] }] }));
    assert.match(html, /The custom field contact\.trustpilot_review_url is missing in location loc1\. Run `npx ghl-bridge setup-fields --location loc1`\. Then sync the contact again\./);
  });

  test('GHL results name the one location searched, and offer the others', () => {
    const html = renderSearch({ role: 'admin', generatedAt: 0, query: 'a&b', known: [], ghl: { locationId: 'loc1', found: [{ contactId: 'c2', name: 'Ann' }] }, otherLocations: ['loc2'] });
    assert.match(html, /Found in GHL, location loc1 \(one search call\)/);
    assert.match(html, /href="\/dashboard\/contacts\/c2\?locationId=loc1">Ann</);
    assert.match(html, /href="\/dashboard\/search\?q=a%26b&amp;locationId=loc2">loc2</);
  });
});

describe('charts', () => {
  test('one circle per non-zero point, carrying its value', () => {
    const svg = renderChart({ id: 'x', title: 'T', unit: '', at: [0, 60_000, 120_000], lines: [{ name: 'synced', values: [0, 3, 1] }] });
    const values = [...svg.matchAll(/data-value="(\d+)"/g)].map((match) => Number(match[1]));
    assert.deepEqual(values, [3, 1]);
    assert.match(svg, /data-series="synced"/);
    assert.doesNotMatch(svg, /style=/, 'no inline styles under the CSP');
  });

  test('dead-lettering is a series by queue, not only the count waiting now', () => {
    const points: SeriesPoint[] = [
      { at: 0, counts: {} },
      { at: 60_000, counts: { 'dead-letter:contact-sync': 2, 'dead-letter:alerts': 1 } },
    ];
    const chart = flowCharts(points, 'hour').find((candidate) => candidate.id === 'dead-letters');
    assert.ok(chart);
    assert.deepEqual(chart.lines, [
      { name: 'alerts', values: [0, 1] },
      { name: 'contact-sync', values: [0, 2] },
    ]);
  });
});

describe('troubleshooting words', () => {
  test('names the cause and the fix', () => {
    assert.match(explainFailure('custom field `contact.trustpilot_rating` is missing', 'locX').todo, /setup-fields --location locX/);
    assert.match(explainFailure('GHL 401 Unauthorized', 'locX').what, /location locX/);
    assert.match(explainFailure('the call budget is spent').todo, /waits for the budget/);
    assert.match(explainFailure('something odd').todo, /logs/);
  });

  test('a sync warning about a missing field, and a spent budget with when it ends', () => {
    assert.equal(explainFailure('custom field contact.trustpilot_review_url does not exist in location locX; run setup-fields', 'locX').what, 'The custom field contact.trustpilot_review_url is missing in location locX.');
    const failedAt = Date.UTC(2026, 0, 1, 13, 0, 0);
    const spent = explainFailure('trustpilot call budget spent (window); next call in 3900000 ms', '', failedAt);
    assert.equal(spent.what, 'The Trustpilot call budget is spent until 14:05 UTC.');
    assert.match(spent.todo, /waits for the budget/);
  });
});

test('ledger source keys in words', () => {
  assert.equal(describeSource('tp-review:r1'), 'Trustpilot review r1');
  assert.equal(describeSource('os-response:a9:low-score'), 'Opinion Stage answer a9 (rule low-score)');
});
