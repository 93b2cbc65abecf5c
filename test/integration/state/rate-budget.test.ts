/**
 * The shared rate budget against a real redis-server: window, day and block refusals with their waits,
 * the guarantee under concurrent connections and across two OS processes (checked on Redis's
 * clock), key expiry, the EVAL fallback, the client adapter's error and GHL header handling.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { z } from 'zod';
import { budgetFor } from '../../../src/clients/http/budgeted.js';
import { correctGhlLimit, observeGhlHeaders } from '../../../src/clients/ghl/rate-limit-headers.js';
import { createRateBudget, type TimedBudgetDecision } from '../../../src/state/rate-budget.js';
import { RateBudgetExceededError, type BudgetLimit } from '../../../src/clients/http/rate-budget-types.js';
import { startRedisServer, type RedisServerHandle } from '../../helpers/redis-server.js';
import { waitFor } from '../../helpers/wait.js';

const DAY_MS = 86_400_000;
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const TAKER = fileURLToPath(new URL('../../fixtures/rate-budget-taker.ts', import.meta.url));

let server: RedisServerHandle;
let redis: Redis;
const extraClients: Redis[] = [];

const newPrefix = () => `test-${randomUUID().slice(0, 8)}`;
const nextUtcMidnight = (nowMs: number) => (Math.floor(nowMs / DAY_MS) + 1) * DAY_MS;
const utcDay = (nowMs: number) => new Date(nowMs).toISOString().slice(0, 10).replaceAll('-', '');

function connect(): Redis {
  const client = new Redis(server.url, { maxRetriesPerRequest: 1 });
  client.on('error', () => undefined);
  extraClients.push(client);
  return client;
}

/** Takes until a call is granted, sleeping the advertised wait in between. */
async function takeUntilGranted(take: () => Promise<TimedBudgetDecision>, timeoutMs: number): Promise<TimedBudgetDecision> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const decision = await take();
    if (decision.ok) return decision;
    assert.ok(Date.now() < deadline, `no grant within ${timeoutMs} ms (last wait ${decision.retryAfterMs} ms, ${decision.scope})`);
    await sleep(Math.max(1, Math.min(decision.retryAfterMs, 50)));
  }
}

before(async () => {
  server = await startRedisServer();
  redis = connect();
});

after(async () => {
  await Promise.all(extraClients.map((client) => client.quit()));
  await server.close();
});

