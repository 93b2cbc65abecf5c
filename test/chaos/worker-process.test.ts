/**
 * Worker processes under duress: one killed with SIGKILL mid-job (a new worker runs the stalled job
 * again), and one stopped with SIGTERM mid-job (it finishes the job before it exits).
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { scheduleContactSync } from '../../src/lifecycle/container.js';
import { QUEUE_NAMES } from '../../src/queue/catalog.js';
import { startGhlSimulator, type GhlSimulator } from '../../src/sandbox/ghl/simulator.js';
import { createContactFacts } from '../../src/state/contact-facts.js';
import { simulatorEnv, startTestBridge, type TestBridge } from '../helpers/bridge.js';
import { waitFor } from '../helpers/wait.js';
import { startRedisServer, type RedisServerHandle } from '../helpers/redis-server.js';

const LOCATION_ID = 'locChaos00000000000001';
const TOKEN = 'pit-chaos-token-000001';
const MAIN = new URL('../../src/main.ts', import.meta.url).pathname;

describe('worker process lifecycle', () => {
  let redis: RedisServerHandle;
  let ghl: GhlSimulator;
  let bridge: TestBridge;
  let state: Redis;
  const children: ChildProcess[] = [];

  before(async () => {
    redis = await startRedisServer();
    ghl = await startGhlSimulator({ locations: [{ id: LOCATION_ID, token: TOKEN }] });
    bridge = await startTestBridge({
      mode: 'web',
      redisUrl: redis.url,
      env: simulatorEnv(ghl, LOCATION_ID, TOKEN),
    });
    ghl.setWebhookUrl(`${bridge.url}/webhooks/ghl`);
    state = new Redis(redis.url);
  });

  after(async () => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    state.disconnect();
    await bridge.close();
    await ghl.close();
    await redis.close();
  });

  function startWorkerProcess(): ChildProcess {
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'worker'], {
      env: {
        PATH: process.env.PATH,
        REDIS_URL: redis.url,
        REDIS_PREFIX: bridge.config.REDIS_PREFIX,
        GHL_API_BASE_URL: ghl.url,
        GHL_PRIVATE_TOKEN: TOKEN,
        GHL_LOCATION_ID: LOCATION_ID,
        COALESCE_WINDOW_MS: '0',
        WORKER_LOCK_DURATION: '2s',
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    children.push(child);
    return child;
  }

  /** A sync that reads its contact (no webhook snapshot to plan from), so the latency fault on the read holds it. */
  async function contactToRead(firstName: string, email: string) {
    const contact = ghl.store.insertContact(LOCATION_ID, { firstName, email });
    await scheduleContactSync(bridge.container.queues[QUEUE_NAMES.contactSync], { locationId: LOCATION_ID, contactId: contact.id, reason: 'reconcile', triggeredAt: Date.now() }, 0);
    return contact;
  }

  test('the interrupted job runs again on a new worker and completes', async () => {
    const removeStall = ghl.injectFault({ fault: { kind: 'latency', ms: 60_000 }, method: 'GET', path: /^\/contacts\/[^/]+$/ });
    const first = startWorkerProcess();
    const contact = await contactToRead('Killed', 'killed@example.com');

    // The worker is inside the job once its read reached the simulator (held there by the latency fault).
    await waitFor(() => ghl.calls.find((call) => call.method === 'GET' && call.path === `/contacts/${contact.id}`), 20_000, 'the first worker to start the job');
    const exited = new Promise((resolve) => first.once('exit', resolve));
    first.kill('SIGKILL');
    await exited;
    removeStall();

    const facts = createContactFacts(state, bridge.config.REDIS_PREFIX);
    const second = startWorkerProcess();
    const synced = await waitFor(
      async () => (await facts.recentSyncs()).find((sync) => sync.contactId === contact.id && sync.outcome === 'synced'),
      30_000,
      'the job to complete on the second worker',
    );
    assert.equal(synced.locationId, LOCATION_ID);
    const reads = ghl.calls.filter((call) => call.method === 'GET' && call.path === `/contacts/${contact.id}`);
    assert.ok(reads.length >= 2, `the contact was read again after the kill (${reads.length} reads)`);

    const stopped = new Promise((resolve) => second.once('exit', resolve));
    second.kill('SIGTERM');
    assert.equal(await stopped, 0, 'the second worker shut down cleanly on SIGTERM');
  });

  test('SIGTERM during a job lets the job finish before the process exits', async () => {
    const removeSlow = ghl.injectFault({ fault: { kind: 'latency', ms: 1_500 }, method: 'GET', path: /^\/contacts\/[^/]+$/ });
    const worker = startWorkerProcess();
    const contact = await contactToRead('Graceful', 'graceful@example.com');
    try {
      await waitFor(() => ghl.calls.find((call) => call.method === 'GET' && call.path === `/contacts/${contact.id}`), 20_000, 'the worker to start the job');
      const exited = new Promise((resolve) => worker.once('exit', resolve));
      worker.kill('SIGTERM');
      assert.equal(await exited, 0, 'clean exit');
    } finally {
      removeSlow();
    }
    const facts = createContactFacts(state, bridge.config.REDIS_PREFIX);
    const synced = (await facts.recentSyncs()).find((sync) => sync.contactId === contact.id);
    assert.equal(synced?.outcome, 'synced', 'the in-flight job completed before exit');
  });
});
