/**
 * The chaos suites read Redis through the bridge's fail-fast producer connections (a 2 s command
 * timeout, src/queue/connections.ts). A Redis that answers late, as one does on a loaded box or
 * while it loads its AOF, must make such a read repeat, not fail the suite: test/helpers/wait.ts.
 * Shown here on a real redis-server whose clients are paused for longer than that timeout.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { createRedisConnection } from '../../../src/queue/connections.js';
import { createLogger } from '../../../src/observability/logger.js';
import { startRedisServer, type RedisServerHandle } from '../../helpers/redis-server.js';
import { isPassingRedisTrouble, readPatiently, waitUntil } from '../../helpers/wait.js';

/** Longer than the producer's command timeout, so a read sent during the pause times out. */
const PAUSE_MS = 3_000;

describe('readPatiently', () => {
  let server: RedisServerHandle;
  let admin: Redis;

  before(async () => {
    server = await startRedisServer();
    admin = new Redis(server.url, { maxRetriesPerRequest: 1 });
  });

  after(async () => {
    await admin.quit();
    await server.close();
  });

  test('waits out a Redis that answers later than the producer connection waits', async () => {
    const producer = createRedisConnection(server.url, 'producer', createLogger({ level: 'silent' }));
    try {
      await waitUntil(() => producer.status === 'ready', 'the producer connection to be ready');
      await producer.set('patient:key', 'value');
      await admin.call('CLIENT', 'PAUSE', String(PAUSE_MS), 'ALL');
      const impatient = await producer.get('patient:key').then(
        () => undefined,
        (error: unknown) => error,
      );
      assert.ok(isPassingRedisTrouble(impatient), `the plain read failed with passing trouble: ${String(impatient)}`);
      assert.equal(await readPatiently(() => producer.get('patient:key'), 'the key'), 'value');
    } finally {
      producer.disconnect();
    }
  });

  test('throws any other error at once, without repeating the read', async () => {
    let reads = 0;
    await assert.rejects(
      readPatiently(async () => {
        reads += 1;
        throw new TypeError('not a Redis problem');
      }, 'a broken read'),
      /not a Redis problem/,
    );
    assert.equal(reads, 1);
  });

  test('gives up at its deadline, naming what it read and the last Redis error', async () => {
    await assert.rejects(
      readPatiently(() => Promise.reject(new Error('Command timed out')), 'the job counts', 300),
      /timed out after 300 ms reading the job counts; the last Redis error: Command timed out/,
    );
  });
});
