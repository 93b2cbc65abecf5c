/**
 * test/chaos/redis-restart-burst.test.ts on a local three-master Redis Cluster: the master holding the
 * ingest queue is SIGKILLed mid-burst and restarted on its AOF; nothing answered 200 may be lost.
 *
 * Opt-in (TEST_CLUSTER_NODE_RESTART=1): its assertions pass (300 of 300 events answered 200, no job
 * and no effect missing), but the bridge's close() afterwards can hang. While the master is down the
 * whole cluster answers CLUSTERDOWN; BullMQ (5.81) then reconnects a worker's blocking cluster client,
 * which can leave that client with an empty node pool, and its Worker.close() waits for the client's
 * 'end' event, which ioredis (5.11) Cluster.disconnect() never emits for an empty pool. Seen on the
 * trustpilot-events worker, whose queue lives on a master that was never killed.
 */
import { test } from 'node:test';

if (process.env.TEST_CLUSTER_NODE_RESTART === '1') {
  process.env.TEST_REDIS_CLUSTER = '1';
  await import('../chaos/redis-restart-burst.test.js');
} else {
  test('a cluster master SIGKILLed mid-burst and restarted on its AOF loses nothing', { skip: 'opt-in: TEST_CLUSTER_NODE_RESTART=1 (the bridge close() afterwards can hang)' }, () => undefined);
}
