/**
 * The bridge closes while its Redis is gone. BullMQ's Worker.close() waits for its blocking
 * connection's 'end', which ioredis never emits for a client that is between reconnects, so on its
 * own the close would wait forever; the workers get their part of SHUTDOWN_TIMEOUT and are then
 * dropped, and close() finishes (and this test file's process can exit: nothing is left running).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestBridge, type TestBridge } from '../../helpers/bridge.js';
import { startRedisServer, type RedisServerHandle } from '../../helpers/redis-server.js';

describe('closing the bridge while Redis is gone', () => {
  let redis: RedisServerHandle;
  let bridge: TestBridge;

  before(async () => {
    redis = await startRedisServer();
    bridge = await startTestBridge({ mode: 'worker', redisUrl: redis.url, env: { SHUTDOWN_TIMEOUT: '2s', GHL_PRIVATE_TOKEN: 'pit-close-gone-000001', GHL_LOCATION_ID: 'locCloseGone000000001' } });
  });

  after(async () => {
    await redis.close();
  });

  test('close() finishes, dropping the workers that cannot close', async () => {
    assert.ok(bridge.container.workers.length > 0, 'the bridge runs workers');
    await Promise.all(bridge.container.workers.map((worker) => worker.waitUntilReady()));
    await redis.stop();
    await bridge.close();
    assert.ok(
      bridge.logs.some((line) => line.includes('workers did not close in time, dropping their connections')),
      'the workers that could not close were dropped',
    );
  });
});
