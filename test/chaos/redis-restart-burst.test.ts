/**
 * "Nothing lost" across a Redis restart (AOF on): a burst of signed GHL webhooks is sent to the bridge
 * while Redis is shut down gracefully and started again on the same data. While Redis is away ingest
 * answers 429 (GHL redelivers on 429) and never 5xx; it recovers without help; every event it
 * answered 200 has its job in Redis afterwards and its effect in GHL.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Agent, request } from 'undici';
import { z } from 'zod';
import { QUEUE_NAMES } from '../../src/queue/catalog.js';
import { readPatiently, waitFor } from '../helpers/wait.js';
import { startChaosWorld, type ChaosWorld } from '../helpers/chaos-world.js';
import { createTestSigner, signedEvent, type SignedEvent } from '../helpers/ghl-signing.js';

const LOCATION_ID = 'locChaosRedis00000001';
const TOKEN = 'pit-chaos-redis-000001';
const CONTACTS = 150;
const SENDERS = 8;
/** 429 answers to see before Redis comes back (about a second of outage). */
const REFUSALS_WHILE_DOWN = 60;
const SURVEY_URL = 'https://www.opinionstage.com/page/chaos-survey';
const SURVEY_FIELD = 'contact.opinionstage_survey_link';

const ReplySchema = z.looseObject({ status: z.string(), id: z.string().nullable().optional() });

interface Outcome {
  contactId: string;
  /** The job id from the 200 answer. */
  id?: string;
  status?: string;
  acceptedAt?: number;
  answers: number[];
}

