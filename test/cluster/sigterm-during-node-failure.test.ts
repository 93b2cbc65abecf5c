/**
 * A worker process told to stop (SIGTERM) while one master of its Redis Cluster is down: it must
 * still shut down cleanly within SHUTDOWN_TIMEOUT (close-with-grace exits 1 when the grace runs out),
 * and a worker started once the master is back drains what arrives.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { QUEUE_NAMES } from '../../src/queue/catalog.js';
import { startChaosWorld, type ChaosWorld } from '../helpers/chaos-world.js';
import { waitFor } from '../helpers/wait.js';

process.env.TEST_REDIS_CLUSTER = '1';

const LOCATION_ID = 'locClusterTerm0000001';
const TOKEN = 'pit-cluster-term-00001';

describe('SIGTERM to a worker during a Redis Cluster node failure', () => {
  let world: ChaosWorld;

  before(async () => {
    world = await startChaosWorld({ locationId: LOCATION_ID, token: TOKEN, mode: 'web', env: { SHUTDOWN_TIMEOUT: '20s' } });
  });

  after(async () => {
    await world.close();
  });

  test('the worker exits 0 within its grace, and a new worker drains once the master is back', async () => {
    const { ghl, redis } = world;
    const worker = world.spawnWorker();
    await waitFor(() => (worker.logs.some((line) => line.includes('ghl-bridge started')) ? true : undefined), 60_000, 'the worker process to start');
    const contact = ghl.userCreateContact(LOCATION_ID, { firstName: 'Term', lastName: 'Cluster', email: 'cluster-term@gmail.com' });
    await world.drain(60_000);

    // A master that holds no queue the test looks at goes away: the cluster reports CLUSTERDOWN everywhere.
    await redis.stop(`{${world.bridge.config.REDIS_PREFIX}:${QUEUE_NAMES.reconcile}}`);
    await waitFor(async () => ((await redis.cluster?.failed()) ? true : undefined), 60_000, 'the cluster to report the failure', 100);
    const exit = await worker.stop('SIGTERM');
    assert.equal(exit.code, 0, `the worker shut down cleanly (code ${exit.code}, signal ${exit.signal}): ${worker.logs.slice(-5).join('\n')}`);
    assert.ok(worker.logs.some((line) => line.includes('shutdown complete')), 'the worker logged its shutdown');

    await redis.start();
    ghl.userUpdateContact(LOCATION_ID, contact.id, { phone: '+14155550199' });
    const second = world.spawnWorker();
    await world.drain(90_000);
    assert.ok(second.isRunning(), 'the second worker kept running');
    await second.stop('SIGTERM');
  });
});
