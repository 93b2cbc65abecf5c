/**
 * CONTRACT "Within the limits" (issue 5): GHL calls stay within GHL_RATE_LIMIT per location across all
 * workers. Several GHL clients, each with its own Redis connection and budget object (as separate
 * worker processes would have), share one Redis budget and hammer two locations of a GHL simulator
 * whose own limit equals ours: the simulator never sees more than `max` calls in any window, nobody
 * meets a 429, every call succeeds, and the run takes about as long as the limit allows. Then a 429
 * met by one worker stops the others, and the same holds through the real bridge (two containers).
 * The client-level scenarios run concurrently (own simulator and key prefix each) to keep the file fast.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, test, type TestContext } from 'node:test';
import type { Redis } from 'ioredis';
import { request } from 'undici';
import { createGhlBudget, type GhlBudget } from '../../../src/clients/ghl/ghl-budget.js';
import { createGhlClient, type GhlClient } from '../../../src/clients/ghl/ghl-client.js';
import type { GhlTokenProvider } from '../../../src/clients/ghl/token-provider.js';
import { UpstreamError } from '../../../src/clients/http/upstream-error.js';
import { scheduleContactSync } from '../../../src/lifecycle/container.js';
import { QUEUE_NAMES } from '../../../src/queue/catalog.js';
import { startGhlSimulator, type GhlSimulator, type GhlSimulatorLocation } from '../../../src/sandbox/ghl/simulator.js';
import { createRateBudget } from '../../../src/state/rate-budget.js';
import { RateBudgetExceededError, type BudgetLimit } from '../../../src/clients/http/rate-budget-types.js';
import { simulatorEnv, startTestBridge, type TestBridge } from '../../helpers/bridge.js';
import { waitFor } from '../../helpers/wait.js';
import { useRedisServer } from '../../helpers/redis-server.js';

const VERSION = '2021-07-28';
const LOCATIONS: GhlSimulatorLocation[] = [
  { id: 'locRate000000000000001', token: 'pit-rate-token-000001' },
  { id: 'locRate000000000000002', token: 'pit-rate-token-000002' },
];

const redis = useRedisServer();
const connect = (): Redis => redis.connect();

function tokensFor(locations: GhlSimulatorLocation[]): GhlTokenProvider {
  const byLocation = new Map(locations.map((location) => [location.id, location.token]));
  return {
    async tokenFor(locationId) {
      const token = byLocation.get(locationId);
      if (token === undefined) throw new Error(`no token for ${locationId}`);
      return token;
    },
    async refresh() {
      return undefined;
    },
  };
}

/** One simulated worker process: its own Redis connection, budget object and HTTP client. */
interface Worker {
  client: GhlClient;
  budget: GhlBudget;
}

function startWorker(sim: GhlSimulator, prefix: string, limit: BudgetLimit): Worker {
  const budget = createGhlBudget({ budget: createRateBudget(connect(), prefix), limit });
  const client = createGhlClient({ baseUrl: sim.url, version: VERSION, timeoutMs: 5_000, tokens: tokensFor(LOCATIONS), budget });
  return { client, budget };
}

/** Fewest ms that `calls` calls can take under `max` per sliding `windowMs` (the first burst at 0). */
function lowerBoundMs(calls: number, max: number, windowMs: number): number {
  return (Math.ceil(calls / max) - 1) * windowMs;
}

interface RunFigures {
  elapsedMs: number;
  budgetWaits: number;
  upstream429: number;
  succeeded: Map<string, number>;
}

/**
 * `workerCount` workers, each running one loop per location; the loops of a location share its
 * `callsPerLocation` calls. A budget refusal sleeps its retryAfterMs, as a delayed job would.
 */
