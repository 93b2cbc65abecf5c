/**
 * The admin API over real HTTP against the production container, a real Redis and the GHL and
 * Trustpilot simulators: the mapping, dry-run plans, failed jobs and dead letters, retry, replay,
 * and the one-contact sync. Roles (401/403/404) and request validation are in
 * test/unit/http/admin-routes.test.ts.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import { request } from 'undici';
import { DEFAULT_JOB_OPTIONS, QUEUE_NAMES } from '../../../src/queue/catalog.js';
import type { GhlSimulator } from '../../../src/sandbox/ghl/simulator.js';
import type { TrustpilotSimulator } from '../../../src/sandbox/trustpilot/simulator.js';
import type { TestBridge } from '../../helpers/bridge.js';
import { startWorld, type World } from '../../helpers/world.js';
import { waitFor } from '../../helpers/wait.js';
import { startRedisServer, type RedisServerHandle } from '../../helpers/redis-server.js';

const LOCATION_ID = 'locAdminApi0000000001';
const TOKEN = 'pit-admin-api-token-0001';
const ADMIN_TOKEN = 'admin-token-for-tests-0001';
const VIEWER_TOKEN = 'viewer-token-for-tests-0001';

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
  text: string;
}

/** A JSON object out of a reply, for reading fields in assertions. */
function obj(value: unknown): Record<string, unknown> {
  assert.ok(typeof value === 'object' && value !== null && !Array.isArray(value), `expected an object, got ${JSON.stringify(value)}`);
  return Object.fromEntries(Object.entries(value));
}

function list(value: unknown): Record<string, unknown>[] {
  assert.ok(Array.isArray(value), `expected an array, got ${JSON.stringify(value)}`);
  return value.map(obj);
}

async function call(base: string, method: 'GET' | 'POST', path: string, options: { token?: string; body?: unknown } = {}): Promise<Reply> {
  const headers: Record<string, string> = {};
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const response = await request(`${base}${path}`, { method, headers, ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }) });
  const text = await response.body.text();
  return { status: response.statusCode, headers: response.headers, body: text ? (JSON.parse(text) as unknown) : undefined, text };
}

