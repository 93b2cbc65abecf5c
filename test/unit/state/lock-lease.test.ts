import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfig } from '../../../src/config/env.js';
import { lockLeaseMs, refreshLockTiming } from '../../../src/state/lock-lease.js';

test('the refresh lock outlives the longest upstream call it covers, with a margin', () => {
  for (const timeout of ['1s', '10s', '45s', '2m']) {
    const upstream = loadConfig({ UPSTREAM_TIMEOUT: timeout }).UPSTREAM_TIMEOUT;
    assert.ok(lockLeaseMs(upstream) > upstream + 5_000, `one call of ${timeout}`);
    assert.ok(lockLeaseMs(upstream, 2) > 2 * upstream + 5_000, `two calls of ${timeout}`);
    assert.ok(lockLeaseMs(upstream) >= 30_000, 'never shorter than before');
  }
  assert.equal(lockLeaseMs(60_000), 70_000);
  assert.deepEqual(refreshLockTiming(60_000, 2), { lockTtlMs: 130_000, lockWaitMs: 130_000 });
});
