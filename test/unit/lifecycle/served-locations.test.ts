import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createServedLocations } from '../../../src/lifecycle/wiring/served-locations.js';

test('without OAuth installs the private-token location is answered at once, with no promise', async () => {
  const served = createServedLocations(['locPrivate'], undefined);
  assert.equal(served.has('locPrivate'), true);
  assert.equal(served.has('locOther'), false);
  assert.deepEqual(await served.list(), ['locPrivate']);
});

test('installs are read when the list is stale, then answered at once until it is stale again', async () => {
  let clock = 1_000_000;
  const installed = ['locA', 'company:agency1'];
  let reads = 0;
  const served = createServedLocations(['locPrivate'], { listLocations: async () => (reads++, [...installed]) }, () => clock);

  const first = served.has('locA');
  assert.ok(first instanceof Promise, 'never read: the installs are read first');
  assert.equal(await first, true);
  assert.equal(served.has('locA'), true, 'fresh: a plain boolean');
  assert.equal(served.has('locPrivate'), true);
  assert.equal(served.has('company:agency1'), false, 'an agency-level install serves no location');
  assert.equal(reads, 1);

  // An install made after the list was read is seen once the list is stale.
  installed.push('locB');
  clock += 4_999;
  assert.equal(served.has('locB'), false, 'still fresh: the cached answer');
  clock += 1;
  assert.equal(await served.has('locB'), true);
  assert.equal(reads, 2);
  assert.deepEqual((await served.list()).sort(), ['locA', 'locB', 'locPrivate']);

  // An uninstall calls forget(): the next answer reads again, at once.
  installed.splice(installed.indexOf('locA'), 1);
  served.forget();
  assert.equal(await served.has('locA'), false);
  assert.equal(reads, 3);
});
