/**
 * The contact page in a real browser (Debian's chromium via playwright-core) against the real bridge,
 * a real Redis and the GHL and Trustpilot simulators, wired by webhooks as in production: a contact
 * with a 1★ review is synced by the flow; the admin finds it by email, sees the note, task, tags and
 * sync timeline, presses "Sync now" (a new sync appears) and "Plan a dry run" (the plan appears), and
 * the charts draw points for the traffic just sent. A viewer sees no action button and gets 403 when
 * posting anyway. A screenshot of each page is kept under test-output/browser/ for review.
 */
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { request } from 'undici';
import { startGhlSimulator, type GhlSimulator } from '../../src/sandbox/ghl/simulator.js';
import { startTrustpilotSimulator, type TrustpilotSimulator } from '../../src/sandbox/trustpilot/simulator.js';
import { setupFields } from '../../src/workers/setup-fields.js';
import { chromiumMissing, launchChromium, type TestBrowser } from '../helpers/browser.js';
import { simulatorEnv, startTestBridge, trustpilotSimulatorEnv, type TestBridge } from '../helpers/bridge.js';
import { waitFor } from '../helpers/wait.js';
import { postSignIn, signInPage } from '../helpers/dashboard-sign-in.js';
import { startRedisServer, type RedisServerHandle } from '../helpers/redis-server.js';

const LOCATION_ID = 'locContactPage0000001';
const TOKEN = 'pit-contact-page-0001';
const ADMIN_TOKEN = 'admin-token-contact-page-0001';
const VIEWER_TOKEN = 'viewer-token-contact-page-0001';
const TP_SECRET = 'tp-webhook-secret-contact-page';
const EMAIL = 'grace@acme-widgets.com';
const OUTPUT = join(process.cwd(), 'test-output', 'browser');

const missing = chromiumMissing();

// CI installs chromium: there a missing browser is a broken setup, not a reason to skip.
if (missing && process.env.CI === 'true') {
  test('contact page in chromium: the browser is installed', () => assert.fail(`CI=true but ${missing}`));
}

