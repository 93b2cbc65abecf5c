/**
 * Custom field key → id map against a real redis-server, GHL stubbed at its client interface (the
 * listing is the only call): cached reads cost nothing, a cold cache read by many jobs at once costs
 * one listing, a failed listing is not remembered, and a map missing a wanted field is read again
 * once it is a little old.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { createCustomFieldIds } from '../../../src/state/custom-field-ids.js';
import { startRedisServer, type RedisServerHandle } from '../../helpers/redis-server.js';

let server: RedisServerHandle;
let redis: Redis;

before(async () => {
  server = await startRedisServer();
  redis = new Redis(server.url);
});

after(async () => {
  await redis.quit();
  await server.close();
});

/**
 * A GHL listing that answers after `delayMs` with the given fields, or fails while `failing`. Callers
 * starting together share a listing only if each has read the (cold) cache before it settles, so the
 * listing takes long enough that no loaded machine can delay a concurrent cache read past it.
 */
function listing(fields: Record<string, string>, delayMs = 500) {
  const state = { calls: 0, failing: false };
  return {
    state,
    ghl: {
      async listCustomFields() {
        state.calls += 1;
        await sleep(delayMs);
        if (state.failing) throw new Error('GHL 503');
        return { items: Object.entries(fields).map(([fieldKey, id]) => ({ id, name: fieldKey, fieldKey, dataType: 'TEXT' })) };
      },
    },
  };
}

const prefix = () => `cf-test-${randomBytes(4).toString('hex')}`;

describe('custom field ids', () => {
  test('jobs starting together on a cold cache share one listing; later ones read the cache', async () => {
    const { state, ghl } = listing({ 'contact.trustpilot_score': 'cf1', 'contact.trustpilot_stars': 'cf2' });
    const shared = prefix();
    const ids = createCustomFieldIds(redis, shared, ghl);
    const maps = await Promise.all(Array.from({ length: 10 }, () => ids.resolve('loc1', ['contact.trustpilot_score'])));
    assert.equal(state.calls, 1);
    for (const map of maps) assert.deepEqual(map, { 'contact.trustpilot_score': 'cf1', 'contact.trustpilot_stars': 'cf2' });
    await ids.resolve('loc1', ['contact.trustpilot_stars']);
    assert.equal(state.calls, 1, 'served from Redis');
    // Another process on the same Redis reads the cache too.
    const other = listing({});
    assert.deepEqual(await createCustomFieldIds(redis, shared, other.ghl).resolve('loc1', ['contact.trustpilot_score']), maps[0]);
    assert.equal(other.state.calls, 0);
  });

  test('resolveCounted tells the caller whose listing it was, and no one else', async () => {
    const { state, ghl } = listing({ 'contact.a': 'cfA' });
    const ids = createCustomFieldIds(redis, prefix(), ghl);
    const together = await Promise.all(Array.from({ length: 3 }, () => ids.resolveCounted('loc1', ['contact.a'])));
    assert.equal(state.calls, 1);
    assert.deepEqual(together.map(({ listed }) => listed).sort(), [false, false, true], 'one listing, counted once');
    assert.deepEqual(await ids.resolveCounted('loc1', ['contact.a']), { fields: { 'contact.a': 'cfA' }, listed: false });
  });

  test('each location has its own listing', async () => {
    const { state, ghl } = listing({ 'contact.a': 'cfA' });
    const ids = createCustomFieldIds(redis, prefix(), ghl);
    await Promise.all([ids.resolve('loc1'), ids.resolve('loc2'), ids.resolve('loc1')]);
    assert.equal(state.calls, 2);
  });

  test('a failed listing fails everyone waiting on it and is not remembered', async () => {
    const { state, ghl } = listing({ 'contact.a': 'cfA' });
    const ids = createCustomFieldIds(redis, prefix(), ghl);
    state.failing = true;
    const outcomes = await Promise.allSettled([ids.resolve('loc1'), ids.resolve('loc1')]);
    assert.deepEqual(outcomes.map((outcome) => outcome.status), ['rejected', 'rejected']);
    assert.equal(state.calls, 1);
    state.failing = false;
    assert.deepEqual(await ids.resolve('loc1'), { 'contact.a': 'cfA' });
    assert.equal(state.calls, 2, 'read again after the failure');
  });

  test('a map missing a wanted field is read again once it is 30 s old, not before', async () => {
    const { state, ghl } = listing({ 'contact.a': 'cfA' });
    let clock = 1_000_000;
    const ids = createCustomFieldIds(redis, prefix(), ghl, () => clock);
    await ids.resolve('loc1', ['contact.b']);
    await ids.resolve('loc1', ['contact.b']);
    assert.equal(state.calls, 1, 'a fresh map is trusted even without the field');
    clock += 30_001;
    await ids.resolve('loc1', ['contact.b']);
    assert.equal(state.calls, 2);
  });
});

