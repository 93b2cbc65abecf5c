/**
 * The fingerprints that make GHL's echoes of the bridge's own writes cost nothing, against a real
 * redis-server: the last synced state and the states between its writes are known, anything else
 * (another contact, another location, a changed contact) is not.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createContactFingerprints } from '../../../src/state/contact-fingerprint.js';
import { useRedisServer } from '../../helpers/redis-server.js';

const server = useRedisServer();

test('the last synced state and the states between its writes are known; nothing else is', async () => {
  const fingerprints = createContactFingerprints(server.connect(), `fp-test-${randomBytes(4).toString('hex')}`);
  assert.equal(await fingerprints.isKnown('locA', 'c1', 'final'), false, 'nothing remembered yet');
  await fingerprints.remember('locA', 'c1', 'final', ['after-first-write', 'after-second-write']);
  assert.equal(await fingerprints.isKnown('locA', 'c1', 'final'), true);
  assert.equal(await fingerprints.isKnown('locA', 'c1', 'after-second-write'), true);
  assert.equal(await fingerprints.isKnown('locA', 'c1', 'changed-by-a-user'), false);
  assert.equal(await fingerprints.isKnown('locA', 'c2', 'final'), false, 'another contact');
  assert.equal(await fingerprints.isKnown('locB', 'c1', 'final'), false, 'another location');
  // A later sync replaces the last state; its own writes add their states.
  await fingerprints.remember('locA', 'c1', 'newer', []);
  assert.equal(await fingerprints.isKnown('locA', 'c1', 'final'), false);
  assert.equal(await fingerprints.isKnown('locA', 'c1', 'newer'), true);
});

test('a Redis that refuses the read is an error, not "unknown"', async () => {
  const redis = server.connect();
  const fingerprints = createContactFingerprints(redis, `fp-test-${randomBytes(4).toString('hex')}`);
  // The echo key holding a string instead of a set makes SISMEMBER fail.
  const prefix = `fp-test-${randomBytes(4).toString('hex')}`;
  const broken = createContactFingerprints(redis, prefix);
  await redis.set(`${prefix}:fingerprint-echo:locA:c1`, 'not a set');
  await assert.rejects(broken.isKnown('locA', 'c1', 'final'), /WRONGTYPE/);
  assert.equal(await fingerprints.isKnown('locA', 'c1', 'final'), false);
});