describe('window', () => {
  test('grants exactly max, refuses the next with the wait until the oldest call leaves', async () => {
    const budget = createRateBudget(redis, newPrefix());
    // A window no run can outlast, however loaded the machine: all six calls fall inside it.
    const limit: BudgetLimit = { max: 5, windowMs: 600_000 };
    const grants: TimedBudgetDecision[] = [];
    for (let i = 0; i < 5; i += 1) grants.push(await budget.take('ghl:loc1', limit));
    assert.deepEqual(grants.map((d) => [d.ok, d.remaining]), [[true, 4], [true, 3], [true, 2], [true, 1], [true, 0]]);

    const refused = await budget.take('ghl:loc1', limit);
    assert.equal(refused.ok, false);
    assert.equal(refused.scope, 'window');
    assert.equal(refused.remaining, 0);
    const first = grants[0]?.serverTimeUs ?? 0;
    const expectedWait = (first + limit.windowMs * 1000 - refused.serverTimeUs) / 1000;
    assert.ok(refused.retryAfterMs > 0 && refused.retryAfterMs <= limit.windowMs, `wait ${refused.retryAfterMs}`);
    assert.ok(Math.abs(refused.retryAfterMs - expectedWait) <= 1, `wait ${refused.retryAfterMs} vs ${expectedWait}`);
    assert.equal((await budget.usage('ghl:loc1', limit)).window, 5, 'a refusal records nothing');

    // Another key has its own budget.
    assert.equal((await budget.take('ghl:loc2', limit)).ok, true);
  });

  test('grants again once the oldest call has left the window, not before', async () => {
    const budget = createRateBudget(redis, newPrefix());
    const limit: BudgetLimit = { max: 1, windowMs: 300 };
    const first = await budget.take('ghl:loc1', limit);
    assert.equal(first.ok, true);
    // Redis's clock decides; whatever the load, the next grant comes no earlier than the slide.
    const again = await takeUntilGranted(() => budget.take('ghl:loc1', limit), 10_000);
    assert.ok(again.serverTimeUs >= first.serverTimeUs + limit.windowMs * 1000, 'granted only once the first call left the window');
  });

  test('settle moves a slot to the server time less earlierMs, so it leaves that much sooner', async () => {
    const budget = createRateBudget(redis, newPrefix());
    // Windows no run can outlast: the waits compare 60 s against 30 s, whatever the load.
    const limit: BudgetLimit = { max: 1, windowMs: 60_000 };
    const plain = await budget.take('ghl:plain', limit);
    await budget.settle('ghl:plain', plain.grant ?? '', limit.windowMs);
    const plainWait = await budget.take('ghl:plain', limit);
    assert.equal(plainWait.ok, false);
    assert.ok(plainWait.retryAfterMs > 30_000, `a plain settle keeps the whole window: wait ${plainWait.retryAfterMs}`);

    const credited = await budget.take('ghl:credited', limit);
    const settledAfterUs = (await budget.take('ghl:other', limit)).serverTimeUs;
    await budget.settle('ghl:credited', credited.grant ?? '', limit.windowMs, 30_000);
    const creditedWait = await budget.take('ghl:credited', limit);
    assert.equal(creditedWait.ok, false);
    // The slot sits at (settle time − 30 s): it leaves 30 s after the settle, not 60 s after it.
    const settledBy = (settledAfterUs - creditedWait.serverTimeUs) / 1000 + 30_000;
    assert.ok(creditedWait.retryAfterMs <= 30_000 && creditedWait.retryAfterMs >= settledBy - 1, `wait ${creditedWait.retryAfterMs}, settled no earlier than ${settledBy}`);

    await assert.rejects(budget.settle('ghl:credited', credited.grant ?? '', limit.windowMs, limit.windowMs), RangeError);
    await assert.rejects(budget.settle('ghl:credited', credited.grant ?? '', limit.windowMs, -1), RangeError);
  });

  test('grants stay in the log a second window, for usage looking further back; only one window refuses', async () => {
    const budget = createRateBudget(redis, newPrefix());
    const limit: BudgetLimit = { max: 1, windowMs: 5_000 };
    const first = await budget.take('ghl:loc', limit);
    assert.equal(first.ok, true);
    const second = await takeUntilGranted(() => budget.take('ghl:loc', limit), 20_000);
    assert.ok(second.serverTimeUs >= first.serverTimeUs + limit.windowMs * 1000);
    const serverNowUs = (await budget.take('ghl:clock', limit)).serverTimeUs;
    // Both grants are within two windows of now unless the box stalled for seconds in between.
    if (serverNowUs < first.serverTimeUs + 2 * limit.windowMs * 1000 - 500_000) {
      assert.equal((await budget.usage('ghl:loc', { ...limit, windowMs: 2 * limit.windowMs })).window, 2);
    }
    assert.equal((await budget.usage('ghl:loc', limit)).window, 1);
  });

  test('refuses before sending anything when the limit is invalid', async () => {
    const budget = createRateBudget(redis, newPrefix());
    await assert.rejects(budget.take('k', { max: 0, windowMs: 1000 }), RangeError);
    await assert.rejects(budget.take('k', { max: 1, windowMs: 1.5 }), RangeError);
    await assert.rejects(budget.take('k', { max: 1, windowMs: 1000, daily: -1 }), RangeError);
  });

  test('still works after the server forgot its scripts (EVALSHA falls back to EVAL)', async () => {
    const budget = createRateBudget(redis, newPrefix());
    const limit = { max: 2, windowMs: 10_000 };
    assert.equal((await budget.take('k', limit)).ok, true);
    await redis.script('FLUSH');
    assert.equal((await budget.take('k', limit)).ok, true);
    assert.equal((await budget.take('k', limit)).ok, false);
  });
});

