/**
 * Issue 5: one circuit per upstream, shared through Redis. Two breaker instances on two connections
 * stand for two worker processes: what one trips, the other obeys; after the cool-down exactly one
 * caller across both probes; the probe's outcome closes or re-opens the circuit for everyone. The
 * GHL client's `observe` hook feeds the breaker, so 5xx answers open it while 4xx and 429 do not.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, test } from 'node:test';
import type { Redis } from 'ioredis';
import { createGhlClient } from '../../../src/clients/ghl/ghl-client.js';
import { createStaticTokenProvider } from '../../../src/clients/ghl/token-provider.js';
import { UpstreamError } from '../../../src/clients/http/upstream-error.js';
import { startGhlSimulator, type GhlSimulator } from '../../../src/sandbox/ghl/simulator.js';
import {
  circuitGuard,
  circuitReadinessChecks,
  CircuitOpenError,
  createCircuitBreaker,
  outcomeOf,
  type CircuitBreaker,
  type CircuitBreakerOptions,
  type CircuitChange,
} from '../../../src/state/circuit-breaker.js';
import { testPrefix } from '../../helpers/bridge.js';
import { waitFor } from '../../helpers/wait.js';
import { useRedisServer } from '../../helpers/redis-server.js';

const redis = useRedisServer();
const connect = (): Redis => redis.connect();

interface Pair {
  a: CircuitBreaker;
  b: CircuitBreaker;
  changes: CircuitChange[];
}

/** Two "processes": own connection and breaker each, one key prefix, one shared change log. */
function pair(options: Partial<CircuitBreakerOptions> = {}): Pair {
  const prefix = testPrefix();
  const changes: CircuitChange[] = [];
  const make = () =>
    createCircuitBreaker({
      redis: connect(),
      prefix,
      cacheMs: 0,
      jitterMs: 0,
      onStateChange: (change) => changes.push(change),
      ...options,
    });
  return { a: make(), b: make(), changes };
}

async function fail(breaker: CircuitBreaker, times: number): Promise<void> {
  for (let i = 0; i < times; i += 1) await breaker.record('ghl', 'failure');
}

async function refusal(promise: Promise<void>): Promise<CircuitOpenError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof CircuitOpenError) return error;
    throw error;
  }
  assert.fail('expected CircuitOpenError');
}

