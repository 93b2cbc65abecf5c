/**
 * A graceful stop under load: SIGTERM reaches the worker process while jobs are in flight. It must
 * finish them within SHUTDOWN_TIMEOUT and exit 0, leaving no job active behind it (nothing for the
 * stalled-job check to rescue); events keep arriving meanwhile, and after a restart every contact
 * has its note and follow-up task exactly once.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { waitFor } from '../helpers/wait.js';
import { startChaosWorld, type ChaosWorld, type WorkerProcess } from '../helpers/chaos-world.js';

const LOCATION_ID = 'locChaosTerm000000001';
const TOKEN = 'pit-chaos-term-0000001';
const CONTACTS = 100;
const SHUTDOWN_TIMEOUT_MS = 10_000;
const WRITE_PATH = /^\/contacts\/[^/]+\/(notes|tasks)$/;

describe('SIGTERM to the worker process during load', () => {
  let world: ChaosWorld;

  before(async () => {
    world = await startChaosWorld({
      locationId: LOCATION_ID,
      token: TOKEN,
      mode: 'web',
      // A short lock: a job wrongly left active would be rescued (and counted) quickly, not hang the suite.
      env: { WORKER_LOCK_DURATION: '2s', SHUTDOWN_TIMEOUT: `${SHUTDOWN_TIMEOUT_MS}ms`, COALESCE_WINDOW_MS: '200' },
    });
  });

  after(async () => {
    await world.close();
  });

  test('in-flight jobs finish before exit and nothing is lost or done twice', async () => {
    const { ghl, tp } = world;
    const emails = Array.from({ length: CONTACTS }, (_, i) => `chaos-term-${i}@gmail.com`);
    for (const [i, email] of emails.entries()) {
      tp.addReview({ stars: i % 2 === 0 ? 1 : 2, title: `Wrong size ${i}`, text: 'Had to send it back.', referralEmail: email, consumerName: `Consumer ${i}` });
    }
    // Slow creates keep jobs in flight at the moment the signal lands.
    ghl.injectFault({ fault: { kind: 'latency', ms: 300 }, method: 'POST', path: WRITE_PATH });
    const first = world.spawnWorker();
    const started = Date.now();
    const contacts = emails.map((email, i) => ghl.userCreateContact(LOCATION_ID, { firstName: `Term${i}`, lastName: 'Chaos', email, assignedTo: 'user_owner_1' }).id);
    for (const [i, contactId] of contacts.entries()) ghl.userUpdateContact(LOCATION_ID, contactId, { phone: `+1415666${String(i).padStart(4, '0')}` });

    const withNote = () => contacts.filter((contactId) => ghl.store.listNotes(contactId).length > 0).length;
    const alive = (worker: WorkerProcess) => {
      if (!worker.isRunning()) throw new Error(`worker process ${worker.pid} exited on its own`);
    };
    const activeAtSignal = await waitFor(
      async () => {
        alive(first);
        if (withNote() < CONTACTS / 3) return undefined;
        const active = await world.activeJobs();
        return active > 0 ? active : undefined;
      },
      45_000,
      'the worker to be mid-way through the load',
    );
    const callsInFlightAtSignal = ghl.calls.filter((call) => call.status === 0).length;
    const notesAtSignal = withNote();
    const signalledAt = Date.now();
    const exit = await first.stop('SIGTERM');
    const shutdownMs = exit.at - signalledAt;
    const activeAfterExit = await world.activeJobs();
    const notesAtExit = withNote();
    // Events keep coming while no worker runs: they must wait in Redis, not vanish.
    const lateContact = ghl.userCreateContact(LOCATION_ID, { firstName: 'Late', lastName: 'Arrival', email: 'chaos-term-late@gmail.com' }).id;

    assert.equal(exit.code, 0, `the worker exited cleanly (code ${exit.code}, signal ${exit.signal})`);
    assert.ok(shutdownMs < SHUTDOWN_TIMEOUT_MS, `shutdown took ${shutdownMs} ms, within SHUTDOWN_TIMEOUT`);
    assert.equal(activeAfterExit, 0, 'no job was left active: every in-flight job finished before exit');

    const second = world.spawnWorker();
    // The late contact has no review: its sync plans from the webhook's snapshot and makes no call, so its run record is the sign.
    const lateSynced = async () => (await world.bridge.container.syncDeps.facts.recentSyncs(200)).some((run) => run.contactId === lateContact && run.outcome === 'synced');
    await waitFor(
      async () => {
        alive(second);
        return world.effects(contacts).contactsMissing.length === 0 && (await lateSynced()) ? true : undefined;
      },
      60_000,
      'every contact to have its note and task after the restart',
    );
    await world.drain(30_000);

    const effects = world.effects(contacts);
    const deadLetters = await world.deadLetters();
    const stats = await world.runStats();
    console.log(
      `[chaos sigterm] events=${2 * CONTACTS + 1} contacts=${CONTACTS} signalAfterMs=${signalledAt - started} activeJobsAtSignal=${activeAtSignal} ` +
        `ghlCallsInFlightAtSignal=${callsInFlightAtSignal} notesAtSignal=${notesAtSignal} notesAtExit=${notesAtExit} shutdownMs=${shutdownMs} ` +
        `exitCode=${exit.code} activeAfterExit=${activeAfterExit} stalledJobsRunAgain=${stats.stalledRecovered} ` +
        `duplicates=${effects.duplicateNotes + effects.duplicateTasks} lost=${effects.missingNotes + effects.missingTasks} deadLetters=${deadLetters.length} alerts=${world.alerts.length} ` +
        `totalMs=${Date.now() - started}`,
    );
    assert.deepEqual(effects.contactsWithDuplicates, [], 'no contact has a second note or task');
    assert.deepEqual(effects.contactsMissing, [], 'no contact lacks its note or task');
    assert.equal(stats.stalledRecovered, 0, 'no job had to be rescued as stalled');
    assert.deepEqual(deadLetters.map((entry) => `${entry.queue}:${entry.failedReason}`), [], 'no dead letters');
    assert.deepEqual(world.alerts.map((alert) => alert.text), [], 'no alert was raised');

    const stopped = await second.stop('SIGTERM');
    assert.equal(stopped.code, 0);
  });
});
