import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { describeLocation, maskSecret, type LocationFacts } from '../../../src/http/routes/admin-locations.js';

describe('GET /admin/locations, one location described', () => {
  const usage = { window: 3, day: 40, limit: { max: 100, windowMs: 10_000, daily: 200_000 } };
  const facts = (overrides: Partial<LocationFacts> = {}): LocationFacts => ({
    privateLocations: ['locPrivate'],
    oauthInstall: async (locationId) => (locationId === 'locOk' ? { companyId: 'agency1' } : locationId === 'locRefused' ? { companyId: 'agency1', needsReconnect: true } : undefined),
    budgetUsage: async () => usage,
    trustpilot: async () => undefined,
    opinionStage: async () => ({ source: 'environment', apiKey: '****', itemIds: ['item1'], webhookSecret: null }),
    ...overrides,
  });

  test('a private-token location: no company known, never needs reconnecting', async () => {
    const view = await describeLocation(facts(), 'locPrivate');
    assert.deepEqual({ ...view, budget: undefined }, {
      locationId: 'locPrivate',
      companyId: null,
      authorisation: 'private-token',
      needsReconnect: false,
      budget: undefined,
      trustpilot: null,
      opinionStage: { source: 'environment', apiKey: '****', itemIds: ['item1'], webhookSecret: null },
    });
    assert.deepEqual(view.budget, { window: 3, windowLimit: 100, windowMs: 10_000, day: 40, dailyLimit: 200_000, blockedUntil: null });
  });

  test('OAuth installs: the stored company; a refused refresh or a missing token needs reconnecting', async () => {
    assert.deepEqual(await pick('locOk'), { companyId: 'agency1', authorisation: 'oauth', needsReconnect: false });
    assert.deepEqual(await pick('locRefused'), { companyId: 'agency1', authorisation: 'oauth', needsReconnect: true });
    assert.deepEqual(await pick('locMissing'), { companyId: null, authorisation: 'oauth', needsReconnect: true });
    async function pick(locationId: string) {
      const { companyId, authorisation, needsReconnect } = await describeLocation(facts(), locationId);
      return { companyId, authorisation, needsReconnect };
    }
  });

  test('without OAuth (private-token mode) every location is private-token', async () => {
    const { oauthInstall: _unused, ...privateOnly } = facts();
    assert.equal((await describeLocation(privateOnly, 'locOther')).authorisation, 'private-token');
  });

  test('a budget block is shown as a time', async () => {
    const view = await describeLocation(facts({ budgetUsage: async () => ({ ...usage, blockedUntil: Date.UTC(2026, 0, 1) }) }), 'locOk');
    assert.equal(view.budget.blockedUntil, '2026-01-01T00:00:00.000Z');
  });
});

describe('maskSecret', () => {
  test('shows at most the last 4 characters of a long secret, nothing of a short one', () => {
    assert.equal(maskSecret('abcdefghijklmnop1234'), '****1234');
    assert.equal(maskSecret('short-secret'), '****');
    assert.equal(maskSecret(undefined), null);
    assert.equal(maskSecret(''), null);
  });
});
