/**
 * `ghl-bridge replay` as a child process against a real Redis, with real dead letters made by a
 * worker bridge and the GHL simulator: the replayed jobs run again and succeed.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DEFAULT_JOB_OPTIONS, DeadLetterJobSchema, QUEUE_NAMES } from '../../../src/queue/catalog.js';
import { startGhlSimulator, type GhlSimulator } from '../../../src/sandbox/ghl/simulator.js';
import { simulatorEnv, startTestBridge, type TestBridge } from '../../helpers/bridge.js';
import { waitFor } from '../../helpers/wait.js';
import { freePort, startRedisServer, type RedisServerHandle } from '../../helpers/redis-server.js';
import { runCli } from './run-cli.js';

const LOCATION_ID = 'locReplayCli000000001';
const TOKEN = 'pit-replay-cli-token-001';

describe('ghl-bridge replay', () => {
  let redis: RedisServerHandle;
  let ghl: GhlSimulator;
  let bridge: TestBridge;
  let env: Record<string, string>;

  before(async () => {
    redis = await startRedisServer();
    ghl = await startGhlSimulator({ locations: [{ id: LOCATION_ID, token: TOKEN }] });
    bridge = await startTestBridge({ mode: 'worker', redisUrl: redis.url, env: simulatorEnv(ghl, LOCATION_ID, TOKEN) });
    env = { REDIS_URL: redis.url, REDIS_PREFIX: bridge.config.REDIS_PREFIX, LOG_LEVEL: 'warn' };
  });

  after(async () => {
    await bridge.close();
    await ghl.close();
    await redis.close();
  });

  const deadLetterQueue = () => bridge.container.queues[QUEUE_NAMES.deadLetter];

  /** A contact whose sync fails for good (GHL answers 404 for it) and lands in the dead letters. */
  async function deadLetteredContact(name: string): Promise<{ contactId: string; deadLetterId: string }> {
    const contactId = ghl.userCreateContact(LOCATION_ID, { firstName: name, email: `${name.toLowerCase()}@example.com` }).id;
    ghl.injectFault({ fault: { kind: 'status', status: 404, body: { statusCode: 404, message: 'Contact not found' } }, method: 'GET', path: new RegExp(`^/contacts/${contactId}$`) });
    await bridge.container.queues[QUEUE_NAMES.contactSync].add('sync', { locationId: LOCATION_ID, contactId, reason: 'manual', triggeredAt: Date.now() }, DEFAULT_JOB_OPTIONS[QUEUE_NAMES.contactSync]);
    const deadLetterId = await waitFor(async () => {
      const jobs = await deadLetterQueue().getJobs(['waiting']);
      return jobs.find((job) => JSON.stringify(DeadLetterJobSchema.parse(job.data).data).includes(contactId))?.id;
    }, 20_000, `a dead letter for ${contactId}`);
    return { contactId, deadLetterId };
  }

  async function syncedAgain(contactId: string, jobId: string) {
    return waitFor(async () => {
      const job = await bridge.container.queues[QUEUE_NAMES.contactSync].getJob(jobId);
      return job?.finishedOn && job.data.contactId === contactId ? job : undefined;
    }, 20_000, `the replayed sync ${jobId}`);
  }

  test('bad usage: exit 2 with the usage line, nothing replayed', async () => {
    const none = await runCli(['replay'], env);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /say which dead letters to replay/);
    assert.match(none.stderr, /usage: ghl-bridge replay --all/);
    const queue = await runCli(['replay', '--queue', 'no-such-queue'], env);
    assert.equal(queue.code, 2);
    assert.match(queue.stderr, /unknown queue "no-such-queue"/);
    const option = await runCli(['replay', '--everything'], env);
    assert.equal(option.code, 2);
  });

  test('nothing to replay: exit 0', async () => {
    const result = await runCli(['replay', '--all'], env);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(result.lines, ['nothing to replay']);
  });

  test('--id replays that dead letter, --all the rest; the replayed jobs succeed', async () => {
    const one = await deadLetteredContact('CliOne');
    const two = await deadLetteredContact('CliTwo');
    ghl.clearFaults();

    const first = await runCli(['replay', '--id', one.deadLetterId, '--id', 'dl-contact-sync-unknown'], env);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(first.lines.length, 2, first.stdout);
    const match = new RegExp(`^replayed ${one.deadLetterId} -> contact-sync job (\\S+)$`).exec(first.lines[0] ?? '');
    assert.ok(match?.[1], first.stdout);
    assert.equal(first.lines[1], 'replayed 1 dead letter');
    assert.match(first.stderr, /no dead letter dl-contact-sync-unknown/);
    const job = await syncedAgain(one.contactId, match[1]);
    assert.equal(job.returnvalue?.outcome, 'synced');
    assert.equal(await deadLetterQueue().getJob(one.deadLetterId), undefined, 'the entry is gone');

    const rest = await runCli(['replay', '--all'], env);
    assert.equal(rest.code, 0, rest.stderr);
    const line = rest.lines.find((item) => item.startsWith(`replayed ${two.deadLetterId} -> contact-sync job `));
    assert.ok(line, rest.stdout);
    assert.equal(rest.lines.at(-1), `replayed ${rest.lines.length - 1} dead letter${rest.lines.length - 1 === 1 ? '' : 's'}`);
    await syncedAgain(two.contactId, line.split(' ').at(-1) ?? '');
    assert.equal(await bridge.container.deadLetters.count(), 0);

    const again = await runCli(['replay', '--all'], env);
    assert.deepEqual(again.lines, ['nothing to replay']);
  });

  test('--queue narrows to one source queue', async () => {
    const one = await deadLetteredContact('CliQueue');
    ghl.clearFaults();
    const other = await runCli(['replay', '--queue', QUEUE_NAMES.trustpilotEvents], env);
    assert.deepEqual(other.lines, ['nothing to replay']);
    assert.ok(await deadLetterQueue().getJob(one.deadLetterId), 'left in place');
    const mine = await runCli(['replay', '--queue', QUEUE_NAMES.contactSync], env);
    assert.equal(mine.code, 0);
    assert.ok(mine.lines[0]?.startsWith(`replayed ${one.deadLetterId} -> contact-sync job `), mine.stdout);
  });

  test('Redis unreachable: exit 1 with a clear line, no hang', async () => {
    const port = await freePort();
    const result = await runCli(['replay', '--all'], { ...env, REDIS_URL: `redis://:s3cret-pass@127.0.0.1:${port}` });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /cannot reach Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:\d+/);
    assert.ok(!result.stderr.includes('s3cret-pass'));
  });
});