async function hammer(sim: GhlSimulator, limit: BudgetLimit, workerCount: number, callsPerLocation: number): Promise<RunFigures> {
  const prefix = `rate-${randomUUID().slice(0, 8)}`;
  const workers = Array.from({ length: workerCount }, () => startWorker(sim, prefix, limit));
  const contacts = new Map(LOCATIONS.map((location) => [location.id, sim.userCreateContact(location.id, { firstName: 'Burst', email: `burst@${location.id}.example.com` }).id]));
  const left = new Map(LOCATIONS.map((location) => [location.id, callsPerLocation]));
  const figures: RunFigures = { elapsedMs: 0, budgetWaits: 0, upstream429: 0, succeeded: new Map(LOCATIONS.map((location) => [location.id, 0])) };
  const deadline = Date.now() + 25_000;

  async function callUntilDone(worker: Worker, locationId: string, contactId: string): Promise<void> {
    while (Date.now() < deadline) {
      try {
        await worker.client.getContact(locationId, contactId);
        figures.succeeded.set(locationId, (figures.succeeded.get(locationId) ?? 0) + 1);
        return;
      } catch (error) {
        if (error instanceof RateBudgetExceededError) {
          figures.budgetWaits += 1;
          await sleep(error.retryAfterMs);
        } else if (error instanceof UpstreamError && error.status === 429) {
          figures.upstream429 += 1;
          await sleep(error.retryAfterMs ?? limit.windowMs);
        } else {
          throw error;
        }
      }
    }
    throw new Error(`a call for ${locationId} did not succeed before the deadline`);
  }

  async function loop(worker: Worker, locationId: string): Promise<void> {
    const contactId = contacts.get(locationId) ?? '';
    for (;;) {
      const remaining = left.get(locationId) ?? 0;
      if (remaining === 0) return;
      left.set(locationId, remaining - 1);
      await callUntilDone(worker, locationId, contactId);
    }
  }

  const started = performance.now();
  try {
    await Promise.all(workers.flatMap((worker) => LOCATIONS.map((location) => loop(worker, location.id))));
  } finally {
    figures.elapsedMs = performance.now() - started;
    await Promise.all(workers.map((worker) => worker.client.close()));
  }
  return figures;
}

function assertWithinLimits(t: TestContext, sim: GhlSimulator, limit: BudgetLimit, callsPerLocation: number, figures: RunFigures, label: string): void {
  const boundMs = lowerBoundMs(callsPerLocation, limit.max, limit.windowMs);
  for (const { id } of LOCATIONS) {
    const seen = sim.calls.filter((call) => call.locationId === id && call.method === 'GET' && call.path.startsWith('/contacts/'));
    const maxSeen = sim.maxCallsInAnyWindow(id);
    t.diagnostic(
      `${label} ${id}: ${seen.length} calls, ${Math.ceil(callsPerLocation / limit.max)} windows, most in any ${limit.windowMs} ms window ${maxSeen} (max ${limit.max}), ` +
        `elapsed ${Math.round(figures.elapsedMs)} ms vs lower bound ${boundMs} ms, ${figures.budgetWaits} budget waits, ${figures.upstream429} upstream 429s`,
    );
    assert.ok(maxSeen <= limit.max, `${id}: the simulator saw ${maxSeen} calls in one window, over ${limit.max}`);
    assert.equal(maxSeen, limit.max, `${id}: the budget let full windows through (not needlessly slow)`);
    assert.equal(figures.succeeded.get(id), callsPerLocation, `${id}: every call eventually succeeded`);
    assert.equal(seen.length, callsPerLocation, `${id}: GHL saw each call once, none refused or repeated`);
    assert.ok(seen.every((call) => call.status === 200), `${id}: GHL answered every call 200`);
  }
  assert.equal(figures.upstream429, 0, 'no client met a 429');
  assert.ok(figures.budgetWaits > 0, 'the budget did hold calls back');
  // Both locations run at full rate at once: one budget per location, not one for all.
  // Only the lower bound is a fact here; "not needlessly slow" is the full windows asserted above
  // (a wall-clock upper bound fails on a loaded machine), and bench/drain.ts measures the time.
  assert.ok(figures.elapsedMs >= boundMs - 50, `elapsed ${figures.elapsedMs} ms is under the bound ${boundMs} ms: the limit was not enforced`);
}

