/**
 * A misbehaving GHL: 20 % of calls answer 503, some stall for 2 s, some creates lose their answer, a
 * few seconds of 429 on every call, and one expired token. A private token cannot be refreshed, so
 * that 401 is a real permanent failure: exactly one dead letter for it. Every other event completes,
 * no note or task is made twice, and the 429s put nothing in the dead letters.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { QUEUE_NAMES } from '../../src/queue/catalog.js';
import { waitFor } from '../helpers/wait.js';
import { startChaosWorld, type ChaosWorld } from '../helpers/chaos-world.js';

const LOCATION_ID = 'locChaosFaults0000001';
const TOKEN = 'pit-chaos-faults-00001';
const CONTACTS = 60;
const STALL_MS = 2_000;
const STORM_MS = 3_000;
const RETRY_AFTER_MS = 1_000;

describe('GHL answering 5xx, stalling, rate limiting and rejecting a token', () => {
  let world: ChaosWorld;
  let compressor: NodeJS.Timeout | undefined;

  before(async () => {
    world = await startChaosWorld({ locationId: LOCATION_ID, token: TOKEN, mode: 'all', env: { COALESCE_WINDOW_MS: '100' } });
  });

  after(async () => {
    clearInterval(compressor);
    await world.close();
  });

  test('every event completes once, except the one with a real permanent failure, which dead-letters once', async () => {
    const { ghl, tp, bridge } = world;
    const emails = Array.from({ length: CONTACTS + 1 }, (_, i) => `chaos-faults-${i}@gmail.com`);
    for (const [i, email] of emails.entries()) {
      tp.addReview({ stars: i % 2 === 0 ? 1 : 2, title: `Broken ${i}`, text: 'Arrived damaged.', referralEmail: email, consumerName: `Consumer ${i}` });
    }
    const started = Date.now();

    // The victim's sync meets an expired token on its first write (it plans from the webhook's snapshot,
    // without a read); the rule is in place before its event can be delivered.
    const [victimEmail, ...otherEmails] = emails;
    const victim = ghl.userCreateContact(LOCATION_ID, { firstName: 'Expired', lastName: 'Token', email: victimEmail ?? '' }).id;
    ghl.injectFault({ fault: { kind: 'token-expired' }, method: 'PUT', path: new RegExp(`^/contacts/${victim}$`), times: 1 });
    ghl.injectFault({ fault: { kind: 'lost-response' }, method: 'POST', path: /^\/contacts\/[^/]+\/(notes|tasks)$/, probability: 0.1 });
    ghl.injectFault({ fault: { kind: 'status', status: 503 }, probability: 0.2 });
    ghl.injectFault({ fault: { kind: 'latency', ms: STALL_MS }, probability: 0.05 });

    // Backoff (full jitter from 2 s, doubling) would stretch this suite over minutes: long backoffs
    // are brought forward, which changes when a retry runs, not what it does or the attempts it burns.
    // A wait for a 429 is never shorter than its Retry-After, so none of those is touched.
    const sync = bridge.container.queues[QUEUE_NAMES.contactSync];
    compressor = setInterval(() => {
      void sync
        .getDelayed()
        .then((jobs) => Promise.all(jobs.filter((job) => job.attemptsMade > 0 && job.delay > RETRY_AFTER_MS + 500).map((job) => job.promote().catch(() => undefined))))
        .catch(() => undefined);
    }, 250);

    const contacts = otherEmails.map((email, i) => ghl.userCreateContact(LOCATION_ID, { firstName: `Fault${i}`, lastName: 'Chaos', email, assignedTo: 'user_owner_1' }).id);
    const done = () => contacts.filter((contactId) => ghl.store.listNotes(contactId).length > 0 && ghl.store.listTasks(contactId).length > 0).length;

    // A 429 storm on every call once the work is well under way.
    await waitFor(() => (done() >= CONTACTS / 4 ? true : undefined), 30_000, 'a quarter of the contacts to be done');
    const stormFrom = ghl.calls.length;
    const removeStorm = ghl.injectFault({ fault: { kind: 'rate-limit', retryAfterSeconds: RETRY_AFTER_MS / 1000 } });
    // The storm's length, part of the scenario (no result is awaited here).
    await sleep(STORM_MS);
    removeStorm();
    const stormCalls = ghl.calls.slice(stormFrom).filter((call) => call.status === 429).length;

    await waitFor(
      async () => (done() === CONTACTS && (await bridge.container.deadLetters.count()) >= 1 ? true : undefined),
      60_000,
      'every contact but the victim to be done and the victim to dead-letter',
    );
    const chaosMs = Date.now() - started;
    ghl.clearFaults();
    await world.drain(20_000);
    clearInterval(compressor);

    await waitFor(() => (world.alerts.length >= 1 ? true : undefined), 10_000, 'the alert for the permanent failure');
    const effects = world.effects(contacts);
    const deadLetters = await bridge.container.deadLetters.list(20);
    const stats = await world.runStats();
    const statusCount = (status: number) => ghl.calls.filter((call) => call.status === status).length;
    const durations = await bridge.container.metrics.upstreamDuration.get();
    const ghlDuration = (metricName: string, le?: number) =>
      durations.values.find((value) => value.metricName === metricName && value.labels.system === 'ghl' && (le === undefined || ('le' in value.labels && value.labels.le === le)))?.value ?? 0;
    const stalls = ghlDuration('ghl_bridge_upstream_duration_seconds_count') - ghlDuration('ghl_bridge_upstream_duration_seconds_bucket', 1);
    const waitValues = (await bridge.container.metrics.rateLimitWaits.get()).values;
    const waits = waitValues.reduce((sum, value) => sum + value.value, 0);
    const waitsBy = waitValues.map((value) => `${value.labels.scope}:${value.value}`).join(',');
    const recoveredCreates = bridge.logs.filter((line) => line.includes('from an interrupted run found')).length;
    console.log(
      `[chaos upstream-faults] contacts=${CONTACTS + 1} ghlCalls=${ghl.calls.length} answered503=${statusCount(503)} ` +
        `answered429=${statusCount(429)} (storm ${stormCalls}) answered401=${statusCount(401)} ` +
        `createsWithLostAnswerFoundAgain=${recoveredCreates} stalledCalls>1s=${stalls} rateLimitWaits=${waits} (${waitsBy}) extraJobRuns=${stats.extraRuns} ` +
        `duplicates=${effects.duplicateNotes + effects.duplicateTasks} lost=${effects.missingNotes + effects.missingTasks} ` +
        `deadLetters=${deadLetters.length} alerts=${world.alerts.length} chaosMs=${chaosMs} totalMs=${Date.now() - started}`,
    );

    assert.ok(statusCount(503) > 0 && stormCalls > 0 && statusCount(401) === 1, 'every fault really fired');
    assert.deepEqual(effects.contactsWithDuplicates, [], 'no note or task was made twice');
    assert.deepEqual(effects.contactsMissing, [], 'every other event completed');
    assert.equal(ghl.store.listNotes(victim).length, 0);
    assert.equal(ghl.store.listTasks(victim).length, 0);

    assert.equal(deadLetters.length, 1, `one dead letter, for the one permanent failure: ${deadLetters.map((entry) => entry.failedReason).join(' | ')}`);
    const [entry] = deadLetters;
    assert.equal(entry?.queue, 'contact-sync');
    assert.equal(z.object({ contactId: z.string() }).parse(entry?.data).contactId, victim);
    assert.match(entry?.failedReason ?? '', /401/);
    // Earlier attempts may have met a 503 (retried, as they should be); the 401 must end the job.
    const victimCalls = ghl.calls.filter((call) => call.path.startsWith(`/contacts/${victim}`));
    assert.equal(victimCalls.at(-1)?.status, 401, `a permanent failure is not retried: ${victimCalls.map((call) => `${call.method} ${call.status}`).join(', ')}`);
    assert.ok(waits > 0, 'the 429s were waited out');

    const jobAlerts = world.alerts.filter((alert) => alert.kind === 'job-failed');
    assert.deepEqual(
      jobAlerts.map((alert) => `${alert.queue}:${alert.status}:${alert.contactId}`),
      [`contact-sync:401:${victim}`],
      'exactly one alert, for the one real permanent failure (none for 5xx, stalls or 429s)',
    );
  });
});
