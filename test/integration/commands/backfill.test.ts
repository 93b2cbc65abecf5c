/**
 * `ghl-bridge backfill --location ID` as a child process against a real Redis and the GHL simulator:
 * one coalesced sync per contact, progress per page, a saved cursor that a second run (or a run
 * after a crash) resumes from, `--restart`, and listing calls held to GHL_RATE_LIMIT.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { loadConfig } from '../../../src/config/env.js';
import { backfillCursorKey, BackfillCursorSchema, runBackfill } from '../../../src/lifecycle/commands/backfill.js';
import { createLogger } from '../../../src/observability/logger.js';
import { ContactSyncJobSchema, QUEUE_NAMES } from '../../../src/queue/catalog.js';
import { startGhlSimulator, type GhlSimulator } from '../../../src/sandbox/ghl/simulator.js';
import { startRedisServer, type RedisServerHandle } from '../../helpers/redis-server.js';
import { runCli } from './run-cli.js';

const LOCATION_ID = 'locBackfillCli0000001';
const TOKEN = 'pit-backfill-cli-token-01';
const SEEDED = 250;
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

describe('ghl-bridge backfill', () => {
  let redis: RedisServerHandle;
  let admin: Redis;
  let ghl: GhlSimulator;
  const contactIds: string[] = [];
  const queues: Queue[] = [];

  before(async () => {
    redis = await startRedisServer();
    admin = new Redis(redis.url, { lazyConnect: true });
    await admin.connect();
    // GHL's headers can only tighten GHL_RATE_LIMIT: a 1 s simulator window leaves the 1.5 s test limit as it is.
    ghl = await startGhlSimulator({ locations: [{ id: LOCATION_ID, token: TOKEN }], rateLimit: { max: 100, windowMs: 1_000 } });
    for (let i = 0; i < SEEDED; i += 1) contactIds.push(ghl.userCreateContact(LOCATION_ID, { firstName: `Backfill${i}`, email: `backfill${i}@example.com` }).id);
  });

  after(async () => {
    for (const queue of queues) await queue.close();
    await ghl.close();
    admin.disconnect();
    await redis.close();
  });

  /** A fresh key prefix: its own queue and cursor. COALESCE_WINDOW_MS keeps every queued sync delayed. */
  function envFor(extra: Record<string, string> = {}): Record<string, string> {
    return {
      REDIS_URL: redis.url,
      REDIS_PREFIX: `backfill-${randomBytes(4).toString('hex')}`,
      GHL_API_BASE_URL: ghl.url,
      GHL_PRIVATE_TOKEN: TOKEN,
      GHL_LOCATION_ID: LOCATION_ID,
      COALESCE_WINDOW_MS: '600000',
      LOG_LEVEL: 'warn',
      ...extra,
    };
  }

  function syncQueue(prefix: string): Queue {
    const queue = new Queue(QUEUE_NAMES.contactSync, { connection: { url: redis.url }, prefix });
    queues.push(queue);
    return queue;
  }

  async function queuedSyncs(queue: Queue): Promise<{ jobs: number; contacts: Set<string> }> {
    const jobs = await queue.getJobs(['delayed', 'waiting', 'prioritized', 'active']);
    const data = jobs.map((job) => ContactSyncJobSchema.parse(job.data));
    for (const item of data) {
      assert.equal(item.reason, 'backfill');
      assert.equal(item.locationId, LOCATION_ID);
    }
    return { jobs: jobs.length, contacts: new Set(data.map((item) => item.contactId)) };
  }

  const listCalls = (since: number) => ghl.calls.slice(since).filter((call) => call.method === 'GET' && call.path === '/contacts/');

  test('bad usage exits 2; a location the bridge does not serve exits 1 without calling GHL', async () => {
    const env = envFor();
    const usage = await runCli(['backfill'], env);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /--location is required/);
    assert.match(usage.stderr, /usage: ghl-bridge backfill --location/);

    const before = ghl.calls.length;
    const other = await runCli(['backfill', '--location', 'locNotOurs0000000001'], env);
    assert.equal(other.code, 1);
    assert.match(other.stderr, /location locNotOurs0000000001 is not served by this bridge/);
    assert.equal(ghl.calls.length, before);
    assert.equal((await queuedSyncs(syncQueue(env.REDIS_PREFIX ?? ''))).jobs, 0);
  });

  test('queues one sync per contact with a line per page; a second run resumes at the end; --restart is deduplicated', async () => {
    const env = envFor();
    const prefix = env.REDIS_PREFIX ?? '';
    const queue = syncQueue(prefix);

    const callsBefore = ghl.calls.length;
    const first = await runCli(['backfill', '--location', LOCATION_ID], env);
    assert.equal(first.code, 0, first.stderr);
    assert.deepEqual(first.lines, [
      `backfill ${LOCATION_ID}: 100/${SEEDED} contacts queued`,
      `backfill ${LOCATION_ID}: 200/${SEEDED} contacts queued`,
      `backfill ${LOCATION_ID}: ${SEEDED}/${SEEDED} contacts queued`,
      `backfill ${LOCATION_ID}: done: ${SEEDED} contacts queued`,
    ]);
    const afterFirst = await queuedSyncs(queue);
    assert.equal(afterFirst.jobs, SEEDED);
    assert.deepEqual([...afterFirst.contacts].sort(), [...contactIds].sort());
    const firstCalls = listCalls(callsBefore);
    assert.equal(firstCalls.length, 3);
    assert.ok(firstCalls.every((call) => call.query.limit === '100' && call.query.locationId === LOCATION_ID));
    const cursor = BackfillCursorSchema.parse(JSON.parse((await admin.get(backfillCursorKey(prefix, LOCATION_ID))) ?? 'null'));
    assert.equal(cursor.queued, SEEDED);

    // Nothing new: one empty page after the saved cursor, nothing queued.
    const secondBefore = ghl.calls.length;
    const second = await runCli(['backfill', '--location', LOCATION_ID], env);
    assert.equal(second.code, 0, second.stderr);
    assert.equal(second.lines.at(-1), `backfill ${LOCATION_ID}: done: 0 contacts queued (resumed after ${SEEDED} queued before; --restart queues every contact again)`);
    const secondCalls = listCalls(secondBefore);
    assert.equal(secondCalls.length, 1);
    assert.equal(secondCalls[0]?.query.startAfterId, cursor.startAfterId);

    // A contact added since: only it is queued.
    const added = ghl.userCreateContact(LOCATION_ID, { firstName: 'Late', email: 'late@example.com' });
    contactIds.push(added.id);
    const third = await runCli(['backfill', '--location', LOCATION_ID], env);
    assert.equal(third.code, 0, third.stderr);
    assert.match(third.lines.at(-1) ?? '', /: done: 1 contact queued \(resumed after 250 queued before/);
    assert.ok((await queuedSyncs(queue)).contacts.has(added.id));

    // --restart asks again for every contact; the syncs still waiting absorb the repeats.
    const restarted = await runCli(['backfill', '--location', LOCATION_ID, '--restart'], env);
    assert.equal(restarted.code, 0, restarted.stderr);
    assert.equal(restarted.lines.at(-1), `backfill ${LOCATION_ID}: done: ${contactIds.length} contacts queued`);
    const afterRestart = await queuedSyncs(queue);
    assert.equal(afterRestart.jobs, contactIds.length, 'one waiting sync per contact, not two');
    assert.equal(afterRestart.contacts.size, contactIds.length);
  });

  test('killed mid-run, the next run resumes after the last saved page; listing calls keep to GHL_RATE_LIMIT', async () => {
    // One listing call per 1.5 s: the run waits for the budget before each page.
    const env = envFor({ GHL_RATE_LIMIT: '1/1.5' });
    const prefix = env.REDIS_PREFIX ?? '';
    const queue = syncQueue(prefix);
    const total = contactIds.length;

    const killedRun = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', 'backfill', '--location', LOCATION_ID], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const exited = new Promise<number | null>((resolve) => killedRun.on('close', (code, signal) => resolve(signal === null ? code : -1)));
    await new Promise<void>((resolve, reject) => {
      // Catches a hang only: the CLI's start through tsx alone takes several seconds on busy cores.
      const timer = setTimeout(() => reject(new Error(`no first page within 90 s: ${output}`)), 90_000);
      killedRun.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString('utf8');
        if (output.includes(`100/${total} contacts queued`)) {
          clearTimeout(timer);
          killedRun.kill('SIGKILL');
          resolve();
        }
      });
    });
    assert.equal(await exited, -1, 'killed before it finished');
    assert.ok(!output.includes('200/'), output);

    const callsBefore = ghl.calls.length;
    const resumed = await runCli(['backfill', '--location', LOCATION_ID], env);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.deepEqual(resumed.lines, [
      `backfill ${LOCATION_ID}: 200/${total} contacts queued`,
      `backfill ${LOCATION_ID}: ${total}/${total} contacts queued`,
      `backfill ${LOCATION_ID}: done: ${total - 100} contacts queued (resumed after 100 queued before; --restart queues every contact again)`,
    ]);
    const queued = await queuedSyncs(queue);
    assert.equal(queued.contacts.size, total);
    assert.equal(queued.jobs, total);

    const calls = listCalls(callsBefore);
    assert.equal(calls.length, 2);
    const [firstCall, secondCall] = calls;
    assert.ok(firstCall && secondCall);
    // The budget window was still holding the killed run's call, and then this run's first one.
    assert.ok(secondCall.at - firstCall.at >= 1_400, `listing calls ${secondCall.at - firstCall.at} ms apart`);
  });

  test('on a terminal: one bar redrawn in place, then the summary', async () => {
    const env = envFor();
    const config = loadConfig(env);
    const writes: string[] = [];
    const lines: string[] = [];
    const errors: string[] = [];
    const code = await runBackfill(['--location', LOCATION_ID], config, createLogger({ level: 'silent' }), {
      tty: true,
      write: (text) => void writes.push(text),
      out: (line) => void lines.push(line),
      err: (line) => void errors.push(line),
    });
    assert.equal(code, 0, errors.join('\n'));
    const total = contactIds.length;
    assert.equal(writes.length, 4, 'three redraws and the closing newline');
    assert.ok(writes.slice(0, 3).every((text) => text.startsWith('\r') && !text.includes('\n')));
    assert.match(writes[2] ?? '', new RegExp(`^\\rbackfill ${LOCATION_ID} \\[#{30}\\] ${total}/${total} contacts queued`));
    assert.equal(writes[3], '\n');
    assert.deepEqual(lines, [`backfill ${LOCATION_ID}: done: ${total} contacts queued`]);
    assert.equal((await queuedSyncs(syncQueue(config.REDIS_PREFIX))).contacts.size, total);
  });
});