describe('GHL calls stay within the per-location limit across workers', { concurrency: true }, () => {
  test('GHL default limit 100/10 s: 4 workers, 2 locations, 150 calls each', async (t) => {
    const limit = { max: 100, windowMs: 10_000, daily: 200_000 };
    const sim = await startGhlSimulator({ locations: LOCATIONS, rateLimit: { max: limit.max, windowMs: limit.windowMs } });
    try {
      const figures = await hammer(sim, limit, 4, 150);
      assertWithinLimits(t, sim, limit, 150, figures, '100/10s');
    } finally {
      await sim.close();
    }
  });

  test('small limit 20/2 s: 4 workers, 2 locations, 100 calls each', async (t) => {
    const limit = { max: 20, windowMs: 2_000, daily: 200_000 };
    const sim = await startGhlSimulator({ locations: LOCATIONS, rateLimit: { max: limit.max, windowMs: limit.windowMs } });
    try {
      const figures = await hammer(sim, limit, 4, 100);
      assertWithinLimits(t, sim, limit, 100, figures, '20/2s');
    } finally {
      await sim.close();
    }
  });

  test('a 429 met by one worker blocks the location for every worker, until Retry-After', async () => {
    const limit = { max: 100, windowMs: 10_000, daily: 200_000 };
    const sim = await startGhlSimulator({ locations: LOCATIONS, rateLimit: { max: limit.max, windowMs: limit.windowMs } });
    const prefix = `rate-${randomUUID().slice(0, 8)}`;
    const first = startWorker(sim, prefix, limit);
    const second = startWorker(sim, prefix, limit);
    try {
      const [one, two] = LOCATIONS.map((location) => sim.userCreateContact(location.id, { firstName: 'Limited' }).id);
      const [loc1, loc2] = LOCATIONS.map((location) => location.id);
      assert.ok(one !== undefined && two !== undefined && loc1 !== undefined && loc2 !== undefined);
      // GHL refuses although our count has room (another app spent the location's budget).
      sim.injectFault({ fault: { kind: 'rate-limit', retryAfterSeconds: 1 }, method: 'GET', path: new RegExp(`^/contacts/${one}$`), times: 1 });

      // The block is written after the 429 arrives, so it lasts at least until a second after this.
      const sentAt = Date.now();
      const met = await first.client.getContact(loc1, one).then(
        () => assert.fail('expected the injected 429'),
        (error: unknown) => error,
      );
      assert.ok(met instanceof UpstreamError && met.status === 429 && met.retryAfterMs === 1_000);
      const callsBefore = sim.calls.length;

      // The other worker is refused before sending anything, for about the Retry-After.
      const refused = await second.client.getContact(loc1, one).then(
        () => assert.fail('expected the budget to refuse'),
        (error: unknown) => error,
      );
      assert.ok(refused instanceof RateBudgetExceededError, `expected RateBudgetExceededError, got ${String(refused)}`);
      assert.equal(refused.scope, 'blocked');
      assert.ok(refused.retryAfterMs > 0 && refused.retryAfterMs <= 1_000, `wait ${refused.retryAfterMs} ms`);
      assert.equal(sim.calls.length, callsBefore, 'the refused call never reached GHL');

      // The other location is not affected.
      assert.equal((await second.client.getContact(loc2, two)).id, two);

      // After the Retry-After the location serves again.
      const contact = await waitFor(
        () => second.client.getContact(loc1, one).catch((error: unknown) => (error instanceof RateBudgetExceededError ? undefined : Promise.reject(error))),
        3_000,
        'the block to lift',
      );
      assert.equal(contact.id, one);
      assert.ok(Date.now() - sentAt >= 1_000, 'not before the Retry-After');
    } finally {
      await first.client.close();
      await second.client.close();
      await sim.close();
    }
  });

});

