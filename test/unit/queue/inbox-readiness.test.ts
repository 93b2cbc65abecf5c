/**
 * What `/ready` says about the inbox (src/queue/inbox-readiness.ts): its depth and the oldest wait,
 * and a likely cause once entries wait longer than any running pump would let them.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeInbox, STALE_INBOX_MS } from '../../../src/queue/inbox-readiness.js';

test('an empty inbox, a moving one, and one nobody moves', () => {
  assert.equal(describeInbox(0, undefined), 'empty');
  assert.equal(describeInbox(12, 3_400), '12 waiting, oldest 3 s');
  const stale = describeInbox(40, STALE_INBOX_MS + 1_000);
  assert.match(stale, /^40 waiting, oldest 61 s: no worker is moving them/);
  assert.match(stale, /`worker` or `all` process/);
});