describe('day and block', () => {
  test('the daily cap refuses with scope day until the next UTC midnight', async () => {
    const budget = createRateBudget(redis, newPrefix());
    const limit = { max: 100, windowMs: 10_000, daily: 3 };
    for (let i = 0; i < 3; i += 1) assert.equal((await budget.take('ghl:loc', limit)).ok, true);
    const refused = await budget.take('ghl:loc', limit);
    assert.equal(refused.ok, false);
    assert.equal(refused.scope, 'day');
    assert.equal(refused.remaining, 97, 'the window still has room');
    const serverNowMs = Math.floor(refused.serverTimeUs / 1000);
    assert.equal(refused.retryAfterMs, nextUtcMidnight(serverNowMs) - serverNowMs);
    assert.deepEqual(await budget.usage('ghl:loc', limit), { window: 3, day: 3 });
  });

  test('the UTC day comes from Redis, not from a skewed caller clock', async () => {
    const prefix = newPrefix();
    const skewed = createRateBudget(redis, prefix, () => Date.now() + 3 * DAY_MS);
    const limit = { max: 10, windowMs: 10_000, daily: 2 };
    const granted = await skewed.take('ghl:loc', limit);
    assert.equal(granted.ok, true);
    const today = utcDay(Math.floor(granted.serverTimeUs / 1000));
    assert.equal(await redis.get(`${prefix}:rate-budget:ghl:loc:day:${today}`), '1');
    assert.deepEqual(await redis.keys(`${prefix}:rate-budget:ghl:loc:day:*`), [`${prefix}:rate-budget:ghl:loc:day:${today}`]);
    // An honest clock in another process counts the same day.
    const honest = createRateBudget(redis, prefix);
    assert.equal((await honest.take('ghl:loc', limit)).ok, true);
    const refused = await skewed.take('ghl:loc', limit);
    assert.equal(refused.scope, 'day');
  });

  test('block() refuses with scope blocked until the time passes, and never shortens a later block', async () => {
    const budget = createRateBudget(redis, newPrefix());
    const limit = { max: 100, windowMs: 10_000 };
    // A block no run can outlast, however loaded the machine, for the refusal.
    const until = Date.now() + 60_000;
    await budget.block('tp', until);
    await budget.block('tp', Date.now() + 50);
    assert.equal((await budget.usage('tp', limit)).blockedUntil, until, 'the earlier deadline did not replace the later one');

    const refused = await budget.take('tp', limit);
    assert.equal(refused.ok, false);
    assert.equal(refused.scope, 'blocked');
    assert.ok(refused.retryAfterMs > 0 && refused.retryAfterMs <= 60_000, `wait ${refused.retryAfterMs}`);
    assert.equal((await budget.usage('tp', limit)).window, 0, 'a blocked refusal records nothing');

    // A short block ends by itself: Redis's clock decides, so no grant comes before its end, whatever the load.
    const shortUntil = Date.now() + 300;
    await budget.block('tp:short', shortUntil);
    const granted = await takeUntilGranted(() => budget.take('tp:short', limit), 10_000);
    assert.ok(granted.serverTimeUs / 1000 >= shortUntil, 'no grant before the block ended');
    assert.equal((await budget.usage('tp:short', limit)).blockedUntil, undefined);

    await budget.block('tp:short', Date.now() - 1_000);
    assert.equal((await budget.usage('tp:short', limit)).blockedUntil, undefined, 'a past deadline is ignored');
    await assert.rejects(budget.block('tp', Number.NaN), RangeError);
  });

  test('when several limits refuse, the longest wait is reported', async () => {
    const budget = createRateBudget(redis, newPrefix());
    const limit = { max: 1, windowMs: 60_000 };
    assert.equal((await budget.take('k', limit)).ok, true);
    await budget.block('k', Date.now() + 500);
    const refused = await budget.take('k', limit);
    assert.equal(refused.scope, 'window');
    assert.ok(refused.retryAfterMs > 59_000, `wait ${refused.retryAfterMs}`);
  });
});