describe('circuit breaker', () => {
  test('failures recorded by one process open the circuit for the other, with the wait in the error', async () => {
    const { a, b, changes } = pair({ cooldownMs: 5_000 });
    await fail(a, 9);
    await b.check('ghl');
    assert.equal((await b.state('ghl')).state, 'closed', 'nine failures are below the threshold');

    await a.record('ghl', 'failure');
    const error = await refusal(b.check('ghl'));
    assert.equal(error.code, 'CIRCUIT_OPEN');
    assert.equal(error.system, 'ghl');
    // What is left of the cool-down: how much depends on how busy the machine is, never more than it.
    assert.ok(error.retryAfterMs > 0 && error.retryAfterMs <= 5_000, `retryAfterMs ${error.retryAfterMs}`);
    assert.deepEqual((await a.state('ghl')).state, 'open');
    assert.ok((await b.state('ghl')).retryAfterMs > 0);
    await refusal(a.check('ghl'));
    // Other systems are not affected.
    await b.check('trustpilot');
    assert.deepEqual(changes, [{ system: 'ghl', from: 'closed', to: 'open', cooldownMs: 5_000, failures: 10, outcomes: 10 }]);
  });

  test('failures below the failure rate do not open it; the window forgets old failures', async () => {
    const { a, b } = pair();
    // 12 failures among 30 outcomes: 40 % < 50 %.
    for (let i = 0; i < 18; i += 1) await b.record('ghl', 'success');
    await b.flush();
    await fail(a, 12);
    assert.equal((await a.state('ghl')).state, 'closed');

    // The window is kept in whole seconds: 3.1 s later, nothing of a 2 s window is left.
    const fresh = pair({ windowMs: 2_000 });
    await fail(fresh.a, 9);
    await sleep(3_100);
    await fail(fresh.b, 9);
    assert.equal((await fresh.a.state('ghl')).state, 'closed', 'nine old and nine new failures are never ten within one window');
    await fresh.b.record('ghl', 'failure');
    assert.equal((await fresh.a.state('ghl')).state, 'open');
  });

  test('after the cool-down exactly one caller probes while everyone else waits; success closes', async () => {
    const { a, b, changes } = pair({ cooldownMs: 300, probeWaitMs: 200 });
    await fail(a, 10);
    await refusal(b.check('ghl'));
    await sleep(350);

    const outcomes = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? a : b).check('ghl')));
    const granted = outcomes.filter((outcome) => outcome.status === 'fulfilled');
    const refused = outcomes.flatMap((outcome) => (outcome.status === 'rejected' ? [outcome.reason] : []));
    assert.equal(granted.length, 1, 'one probe');
    assert.equal(refused.length, 19);
    for (const reason of refused) {
      assert.ok(reason instanceof CircuitOpenError);
      assert.ok(reason.retryAfterMs >= 1 && reason.retryAfterMs <= 200, `waiting callers ask again soon (${reason.retryAfterMs})`);
    }
    assert.equal((await b.state('ghl')).state, 'half-open');

    // The probe's success (recorded by whichever process holds it) closes the circuit for both.
    const holder = outcomes.findIndex((outcome) => outcome.status === 'fulfilled') % 2 === 0 ? a : b;
    await holder.record('ghl', 'success');
    assert.equal((await a.state('ghl')).state, 'closed');
    await a.check('ghl');
    await b.check('ghl');
    assert.deepEqual(
      changes.map((change) => `${change.from}->${change.to}`),
      ['closed->open', 'open->half-open', 'half-open->closed'],
      'each transition reported once, by the process that made it',
    );
  });

  test('a failed probe opens the circuit again with a longer cool-down', async () => {
    // Cool-downs long enough that a loaded machine cannot let one pass between two calls that expect it open.
    const { a, b, changes } = pair({ cooldownMs: 1_000, maxCooldownMs: 3_000 });
    await fail(a, 10);
    await sleep(1_050);
    await b.check('ghl');
    await b.record('ghl', 'failure');
    const error = await refusal(a.check('ghl'));
    // The doubling itself is the reported change below; the wait left depends on how busy the machine is.
    assert.ok(error.retryAfterMs > 0 && error.retryAfterMs <= 2_000, `within the doubled cool-down, got ${error.retryAfterMs}`);
    assert.deepEqual(changes.at(-1), { system: 'ghl', from: 'half-open', to: 'open', cooldownMs: 2_000 });

    await sleep(2_050);
    await a.check('ghl');
    await a.record('ghl', 'failure');
    assert.equal(changes.at(-1)?.cooldownMs, 3_000, 'capped at maxCooldownMs');
  });

  test('a probe that never reports frees its lease, and another caller probes', async () => {
    // A lease long enough that the second caller surely asks while it holds, however loaded the machine.
    const { a, b } = pair({ cooldownMs: 200, probeLeaseMs: 2_000, probeWaitMs: 3_000 });
    await fail(a, 10);
    await sleep(250);
    await a.check('ghl');
    const waiting = await refusal(b.check('ghl'));
    assert.ok(waiting.retryAfterMs <= 2_000, 'a waiting caller never waits past the lease');
    await sleep(2_050);
    await b.check('ghl');
    await b.record('ghl', 'success');
    assert.equal((await a.state('ghl')).state, 'closed');
  });

  test('a cached closed state costs no Redis round trip per call', async () => {
    const prefix = testPrefix();
    const connection = connect();
    const breaker = createCircuitBreaker({ redis: connection, prefix, cacheMs: 60_000, flushMs: 60_000 });
    await breaker.check('ghl');
    const before = await scriptCalls(connection);
    for (let i = 0; i < 200; i += 1) {
      await breaker.check('ghl');
      await breaker.record('ghl', 'success');
    }
    const spent = (await scriptCalls(connection)) - before;
    assert.ok(spent <= 1, `200 checked and recorded calls ran ${spent} scripts`);
  });

  test('outcomeOf: 5xx, timeouts and network errors fail; 2xx, 4xx and 429 do not', () => {
    for (const status of [500, 502, 503, 504, 'timeout', 'network'] as const) assert.equal(outcomeOf(status), 'failure', String(status));
    for (const status of [200, 201, 400, 401, 404, 422, 429]) assert.equal(outcomeOf(status), 'success', String(status));
  });

  test('fed by the GHL client: 5xx answers open the circuit, 404 and 429 answers do not', async () => {
    const sim: GhlSimulator = await startGhlSimulator({ locations: [{ id: 'locCircuit00000000001', token: 'pit-circuit-1' }] });
    const { a: breaker, b: other } = pair({ cooldownMs: 10_000, flushMs: 0 });
    const client = createGhlClient({
      baseUrl: sim.url,
      version: '2021-07-28',
      timeoutMs: 2_000,
      tokens: createStaticTokenProvider('locCircuit00000000001', 'pit-circuit-1'),
      observe: (info) => breaker.recordExchange(info.system, info.status),
      budget: { take: () => breaker.check('ghl'), onHeaders: async () => undefined, onRateLimited: async () => undefined },
    });
    try {
      const contact = sim.userCreateContact('locCircuit00000000001', { firstName: 'Ada', email: 'ada@example.com' });
      const call = () => client.getContact('locCircuit00000000001', contact.id);
      const removeLimit = sim.injectFault({ fault: { kind: 'rate-limit', retryAfterSeconds: 0 }, times: 15 });
      for (let i = 0; i < 15; i += 1) await assert.rejects(call(), (error: unknown) => error instanceof UpstreamError && error.status === 429);
      removeLimit();
      sim.injectFault({ fault: { kind: 'status', status: 404 }, times: 15 });
      for (let i = 0; i < 15; i += 1) await assert.rejects(call(), (error: unknown) => error instanceof UpstreamError && error.status === 404);
      await breaker.flush();
      await call();
      assert.equal((await other.state('ghl')).state, 'closed', '30 client errors did not open the circuit');

      sim.injectFault({ fault: { kind: 'status', status: 503 }, times: 40 });
      const callsBefore = sim.calls.length;
      let failures = 0;
      await waitFor(
        async () => {
          try {
            await call();
          } catch (error) {
            if (error instanceof CircuitOpenError) return true;
            assert.ok(error instanceof UpstreamError && error.status === 503);
            failures += 1;
          }
          return undefined;
        },
        5_000,
        'the circuit to open',
      );
      // The 31 answered calls above are successes in the window, so it takes 31 failures to reach 50 %.
      // (recordExchange sends before the client's error surfaces, on the connection the next check uses.)
      assert.equal(failures, 31);
      const sent = sim.calls.length;
      assert.equal(sent - callsBefore, failures);
      await assert.rejects(call(), CircuitOpenError);
      await assert.rejects(other.check('ghl'), CircuitOpenError);
      assert.equal(sim.calls.length, sent, 'no request leaves while the circuit is open');
    } finally {
      await client.close();
      await sim.close();
    }
  });

  test('circuitGuard checks the circuit before spending budget; readiness shows the state', async () => {
    const { a } = pair({ cooldownMs: 5_000 });
    let taken = 0;
    const guarded = circuitGuard(a, 'trustpilot', { take: async () => void (taken += 1) });
    await guarded.take();
    assert.equal(taken, 1);
    for (let i = 0; i < 10; i += 1) await a.record('trustpilot', 'failure');
    await assert.rejects(guarded.take(), CircuitOpenError);
    assert.equal(taken, 1, 'no budget spent while open');

    const [informational] = circuitReadinessChecks(a, ['trustpilot']);
    const [strict] = circuitReadinessChecks(a, ['trustpilot'], { failWhenOpen: true });
    const [healthy] = circuitReadinessChecks(a, ['ghl'], { failWhenOpen: true });
    assert.ok(informational && strict && healthy);
    const shown = await informational.check();
    assert.equal(shown.ok, true);
    assert.match(shown.detail, /^open, next probe in [45] s$/);
    assert.equal((await strict.check()).ok, false);
    assert.deepEqual(await healthy.check(), { ok: true, detail: 'closed' });
    assert.equal(informational.name, 'circuit-trustpilot');
  });
});

async function scriptCalls(connection: Redis): Promise<number> {
  const info = await connection.info('commandstats');
  let total = 0;
  for (const command of ['evalsha', 'eval']) {
    const match = new RegExp(`cmdstat_${command}:calls=(\\d+)`).exec(info);
    total += Number(match?.[1] ?? 0);
  }
  return total;
}
