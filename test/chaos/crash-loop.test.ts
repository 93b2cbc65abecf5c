/**
 * A job that takes its worker down every time it runs (a poison pill: out of memory, a native crash,
 * an orchestrator killing a stuck pod). After BullMQ's stall limit (maxStalledCount) it fails for
 * good, and a job that fails for good belongs in the dead letters, with its alert (CONTRACT
 * "Retries and alerts"), not only in BullMQ's failed set.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { scheduleContactSync } from '../../src/lifecycle/container.js';
import { QUEUE_NAMES } from '../../src/queue/catalog.js';
import { waitFor } from '../helpers/wait.js';
import { startChaosWorld, type ChaosWorld, type WorkerProcess } from '../helpers/chaos-world.js';

const LOCATION_ID = 'locChaosLoop000000001';
const TOKEN = 'pit-chaos-loop-0000001';
/** The container's maxStalledCount: a job found stalled more often than this fails. */
const MAX_STALLED = 3;

describe('a job that crashes its worker every time', () => {
  let world: ChaosWorld;

  before(async () => {
    world = await startChaosWorld({ locationId: LOCATION_ID, token: TOKEN, mode: 'web', env: { WORKER_LOCK_DURATION: '1s', COALESCE_WINDOW_MS: '0' } });
  });

  after(async () => {
    await world.close();
  });

  test(
    'fails for good after the stall limit and is dead-lettered',
    async () => {
      const { ghl } = world;
      // Made without a webhook and synced as reconcile would: no snapshot, so every run reads the contact.
      const poison = ghl.store.insertContact(LOCATION_ID, { firstName: 'Poison', lastName: 'Pill', email: 'chaos-poison@gmail.com' }).id;
      const read = `/contacts/${poison}`;
      // Every run of this contact's sync hangs on its read; the test then kills the worker, as a crash would.
      ghl.injectFault({ fault: { kind: 'latency', ms: 120_000 }, method: 'GET', path: new RegExp(`^${read}$`) });
      const sync = world.bridge.container.queues[QUEUE_NAMES.contactSync];
      await scheduleContactSync(sync, { locationId: LOCATION_ID, contactId: poison, reason: 'reconcile', triggeredAt: Date.now() }, 0);
      const workers: WorkerProcess[] = [];
      const started = Date.now();

      for (let crash = 1; crash <= MAX_STALLED + 1; crash += 1) {
        const worker = world.spawnWorker();
        workers.push(worker);
        await waitFor(
          () => {
            if (!worker.isRunning()) throw new Error('the worker exited on its own');
            return ghl.calls.filter((call) => call.method === 'GET' && call.path === read).length >= crash ? true : undefined;
          },
          20_000,
          `run ${crash} of the poison job`,
        );
        await worker.stop('SIGKILL');
      }

      // The next worker finds the job over the stall limit and fails it without running it.
      const last = world.spawnWorker();
      const failed = await waitFor(async () => (await sync.getJobs(['failed'])).find((job) => job.data?.contactId === poison), 20_000, 'the poison job to fail');
      // The dead letter is recorded by the worker's `failed` listener, just after BullMQ fails the job.
      const deadLetters = await waitFor(async () => {
        const entries = await world.deadLetters();
        return entries.length > 0 ? entries : undefined;
      }, 10_000, 'the dead letter of the poison job');
      console.log(
        `[chaos crash-loop] crashes=${workers.length} reads=${ghl.calls.filter((call) => call.path === read).length} failedReason="${failed.failedReason}" ` +
          `deadLetters=${deadLetters.length} totalMs=${Date.now() - started}`,
      );
      // The alert is sent by a worker (the bridge here runs only `web`): wait for it before stopping the last one.
      await waitFor(() => (world.alerts.some((alert) => alert.kind === 'job-failed' && alert.contactId === poison) ? true : undefined), 20_000, 'the alert for it');
      await last.stop('SIGTERM');
      assert.match(failed.failedReason, /stalled/);
      assert.equal(deadLetters.length, 1, 'the job that failed for good is in the dead letters');
      assert.equal(deadLetters[0]?.jobId, failed.id);
    },
  );
});