describe('expiry', () => {
  test('window, day and blocked keys carry TTLs and idle keys vanish', async () => {
    const prefix = newPrefix();
    const budget = createRateBudget(redis, prefix);
    const limit = { max: 10, windowMs: 300, daily: 1_000 };
    const granted = await budget.take('ghl:loc', limit);
    await budget.block('ghl:loc', Date.now() + 5_000);
    const base = `${prefix}:rate-budget:ghl:loc`;
    const serverNowMs = Math.floor(granted.serverTimeUs / 1000);
    const dayKey = `${base}:day:${utcDay(serverNowMs)}`;

    const windowTtl = await redis.pttl(`${base}:window`);
    assert.ok(windowTtl > 0 && windowTtl <= 600, `window ttl ${windowTtl} (two windows)`);
    const dayTtl = await redis.pttl(dayKey);
    assert.ok(dayTtl > 0 && dayTtl <= nextUtcMidnight(serverNowMs) - serverNowMs, `day ttl ${dayTtl}`);
    const blockedTtl = await redis.pttl(`${base}:blocked`);
    assert.ok(blockedTtl > 0 && blockedTtl <= 5_000, `blocked ttl ${blockedTtl}`);

    await waitFor(async () => ((await redis.exists(`${base}:window`)) === 0 ? true : undefined), 2_000, 'the idle window key to expire');
  });
});

describe('concurrency', () => {
  // A window far longer than the test: what is checked is that concurrent takers together are granted
  // exactly max, never one more, however the machine schedules them (the slide itself is checked above,
  // on Redis's clock). Every taker goes on until it has been refused a few times, so no count depends
  // on how fast the box is.
  const limit = { max: 50, windowMs: 60_000 };
  const refusalsToStop = 5;

  test('4 connections hammering one key: together granted exactly max, never more', async () => {
    const prefix = newPrefix();
    const grants: number[] = [];
    const waits: number[] = [];
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        const budget = createRateBudget(connect(), prefix);
        let refused = 0;
        while (refused < refusalsToStop) {
          const decision = await budget.take('tp', limit);
          if (decision.ok) grants.push(decision.serverTimeUs);
          else {
            refused += 1;
            waits.push(decision.retryAfterMs);
          }
          await sleep(Math.random() * 4);
        }
      }),
    );
    assert.equal(grants.length, limit.max, 'the limiter was full but never overfull');
    assert.equal(waits.length, 4 * refusalsToStop);
    assert.ok(waits.every((wait) => wait >= 1 && wait <= limit.windowMs), `waits within (0, windowMs]: ${Math.min(...waits)}..${Math.max(...waits)}`);
  });

  test('two OS processes sharing one key: together granted exactly max, never more', async () => {
    const prefix = newPrefix();
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', TAKER, JSON.stringify({ url: server.url, prefix, key: 'ghl:shared', ...limit, refusalsToStop, pauseMs: 2 })],
      { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const lines = createInterface({ input: child.stdout });
    const received: string[] = [];
    lines.on('line', (line) => received.push(line));
    try {
      // Starting node with tsx can take many seconds on a loaded machine; the deadline only bounds a hang.
      await waitFor(async () => (received.includes('ready') ? true : undefined), 60_000, 'the second process to be ready');
      child.stdin.end('go\n');

      const budget = createRateBudget(connect(), prefix);
      const mine: number[] = [];
      let refused = 0;
      while (refused < refusalsToStop) {
        const decision = await budget.take('ghl:shared', limit);
        if (decision.ok) mine.push(decision.serverTimeUs);
        else refused += 1;
        await sleep(Math.random() * 4);
      }

      const report = await waitFor(async () => received.find((line) => line.startsWith('{')), 60_000, 'the second process report');
      const theirs = z.strictObject({ grants: z.array(z.number().int()), refused: z.number().int() }).parse(JSON.parse(report));
      assert.equal(await exited, 0, stderr);
      assert.equal(theirs.refused, refusalsToStop, 'the second process was refused too');
      assert.equal(mine.length + theirs.grants.length, limit.max, `full but never overfull across processes (${mine.length} + ${theirs.grants.length})`);
    } finally {
      lines.close();
      if (child.exitCode === null) child.kill();
      await exited;
    }
  });
});

