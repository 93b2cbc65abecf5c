/**
 * test/chaos/redis-restart-burst.test.ts on a local three-master Redis Cluster: the master holding the
 * ingest queue is SIGKILLed mid-burst and restarted on its AOF; nothing answered 200 may be lost.
 *
 * Opt-in (TEST_CLUSTER_NODE_RESTART=1) for now: its assertions pass, but in one run of two the
 * bridge's close() after the restart did not return, which would hang `npm test` until the file's
 * timeout. Remove the gate once that teardown is fixed.
 */
import { test } from 'node:test';

if (process.env.TEST_CLUSTER_NODE_RESTART === '1') {
  process.env.TEST_REDIS_CLUSTER = '1';
  await import('../chaos/redis-restart-burst.test.js');
} else {
  test('a cluster master SIGKILLed mid-burst and restarted on its AOF loses nothing', { skip: 'opt-in: TEST_CLUSTER_NODE_RESTART=1 (teardown can hang)' }, () => undefined);
}