// Alone, after the runs above: the bridge, its workers and 300 contact syncs share this process's
// event loop with the simulator, and stalls there would blur the other runs' timing.
describe('GHL calls through the real bridge stay within the limit', () => {
  test('300 contact syncs over 2 locations (one private token, one OAuth install), two containers', async (t) => {
    const [privateLocation, installedLocation] = LOCATIONS;
    assert.ok(privateLocation && installedLocation);
    const client = { clientId: 'client-rate-test', clientSecret: 'client-secret-rate-test-0001' };
    const limit = { max: 60, windowMs: 2_000 };
    const eventsPerLocation = 150;
    const sim = await startGhlSimulator({ locations: [privateLocation], rateLimit: limit, oauthClients: [client] });
    const bridges: TestBridge[] = [];
    try {
      const env = {
        ...simulatorEnv(sim, privateLocation.id, privateLocation.token),
        GHL_CLIENT_ID: client.clientId,
        GHL_CLIENT_SECRET: client.clientSecret,
        ENCRYPTION_KEY: Buffer.alloc(32, 4).toString('base64'),
        GHL_RATE_LIMIT: `${limit.max}/${limit.windowMs / 1000}`,
        LOG_LEVEL: 'warn',
      };
      const web = await startTestBridge({ mode: 'all', redisUrl: redis.url, env });
      bridges.push(web);
      bridges.push(await startTestBridge({ mode: 'worker', redisUrl: redis.url, env: { ...env, REDIS_PREFIX: web.config.REDIS_PREFIX } }));
      sim.setWebhookUrl(`${web.url}/webhooks/ghl`);

      // The second location is installed as a marketplace app.
      const start = await request(`${web.url}/oauth/install`);
      await start.body.dump();
      const state = new URL(String(start.headers.location)).searchParams.get('state') ?? '';
      const code = sim.issueAuthorizationCode({ userType: 'Location', locationId: installedLocation.id });
      const installed = await request(`${web.url}/oauth/callback?code=${encodeURIComponent(code)}&state=${encodeURIComponent(state)}`, { headers: { accept: 'application/json' } });
      assert.equal(installed.statusCode, 200);
      await installed.body.dump();

      const started = performance.now();
      const ids = new Map<string, string[]>();
      const syncQueue = web.container.queues[QUEUE_NAMES.contactSync];
      // Syncs that must read their contact, as a backfill's do: a contact webhook's sync plans from
      // the event's snapshot and would make no call here.
      for (const location of [privateLocation, installedLocation]) {
        ids.set(location.id, Array.from({ length: eventsPerLocation }, (_, i) => sim.store.insertContact(location.id, { firstName: `Event${i}`, email: `event${i}-${location.id}@example.com` }).id));
        for (const contactId of ids.get(location.id) ?? []) {
          await scheduleContactSync(syncQueue, { locationId: location.id, contactId, reason: 'backfill', triggeredAt: Date.now() }, 0);
        }
      }
      const events = eventsPerLocation * 2;
      await waitFor(
        async () => ((await syncQueue.getJobCounts('completed')).completed === events ? true : undefined),
        40_000,
        `${events} contact syncs to complete`,
      );
      const elapsedMs = performance.now() - started;
      const waits = (await Promise.all(bridges.map(async (bridge) => (await bridge.container.metrics.rateLimitWaits.get()).values)))
        .flat()
        .filter((value) => value.labels.system === 'ghl')
        .reduce((sum, value) => sum + value.value, 0);
      let boundMs = 0;
      for (const location of [privateLocation, installedLocation]) {
        const apiCalls = sim.calls.filter((call) => call.locationId === location.id);
        const maxSeen = sim.maxCallsInAnyWindow(location.id);
        const refused = apiCalls.filter((call) => call.status === 429).length;
        boundMs = Math.max(boundMs, lowerBoundMs(apiCalls.length, limit.max, limit.windowMs));
        t.diagnostic(
          `bridge ${location.id}: ${eventsPerLocation} events, ${apiCalls.length} GHL calls, most in any ${limit.windowMs} ms window ${maxSeen} (max ${limit.max}), ${refused} 429s`,
        );
        assert.ok(maxSeen <= limit.max, `${location.id}: the simulator saw ${maxSeen} calls in one window, over ${limit.max}`);
        assert.equal(refused, 0, `${location.id}: GHL never answered 429`);
        const read = new Set(apiCalls.filter((call) => call.method === 'GET' && call.status === 200).map((call) => call.path));
        assert.ok((ids.get(location.id) ?? []).every((id) => read.has(`/contacts/${id}`)), `${location.id}: every contact was read`);
      }
      t.diagnostic(`bridge: ${events} events over 2 locations, ${waits} budget waits, elapsed ${Math.round(elapsedMs)} ms vs lower bound ${boundMs} ms (the locations run side by side)`);
      assert.ok(waits > 0, 'jobs waited for the budget (delayed, not failed)');
      assert.equal((await syncQueue.getJobCounts('failed')).failed, 0, 'no job failed');
      assert.ok(elapsedMs >= boundMs - 50, 'the limit was enforced');
    } finally {
      for (const bridge of bridges.reverse()) await bridge.close();
      await sim.close();
    }
  });
});