describe('admin API', () => {
  let redis: RedisServerHandle;
  let ghl: GhlSimulator;
  let tp: TrustpilotSimulator;
  let bridge: TestBridge;
  let world: World;

  before(async () => {
    redis = await startRedisServer();
    // No GHL webhook URL: contacts created here are synced only when a test asks for it.
    world = await startWorld({ redisUrl: redis.url, locationId: LOCATION_ID, token: TOKEN, ghlWebhooks: false, env: { ADMIN_TOKEN, VIEWER_TOKEN, LOG_LEVEL: 'info' } });
    ({ ghl, tp, bridge } = world);
    tp.addBusinessUnit({ domain: 'admin-widgets.com', displayName: 'Admin Widgets', trustScore: 3.9, stars: 4, totalReviews: 87 });
  });

  afterEach(() => ghl.clearFaults());

  after(async () => {
    await world.close();
    await redis.close();
  });

  const admin = (method: 'GET' | 'POST', path: string, body?: unknown) => call(bridge.url, method, path, { token: ADMIN_TOKEN, ...(body === undefined ? {} : { body }) });
  const ghlWrites = (from: number) =>
    ghl.calls.slice(from).filter((item) => item.method !== 'GET' && !item.path.endsWith('/search')).map((item) => `${item.method} ${item.path}`);

  async function newContact(name: string): Promise<string> {
    return ghl.userCreateContact(LOCATION_ID, { firstName: name, email: `${name.toLowerCase()}@example.com` }).id;
  }

  async function queueSync(contactId: string): Promise<void> {
    await bridge.container.queues[QUEUE_NAMES.contactSync].add(
      'sync',
      { locationId: LOCATION_ID, contactId, reason: 'manual', triggeredAt: Date.now() },
      DEFAULT_JOB_OPTIONS[QUEUE_NAMES.contactSync],
    );
  }

  /** Makes the contact's read fail with 404 (a permanent error) until the faults are cleared. */
  function contactGone(contactId: string): void {
    ghl.injectFault({ fault: { kind: 'status', status: 404, body: { statusCode: 404, message: 'Contact not found' } }, method: 'GET', path: new RegExp(`^/contacts/${contactId}$`) });
  }

  async function deadLetters(): Promise<Record<string, unknown>[]> {
    const reply = await admin('GET', '/admin/dead-letter');
    assert.equal(reply.status, 200);
    return list(reply.body);
  }

  async function deadLetterOf(contactId: string): Promise<Record<string, unknown>> {
    return waitFor(async () => (await deadLetters()).find((entry) => JSON.stringify(entry.data).includes(contactId)), 20_000, `a dead letter for ${contactId}`);
  }

  async function completedSyncOf(contactId: string, jobId?: string) {
    return waitFor(
      async () =>
        (await bridge.container.queues[QUEUE_NAMES.contactSync].getJobs(['completed'])).find(
          (job) => job.data.contactId === contactId && (jobId === undefined || job.id === jobId),
        ),
      20_000,
      `a completed sync of ${contactId}`,
    );
  }

  test('GET /admin/mapping: the active mapping', async () => {
    const reply = await call(bridge.url, 'GET', '/admin/mapping', { token: VIEWER_TOKEN });
    assert.equal(reply.status, 200);
    assert.deepEqual(reply.body, JSON.parse(JSON.stringify(bridge.container.mapping)));
  });

  describe('one-contact sync', () => {
    let contactId = '';

    before(() => {
      tp.addReview({ stars: 2, title: 'Slow support', text: 'Took a week to answer my mail.', referralEmail: 'ada@admin-widgets.com', consumerName: 'Ada L.' });
      contactId = ghl.userCreateContact(LOCATION_ID, { firstName: 'Ada', lastName: 'Lovelace', email: 'ada@admin-widgets.com', assignedTo: 'user_owner_7' }).id;
    });

    test('dry run: returns the plan, records it in /admin/planned, writes nothing to GHL', async () => {
      const from = ghl.calls.length;
      const reply = await admin('POST', `/admin/contacts/${contactId}/sync?locationId=${LOCATION_ID}&dryRun=true`);
      assert.equal(reply.status, 200, reply.text);
      const body = obj(reply.body);
      assert.equal(body.outcome, 'synced');
      const plan = list(body.plan);
      const kinds = plan.map((step) => step.kind);
      for (const kind of ['set-fields', 'create-note', 'add-tags', 'create-task']) assert.ok(kinds.includes(kind), `plan has ${kind}: ${kinds.join(', ')}`);
      assert.equal(body.writes, plan.length);
      assert.deepEqual(ghlWrites(from), [], 'GHL saw no write');
      assert.ok(ghl.calls.slice(from).some((item) => item.method === 'GET' && item.path === `/contacts/${contactId}`), 'the contact was read');
      assert.equal(ghl.store.listNotes(contactId).length, 0);

      const planned = await call(bridge.url, 'GET', '/admin/planned?limit=50', { token: VIEWER_TOKEN });
      assert.equal(planned.status, 200);
      const mine = list(planned.body).filter((entry) => entry.contactId === contactId);
      assert.equal(mine.length, plan.length);
      for (const entry of mine) {
        assert.deepEqual(Object.keys(entry).sort(), ['at', 'body', 'contactId', 'locationId', 'method', 'path', 'reason', 'system']);
        assert.equal(entry.locationId, LOCATION_ID);
        assert.equal(entry.system, 'ghl');
      }
      assert.ok(mine.some((entry) => entry.method === 'POST' && entry.path === `/contacts/${contactId}/notes`));
      const times = list(planned.body).map((entry) => String(entry.at));
      assert.deepEqual(times, [...times].sort().reverse(), 'newest first');
      const one = await call(bridge.url, 'GET', '/admin/planned?limit=1', { token: VIEWER_TOKEN });
      assert.equal(list(one.body).length, 1);
    });

    test('without dryRun the same sync writes to GHL', async () => {
      const from = ghl.calls.length;
      const reply = await admin('POST', `/admin/contacts/${contactId}/sync?locationId=${LOCATION_ID}`);
      assert.equal(reply.status, 200, reply.text);
      const body = obj(reply.body);
      assert.equal(body.outcome, 'synced');
      assert.equal(body.plan, undefined);
      assert.ok(Number(body.writes) >= 4);
      const writes = ghlWrites(from);
      assert.ok(writes.includes(`POST /contacts/${contactId}/notes`), writes.join(', '));
      assert.equal(ghl.store.listNotes(contactId).length, 1);
      assert.equal(ghl.store.listTasks(contactId).length, 1);
    });

    test('a location the bridge does not serve: 404', async () => {
      const reply = await admin('POST', `/admin/contacts/${contactId}/sync?locationId=locSomebodyElse000001&dryRun=true`);
      assert.equal(reply.status, 404);
      assert.equal(obj(reply.body).code, 'LOCATION_NOT_SERVED');
    });

    test('an upstream refusal: 502 naming the call, never a token', async () => {
      ghl.injectFault({ fault: { kind: 'status', status: 403, body: { statusCode: 403, message: 'The token does not have access to this location.' } }, method: 'GET', path: new RegExp(`^/contacts/${contactId}$`), times: 1 });
      const reply = await admin('POST', `/admin/contacts/${contactId}/sync?locationId=${LOCATION_ID}&dryRun=true`);
      assert.equal(reply.status, 502, reply.text);
      const body = obj(reply.body);
      assert.equal(body.code, 'UPSTREAM_ERROR');
      assert.deepEqual({ ...obj(body.upstream), requestId: undefined }, { system: 'ghl', code: 'UPSTREAM_HTTP', status: 403, requestId: undefined });
      assert.ok(!reply.text.includes(TOKEN));
    });
  });

  describe('failed jobs and dead letters', () => {
    test('GET /admin/jobs?state=failed lists the failed job and its dead letter', async () => {
      const contactId = await newContact('Failing');
      contactGone(contactId);
      await queueSync(contactId);
      const letter = await deadLetterOf(contactId);
      assert.equal(letter.queue, QUEUE_NAMES.contactSync);
      assert.match(String(letter.failedReason), /^ghl:404/);
      assert.equal(letter.id, `dl-${QUEUE_NAMES.contactSync}-${String(letter.jobId)}`);

      const failed = await waitFor(async () => {
        const reply = await call(bridge.url, 'GET', '/admin/jobs?state=failed', { token: VIEWER_TOKEN });
        assert.equal(reply.status, 200);
        const jobs = list(reply.body).filter((job) => obj(job.data).contactId === contactId);
        return jobs.length === 2 ? jobs : undefined;
      }, 10_000, 'the failed job and its dead letter');
      const source = failed.find((job) => job.queue === QUEUE_NAMES.contactSync);
      const dead = failed.find((job) => job.queue === QUEUE_NAMES.deadLetter);
      assert.ok(source && dead, JSON.stringify(failed));
      assert.equal(source.state, 'failed');
      assert.equal(source.id, letter.jobId);
      assert.match(String(source.failedReason), /ghl:404/);
      assert.equal(obj(source.data).locationId, LOCATION_ID);
      assert.deepEqual(dead.deadLetter, { queue: QUEUE_NAMES.contactSync, jobId: letter.jobId });
      assert.equal(dead.id, letter.id);

      const bySource = list((await admin('GET', `/admin/jobs?state=failed&queue=${QUEUE_NAMES.contactSync}`)).body);
      assert.ok(bySource.some((job) => job.id === letter.id), 'dead letters of the source queue included');
      const onlyDead = list((await admin('GET', `/admin/jobs?state=failed&queue=${QUEUE_NAMES.deadLetter}`)).body);
      assert.ok(onlyDead.length > 0 && onlyDead.every((job) => job.queue === QUEUE_NAMES.deadLetter));
      const completed = list((await admin('GET', '/admin/jobs?state=completed')).body);
      assert.ok(!completed.some((job) => job.queue === QUEUE_NAMES.deadLetter), 'dead letters are failures only');
    });

    test('POST /admin/jobs/:id/retry re-runs a failed job and drops its dead letter', async () => {
      const contactId = await newContact('Retried');
      contactGone(contactId);
      await queueSync(contactId);
      const letter = await deadLetterOf(contactId);
      const jobId = String(letter.jobId);
      // The dead letter is written while the job is still finishing; retry needs it failed.
      const queue = bridge.container.queues[QUEUE_NAMES.contactSync];
      await waitFor(async () => ((await queue.getJobState(jobId)) === 'failed' ? true : undefined), 10_000, `job ${jobId} to be failed`);
      ghl.clearFaults();

      const reply = await admin('POST', `/admin/jobs/${jobId}/retry?queue=${QUEUE_NAMES.contactSync}`);
      assert.equal(reply.status, 200, reply.text);
      assert.deepEqual(reply.body, { id: jobId, queue: QUEUE_NAMES.contactSync, state: 'waiting', deadLetterRemoved: true });
      const job = await completedSyncOf(contactId, jobId);
      assert.equal(job.returnvalue?.outcome, 'synced');
      assert.ok(!(await deadLetters()).some((entry) => entry.id === letter.id), 'its dead letter is gone');

      const again = await admin('POST', `/admin/jobs/${jobId}/retry`);
      assert.equal(again.status, 409);
      assert.equal(obj(again.body).code, 'JOB_NOT_FAILED');
      const unknown = await admin('POST', `/admin/jobs/no-such-job/retry?queue=${QUEUE_NAMES.contactSync}`);
      assert.equal(unknown.status, 404);
      assert.equal(obj(unknown.body).code, 'JOB_NOT_FOUND');
    });

    test('POST /admin/dead-letter/replay re-runs dead letters as new jobs, then removes them', async () => {
      const first = await newContact('ReplayOne');
      const second = await newContact('ReplayTwo');
      contactGone(first);
      contactGone(second);
      await queueSync(first);
      await queueSync(second);
      const letterOne = await deadLetterOf(first);
      const letterTwo = await deadLetterOf(second);
      ghl.clearFaults();

      const nothing = await admin('POST', '/admin/dead-letter/replay', {});
      assert.equal(nothing.status, 400);
      assert.equal(obj(nothing.body).code, 'NOTHING_SELECTED');
      const strict = await admin('POST', '/admin/dead-letter/replay', { all: true, extra: 1 });
      assert.equal(strict.status, 400, 'unknown body fields are refused');

      const one = obj((await admin('POST', '/admin/dead-letter/replay', { ids: [String(letterOne.id), 'dl-contact-sync-nope'] })).body);
      assert.equal(one.replayed, 1);
      assert.deepEqual(one.ids, [letterOne.id]);
      assert.deepEqual(one.missing, ['dl-contact-sync-nope']);
      const [replayedJob] = list(one.jobs);
      assert.equal(replayedJob?.queue, QUEUE_NAMES.contactSync);
      assert.notEqual(replayedJob?.jobId, letterOne.jobId, 'a new job id, not swallowed by the old failed job');
      const job = await completedSyncOf(first, String(replayedJob?.jobId));
      assert.equal(job.returnvalue?.outcome, 'synced');
      assert.equal(job.attemptsMade, 1, 'fresh attempts');

      const rest = obj((await admin('POST', '/admin/dead-letter/replay', { all: true, queue: QUEUE_NAMES.contactSync })).body);
      assert.ok(list(rest.jobs).some((item) => item.deadLetterId === letterTwo.id));
      await completedSyncOf(second);
      assert.deepEqual(await deadLetters(), [], 'the dead-letter list is empty');
      assert.equal(await bridge.container.deadLetters.count(), 0);

      const empty = obj((await admin('POST', '/admin/dead-letter/replay', { all: true })).body);
      assert.equal(empty.replayed, 0);
    });
  });
});
