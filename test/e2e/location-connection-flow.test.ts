/**
 * A location's own Trustpilot connection end to end, over real HTTP and Redis against both
 * simulators: the environment has no Trustpilot of its own; the location is connected through the
 * admin API; a notification to its own webhook URL is read with its own credentials (its own token key
 * and call budget) and lands on its contact.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { request } from 'undici';
import { connectionBudgetKey } from '../../src/lifecycle/wiring/connection-clients.js';
import { createRateBudget, TRUSTPILOT_BUDGET_KEY } from '../../src/state/rate-budget.js';
import { startWorld, type World } from '../helpers/world.js';
import { waitFor } from '../helpers/wait.js';
import { startRedisServer, type RedisServerHandle } from '../helpers/redis-server.js';
import { KEY, OWN_BU, PASSWORD, SECRET, USER } from '../helpers/trustpilot-sim.js';

const LOCATION_ID = 'locOwnTrustpilot00001';
const TOKEN = 'pit-own-trustpilot-0001';
const ADMIN_TOKEN = 'admin-token-own-tp-0001';
const WEBHOOK_SECRET = 'own-tp-webhook-secret-0001';

describe('a location with its own Trustpilot connection', () => {
  let redis: RedisServerHandle;
  let world: World;

  before(async () => {
    redis = await startRedisServer();
    world = await startWorld({
      redisUrl: redis.url,
      locationId: LOCATION_ID,
      token: TOKEN,
      ghlWebhooks: false,
      env: { ENCRYPTION_KEY: randomBytes(32).toString('base64'), ADMIN_TOKEN, TRUSTPILOT_API_KEY: '', COALESCE_WINDOW_MS: '300', LOG_LEVEL: 'info' },
    });
  });

  after(async () => {
    await world.close();
    await redis.close();
  });

  test('its review, notified at its own URL, is read with its own token and budget and lands on its contact', async () => {
    const { ghl, tp, bridge } = world;
    assert.equal(bridge.container.trustpilot, undefined, 'no Trustpilot in the environment');
    const put = await request(`${bridge.url}/admin/locations/${LOCATION_ID}/trustpilot`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ businessUnitId: OWN_BU, apiKey: KEY, apiSecret: SECRET, username: USER, password: PASSWORD, webhookSecret: WEBHOOK_SECRET }),
    });
    assert.equal(put.statusCode, 200, await put.body.text());

    const email = 'ada@own-unit.example';
    const contactId = ghl.userCreateContact(LOCATION_ID, { firstName: 'Ada', lastName: 'Lovelace', email }).id;
    const reviewId = tp.addReview({ stars: 5, title: 'Lovely', text: 'Everything arrived on time.', referralEmail: email, consumerName: 'Ada L.' }).id;
    const notify = (token: string) =>
      request(`${bridge.url}/webhooks/trustpilot?location=${LOCATION_ID}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-webhook-token': token },
        body: JSON.stringify({ events: [{ eventName: 'service-review-created', version: '1', eventData: { id: reviewId } }] }),
      });
    const refused = await notify('not-the-secret-0000000000');
    assert.equal(refused.statusCode, 401);
    await refused.body.dump();
    const accepted = await notify(WEBHOOK_SECRET);
    assert.equal(accepted.statusCode, 200, await accepted.body.text());

    await waitFor(() => (ghl.store.listNotes(contactId).length > 0 ? true : undefined), 60_000, 'the review note on the contact');
    await world.settle();
    assert.equal(ghl.store.listNotes(contactId).length, 1);
    assert.match(ghl.store.listNotes(contactId)[0]?.body ?? '', /5★ "Lovely"/);

    const client = new Redis(redis.url);
    try {
      const prefix = bridge.config.REDIS_PREFIX;
      const budget = createRateBudget(client, prefix);
      const limit = bridge.config.TRUSTPILOT_RATE_LIMIT;
      assert.ok((await budget.usage(connectionBudgetKey(LOCATION_ID), limit)).window > 0, "calls counted against the connection's own budget");
      assert.equal((await budget.usage(TRUSTPILOT_BUDGET_KEY, limit)).window, 0, 'none against the global one');
      assert.equal(await client.exists(`${prefix}:trustpilot-token:location:${LOCATION_ID}:token`), 1, 'its own token key');
      assert.equal(await client.exists(`${prefix}:trustpilot-token:global:token`), 0);
    } finally {
      await client.quit();
    }
  });
});