describe('client adapter and GHL headers', () => {
  test('budgetFor throws RateBudgetExceededError with system, wait and scope when refused', async () => {
    const budget = createRateBudget(redis, newPrefix());
    const calls = budgetFor(budget, 'trustpilot', 'trustpilot', { max: 1, windowMs: 60_000 });
    await calls.take();
    const error = await calls.take().then(
      () => assert.fail('expected a refusal'),
      (caught: unknown) => caught,
    );
    assert.ok(error instanceof RateBudgetExceededError);
    assert.equal(error.code, 'RATE_BUDGET_EXCEEDED');
    assert.equal(error.system, 'trustpilot');
    assert.equal(error.scope, 'window');
    assert.ok(error.retryAfterMs > 59_000 && error.retryAfterMs <= 60_000, `wait ${error.retryAfterMs}`);

    await budget.block('blocked-key', Date.now() + 1_000);
    await assert.rejects(budgetFor(budget, 'ghl', 'blocked-key', { max: 5, windowMs: 1_000 }).take(), (caught: unknown) => {
      assert.ok(caught instanceof RateBudgetExceededError);
      assert.equal(caught.system, 'ghl');
      assert.equal(caught.scope, 'blocked');
      return true;
    });
  });

  test('observeGhlHeaders blocks the location when GHL says remaining is 0, though our window has room', async () => {
    const budget = createRateBudget(redis, newPrefix());
    const limit = { max: 100, windowMs: 10_000, daily: 200_000 };
    assert.equal((await budget.take('ghl:loc', limit)).ok, true);

    const nowMs = Date.now();
    assert.equal(await observeGhlHeaders(budget, 'ghl:loc', { max: 100, remaining: 3, intervalMs: 10_000 }, nowMs), undefined);
    assert.equal((await budget.usage('ghl:loc', limit)).blockedUntil, undefined, 'room left: no block');

    // An interval no run can outlast, however loaded the machine: the refusal comes well inside it.
    const until = await observeGhlHeaders(budget, 'ghl:loc', { max: 100, remaining: 0, intervalMs: 60_000 }, nowMs);
    assert.equal(until, nowMs + 60_000);
    const refused = await budget.take('ghl:loc', limit);
    assert.equal(refused.scope, 'blocked');
    assert.ok(refused.retryAfterMs > 50_000 && refused.retryAfterMs <= 60_000, `wait ${refused.retryAfterMs}`);

    const dayUntil = await observeGhlHeaders(budget, 'ghl:other', { remaining: 50, dailyRemaining: 0 }, nowMs);
    assert.equal(dayUntil, nextUtcMidnight(nowMs));
    assert.equal((await budget.usage('ghl:other', limit)).blockedUntil, nextUtcMidnight(nowMs));
  });

  test('correctGhlLimit takes what the headers say and keeps the configured values for the rest', () => {
    const configured = { max: 100, windowMs: 10_000, daily: 200_000 };
    assert.deepEqual(correctGhlLimit(configured, { max: 50, intervalMs: 5_000, dailyLimit: 1_000 }), { max: 50, windowMs: 5_000, daily: 1_000 });
    assert.deepEqual(correctGhlLimit(configured, {}), configured);
    assert.deepEqual(correctGhlLimit(configured, { max: 0, intervalMs: Number.NaN, dailyLimit: 2.5 }), configured);
    assert.deepEqual(correctGhlLimit({ max: 833, windowMs: 300_000 }, {}), { max: 833, windowMs: 300_000 });
  });
});