describe('Redis restarted in the middle of a webhook burst', () => {
  let world: ChaosWorld;
  const agent = new Agent({ connections: SENDERS });

  before(async () => {
    const signer = createTestSigner();
    world = await startChaosWorld({
      locationId: LOCATION_ID,
      token: TOKEN,
      mode: 'all',
      ghlWebhooks: false,
      ghl: { signingKeys: { ed25519PrivateKeyPem: signer.ed25519PrivateKeyPem, rsaPrivateKeyPem: signer.rsaPrivateKeyPem } },
      env: { OPINIONSTAGE_SURVEY_URL: SURVEY_URL, COALESCE_WINDOW_MS: '100' },
    });
  });

  after(async () => {
    await agent.close();
    await world.close();
  });

  async function post(event: SignedEvent): Promise<{ status: number; body: unknown }> {
    const response = await request(`${world.bridge.url}/webhooks/ghl`, { method: 'POST', body: event.body, headers: event.headers, dispatcher: agent });
    return { status: response.statusCode, body: await response.body.json() };
  }

  test('every event answered 200 survives, ingest answers 429 meanwhile and recovers alone', async () => {
    const { ghl, redis } = world;
    // The contacts exist in GHL; the events about them come from this test, signed as GHL signs them.
    const contacts = Array.from({ length: CONTACTS }, (_, i) =>
      ghl.userCreateContact(LOCATION_ID, { firstName: `Redis${i}`, lastName: 'Chaos', email: `chaos-redis-${i}@gmail.com` }),
    );
    const events: { event: SignedEvent; outcome: Outcome }[] = contacts.flatMap((contact) =>
      (['ContactCreate', 'ContactUpdate'] as const).map((type) => ({
        event: signedEvent(type, { locationId: LOCATION_ID, id: contact.id, email: contact.email, firstName: contact.firstName, lastName: contact.lastName }, 'ed25519'),
        outcome: { contactId: contact.id, answers: [] },
      })),
    );

    let accepted = 0;
    let restart: Promise<void> | undefined;
    /** Set when the restart begins, settled once Redis is away: senders wait for it before taking the next event. */
    let redisAway: Promise<void> | undefined;
    let restartStartedAt = 0;
    let restartEndedAt = 0;
    const unexpected: string[] = [];
    const slowest429 = { ms: 0 };
    const started = Date.now();

    let live429 = 0;
    // redis.restart() in two halves, so Redis stays away long enough for the burst to feel it (as a
    // restart with a large AOF would): graceful SHUTDOWN, wait until senders have been refused, start.
    async function restartRedis(): Promise<void> {
      restartStartedAt = Date.now();
      // On a cluster: SIGKILL the master that holds the ingest queue (then restarted on its AOF).
      redisAway = redis.stop(`{${world.bridge.config.REDIS_PREFIX}:${QUEUE_NAMES.ghlWebhooks}}`);
      await redisAway;
      await waitFor(() => (live429 >= REFUSALS_WHILE_DOWN ? true : undefined), 45_000, 'senders to be refused while Redis is away');
      await redis.start();
      restartEndedAt = Date.now();
    }

    /** One delivery attempt: 'done' when it needs no redelivery, undefined after a 429. */
    async function attempt(item: (typeof events)[number]): Promise<'done' | undefined> {
      const sentAt = Date.now();
      let answer: { status: number; body: unknown };
      try {
        answer = await post(item.event);
      } catch (error) {
        unexpected.push(`transport: ${error instanceof Error ? error.message : String(error)}`);
        return 'done';
      }
      item.outcome.answers.push(answer.status);
      if (answer.status === 200) {
        const reply = ReplySchema.parse(answer.body);
        item.outcome.status = reply.status;
        item.outcome.id = reply.id ?? undefined;
        item.outcome.acceptedAt = Date.now();
        accepted += 1;
        // Mid-burst: a third of the events are in, the rest arrive while Redis restarts.
        if (restart === undefined && accepted >= events.length / 3) restart = restartRedis();
        return 'done';
      }
      if (answer.status !== 429) {
        unexpected.push(`${answer.status}: ${JSON.stringify(answer.body).slice(0, 200)}`);
        return 'done';
      }
      slowest429.ms = Math.max(slowest429.ms, Date.now() - sentAt);
      live429 += 1;
      return undefined;
    }

    async function deliver(item: (typeof events)[number]): Promise<void> {
      // GHL redelivers the same bytes later; here every 100 ms (sooner than Retry-After), to keep the suite short.
      await waitFor(() => attempt(item), 60_000, 'the event to be accepted', 100).catch(() => {
        unexpected.push(`not accepted within 60 s: ${item.outcome.answers.join(',')}`);
      });
    }

    let next = 0;
    await Promise.all(
      Array.from({ length: SENDERS }, async () => {
        while (next < events.length) {
          // The rest of the burst arrives while Redis is away, however fast the first third went in:
          // otherwise a quick bridge could take every event before the stop completes and see no outage.
          if (redisAway) await redisAway;
          const item = events[next];
          next += 1;
          if (item) await deliver(item);
        }
      }),
    );
    await restart;
    const burstMs = Date.now() - started;

    const outcomes = events.map((item) => item.outcome);
    const answered429 = outcomes.reduce((sum, outcome) => sum + outcome.answers.filter((status) => status === 429).length, 0);
    const eventsThat429d = outcomes.filter((outcome) => outcome.answers.includes(429)).length;
    const acceptedBeforeRestart = outcomes.filter((outcome) => outcome.acceptedAt !== undefined && outcome.acceptedAt <= restartStartedAt).length;
    const firstAfterRestart = Math.min(...outcomes.map((outcome) => outcome.acceptedAt ?? Number.POSITIVE_INFINITY).filter((at) => at > restartEndedAt));
    const duplicates = outcomes.filter((outcome) => outcome.status === 'duplicate').length;

    assert.deepEqual(unexpected, [], 'ingest answered only 200 or 429 (never 5xx, never hung)');
    assert.ok(restart, 'Redis was restarted during the burst');
    assert.ok(answered429 >= REFUSALS_WHILE_DOWN, 'ingest answered 429 while Redis was away');
    assert.ok(outcomes.every((outcome) => outcome.id !== undefined), 'every event was eventually answered 200 with a job id');

    // Every 200 answer is a stored job, including those answered just before Redis went down.
    const queue = world.bridge.container.queues[QUEUE_NAMES.ghlWebhooks];
    // The pump moves what ingest accepted into the queue; a job once moved is kept after it completes.
    const missingJobs = (): Promise<string[]> =>
      readPatiently(async () => {
        const missing: string[] = [];
        for (const outcome of outcomes) if (outcome.id === undefined || !(await queue.getJob(outcome.id))) missing.push(outcome.id ?? '(no id)');
        return missing;
      }, 'the jobs answered 200');
    // A pump whose read was answered as Redis went down never got those entries: they wait in its
    // pending list, and it reads them once it has reconnected (src/queue/inbox-pump.ts). The deadline
    // covers the fallback too, a claim pass after WORKER_LOCK_DURATION (30 s here) idle, the passes
    // every half of that: up to 45 s, so 60.
    await waitFor(async () => ((await missingJobs()).length === 0 ? true : undefined), 60_000, 'every delivery answered 200 to become a job').catch(() => undefined);
    const jobsMissing = await missingJobs();
    assert.deepEqual(jobsMissing, [], 'every job answered 200 is in Redis after the restart');

    // Jobs that failed while Redis was away retry with full-jitter exponential backoff (src/queue/backoff.ts);
    // on a loaded box the outage is longer and the last backoff with it, hence a deadline well above a typical drain.
    await world.drain(120_000);
    const surveyField = ghl.store.findCustomField(LOCATION_ID, SURVEY_FIELD);
    assert.ok(surveyField, 'the survey link field exists');
    const withoutEffect = contacts.filter((contact) => {
      const value = ghl.store.getContact(contact.id)?.customFields?.find((field) => field.id === surveyField.id)?.value;
      return typeof value !== 'string' || !value.includes(`contact_id=${contact.id}`);
    });
    const deadLetters = await world.deadLetters();
    const stats = await world.runStats();
    console.log(
      `[chaos redis-restart] events=${events.length} answered200=${outcomes.length} (accepted=${outcomes.length - duplicates} duplicate=${duplicates}) ` +
        `acceptedBeforeRestart=${acceptedBeforeRestart} answered429=${answered429} eventsThatGot429=${eventsThat429d} slowest429Ms=${slowest429.ms} ` +
        `redisDownMs=${restartEndedAt - restartStartedAt} firstAcceptAfterRedisBackMs=${Number.isFinite(firstAfterRestart) ? firstAfterRestart - restartEndedAt : -1} ` +
        `burstMs=${burstMs} jobsMissing=${jobsMissing.length} effectsMissing=${withoutEffect.length} extraJobRuns=${stats.extraRuns} deadLetters=${deadLetters.length} alerts=${world.alerts.length}`,
    );
    assert.deepEqual(withoutEffect.map((contact) => contact.id), [], 'every accepted event had its effect');
    assert.deepEqual(deadLetters.map((entry) => `${entry.queue}:${entry.failedReason}`), [], 'the outage put nothing in the dead letters');
    assert.deepEqual(world.alerts.map((alert) => alert.text), [], 'no alert was raised');

    // Ingest is healthy again without any help.
    const fresh = signedEvent('ContactUpdate', { locationId: LOCATION_ID, id: contacts[0]?.id, email: contacts[0]?.email }, 'ed25519');
    const answer = await waitFor(async () => {
      const reply = await post(fresh);
      return reply.status === 200 ? reply : undefined;
    }, 10_000, 'ingest to accept again');
    assert.equal(ReplySchema.parse(answer.body).status, 'accepted');
  });
});