describe('contact page in chromium', { skip: missing ? `browser test skipped: ${missing}` : false }, () => {
  let redis: RedisServerHandle;
  let ghl: GhlSimulator;
  let tp: TrustpilotSimulator;
  let bridge: TestBridge;
  let browser: TestBrowser;
  let contactId = '';

  before(async () => {
    await mkdir(OUTPUT, { recursive: true });
    redis = await startRedisServer();
    ghl = await startGhlSimulator({ locations: [{ id: LOCATION_ID, token: TOKEN }] });
    tp = await startTrustpilotSimulator();
    tp.addBusinessUnit({ domain: 'acme-widgets.com', displayName: 'Acme Widgets', trustScore: 4.2, stars: 4, totalReviews: 321 });
    bridge = await startTestBridge({
      mode: 'all',
      redisUrl: redis.url,
      env: {
        ...simulatorEnv(ghl, LOCATION_ID, TOKEN),
        ...trustpilotSimulatorEnv(tp),
        TRUSTPILOT_WEBHOOK_SECRET: TP_SECRET,
        ENCRYPTION_KEY: Buffer.alloc(32, 5).toString('base64'),
        ADMIN_TOKEN,
        VIEWER_TOKEN,
        COALESCE_WINDOW_MS: '300',
        LOG_LEVEL: 'info',
      },
    });
    await setupFields(bridge.container.ghl, LOCATION_ID, bridge.container.mapping, bridge.container.syncDeps.fieldIds);
    ghl.setWebhookUrl(`${bridge.url}/webhooks/ghl`);
    tp.setWebhookUrl(`${bridge.url}/webhooks/trustpilot?token=${TP_SECRET}`);
    browser = await launchChromium();

    tp.addReview({ stars: 1, title: 'Never arrived', text: 'Ordered three weeks ago, still waiting.', referralEmail: EMAIL, consumerName: 'Grace H.' });
    contactId = ghl.userCreateContact(LOCATION_ID, { firstName: 'Grace', lastName: 'Hopper', email: EMAIL, assignedTo: 'user_owner_1' }).id;
    await waitFor(() => (ghl.store.listTasks(contactId).length > 0 ? true : undefined), 20_000, 'the follow-up task');
    const history = bridge.container.syncDeps.facts.history;
    await waitFor(async () => ((await history.search(EMAIL)).length > 0 ? true : undefined), 10_000, 'the synced contact in the directory');
  });

  after(async () => {
    await browser?.close();
    await bridge?.close();
    await tp?.close();
    await ghl?.close();
    await redis?.close();
  });

  const timelineRows = (page: Page) => page.locator('#timeline tbody tr.sync');

  test('the admin finds the contact by email, sees what the bridge wrote, syncs it now and plans a dry run', async () => {
    const page = await browser.context.newPage();
    try {
      await signInPage(page, bridge.url, ADMIN_TOKEN);
      assert.equal(await page.locator('#role').innerText(), 'admin');
      await page.getByLabel('Find a contact').fill(EMAIL);
      await page.getByRole('button', { name: 'Search' }).click();
      await page.locator('#known-results').waitFor();
      const link = page.locator('#known-results tbody a').first();
      assert.equal(await link.innerText(), 'Grace Hopper');
      assert.equal(await page.locator('#ghl-results').count(), 0, 'found in the bridge\'s records: GHL was not searched');
      assert.match(await page.locator('#ghl-note').innerText(), /GHL was not searched/);
      await link.click();

      await page.locator('#contact-name').waitFor();
      assert.equal(await page.locator('#contact-name').innerText(), 'Grace Hopper');
      assert.match(await page.locator('#contact-facts').innerText(), new RegExp(EMAIL));
      assert.match(await page.locator('#contact-tags').innerText(), /trustpilot-detractor/);
      assert.match(await page.locator('#contact-fields').innerText(), /trustpilot_review_stars\s+1/);
      const notes = page.locator('#notes tbody tr');
      assert.equal(await notes.count(), 1);
      assert.match(await notes.first().innerText(), /Trustpilot review .*in GHL.*Never arrived/s);
      const tasks = page.locator('#tasks tbody tr');
      assert.equal(await tasks.count(), 1);
      assert.match(await tasks.first().innerText(), /\bopen\b/);
      const synced = timelineRows(page).filter({ hasText: 'create-note' });
      assert.equal(await synced.count(), 1, 'the sync that wrote the note');
      assert.match(await synced.innerText(), /create-task/);
      assert.match(await synced.innerText(), /ghl contact/);
      const before = await timelineRows(page).count();
      await page.screenshot({ path: join(OUTPUT, 'contact-page.png'), fullPage: true });

      await page.getByRole('button', { name: 'Sync now' }).click();
      await page.locator('#result-summary').waitFor();
      assert.match(await page.locator('#result-heading').innerText(), /Sync result/);
      assert.match(await page.locator('#result-summary').innerText(), /^synced: \d+ writes made/);
      assert.equal(await timelineRows(page).count(), before + 1, 'the new sync is in the timeline');
      assert.match(await timelineRows(page).first().innerText(), /admin\s+synced/);

      await page.getByRole('button', { name: 'Plan a dry run' }).click();
      await page.locator('#result-summary').waitFor();
      assert.match(await page.locator('#result-heading').innerText(), /Dry-run plan/);
      assert.match(await page.locator('#result-summary').innerText(), /writes planned, none made/);
      assert.equal(await page.locator('#plan').count(), 1, 'the plan table');
      assert.match(await timelineRows(page).first().innerText(), /synced \(dry run\)/);
      await page.screenshot({ path: join(OUTPUT, 'contact-page-dry-run.png'), fullPage: true });
    } finally {
      await page.close();
    }
  });

  test('a contact created in GHL after the bridge last synced is found with one GHL search, and its page opens', async () => {
    // Straight into GHL's store: no webhook, so the bridge's records know nothing of it.
    const late = ghl.store.insertContact(LOCATION_ID, { firstName: 'Ada', lastName: 'Late', email: 'ada.late@acme-widgets.com' });
    assert.equal((await bridge.container.syncDeps.facts.history.search('ada.late@')).length, 0);
    const searchesBefore = ghl.calls.filter((call) => call.path === '/contacts/search').length;
    const page = await browser.context.newPage();
    try {
      await page.goto(`${bridge.url}/dashboard`);
      await page.getByLabel('Find a contact').fill('ada.late@acme-widgets.com');
      await page.getByRole('button', { name: 'Search' }).click();
      await page.locator('#ghl-results').waitFor();
      assert.equal(await page.locator('#known-results tbody a').count(), 0);
      assert.equal(ghl.calls.filter((call) => call.path === '/contacts/search').length, searchesBefore + 1, 'one GHL search call');
      const link = page.locator('#ghl-results tbody a').first();
      assert.equal(await link.innerText(), 'Ada Late');
      await link.click();
      await page.locator('#contact-name').waitFor();
      assert.equal(await page.locator('#contact-name').innerText(), 'Ada Late');
      assert.match(page.url(), new RegExp(`/dashboard/contacts/${late.id}\\?locationId=${LOCATION_ID}`));
      assert.match(await page.locator('#contact-facts').innerText(), /ada\.late@acme-widgets\.com/);
      assert.match(await page.locator('#timeline').innerText(), /No sync/i);
    } finally {
      await page.close();
    }
  });

  test('the charts draw points for the traffic just sent', async () => {
    const page = await browser.context.newPage();
    try {
      await page.goto(`${bridge.url}/dashboard`);
      const total = async (chart: string, series: string) => {
        const values = await page.locator(`#chart-${chart} g[data-series="${series}"] circle`).evaluateAll((nodes) => nodes.map((node) => Number(node.getAttribute('data-value'))));
        return values.reduce((sum, value) => sum + value, 0);
      };
      assert.ok((await total('webhooks', 'accepted')) >= 1, 'webhooks accepted in the last hour');
      assert.ok((await total('syncs', 'synced')) >= 3, 'the flow, "sync now" and the dry run');
      assert.ok((await total('ghl-calls', LOCATION_ID)) >= 1, 'GHL calls of the location');
      assert.ok((await page.locator('#chart-latency g[data-series="p50"] circle').count()) >= 1, 'a latency point');
      // Nothing was dead-lettered: the series is drawn, flat.
      assert.equal(await page.locator('#chart-dead-letters g[data-series="contact-sync"] polyline').count(), 1, 'the dead-letter series');
      assert.equal(await total('dead-letters', 'contact-sync'), 0);
      assert.match(await page.locator('#locations tbody tr').filter({ hasText: LOCATION_ID }).innerText(), /Trustpilot/);
      await page.screenshot({ path: join(OUTPUT, 'dashboard-charts.png'), fullPage: true });
      await page.goto(`${bridge.url}/dashboard?range=day`);
      assert.ok((await page.locator('#chart-syncs g[data-series="synced"] circle').count()) >= 1, 'the day view too');
    } finally {
      await page.close();
    }
  });

  test('a viewer sees no action button and gets 403 when posting anyway', async () => {
    const page = await browser.context.newPage();
    try {
      await signInPage(page, bridge.url, VIEWER_TOKEN);
      assert.equal(await page.locator('#role').innerText(), 'viewer');
      await page.goto(`${bridge.url}/dashboard/contacts/${contactId}?locationId=${LOCATION_ID}`);
      assert.equal(await page.locator('#notes tbody tr').count(), 1, 'the viewer reads the page');
      assert.equal(await page.getByRole('button', { name: /Sync now|Plan a dry run|Replay/ }).count(), 0);
    } finally {
      await page.close();
    }
    const { cookie } = await postSignIn(bridge.url, VIEWER_TOKEN);
    const syncsBefore = (await bridge.container.syncDeps.facts.history.syncs(LOCATION_ID, contactId)).length;
    for (const action of ['sync', 'replay']) {
      const response = await request(`${bridge.url}/dashboard/contacts/${contactId}/${action}`, {
        method: 'POST',
        headers: { cookie, origin: new URL(bridge.url).origin, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ locationId: LOCATION_ID, dryRun: 'false', id: 'dl-x' }).toString(),
      });
      await response.body.dump();
      assert.equal(response.statusCode, 403, action);
    }
    assert.equal((await bridge.container.syncDeps.facts.history.syncs(LOCATION_ID, contactId)).length, syncsBefore, 'nothing ran');
  });
});
