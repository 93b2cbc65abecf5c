/**
 * One circuit per upstream system, shared by every process through Redis, so that all workers stop
 * calling a system that is down at the same moment and one of them alone probes it afterwards.
 *
 * Opening rule (closed → open): within a sliding window (`windowMs`, default 30 s, kept as 1 s
 * buckets), at least `minFailures` failures (default 10) that are at least `failureRate` of the
 * outcomes (default 50 %). A failure is a 5xx, a timeout or a network error; any other answer (4xx,
 * 429 included) is a success: the upstream answered. Ten failures in a row are therefore enough.
 * Open: `check` throws CircuitOpenError with the time left, and the job waits instead of failing.
 * After the cool-down (default 30 s) the first `check` takes the probe lease (SET NX) and the circuit
 * is half-open: that one call goes out while every other caller keeps waiting. The probe's success
 * closes the circuit; its failure opens it again with the cool-down doubled (up to `maxCooldownMs`).
 * A probe that never reports (its caller died, or its call was refused by the rate budget) frees the
 * lease after `probeLeaseMs`, and the next caller probes instead.
 *
 * Decisions use Redis's clock (TIME), so processes with skewed clocks agree. Hot path cost: `check`
 * reads Redis at most every `cacheMs` per system and process; successes while closed are summed
 * locally and written at most every `flushMs`; failures are written at once.
 */
import { randomUUID } from 'node:crypto';
import type { z } from 'zod';
import { CHECK_SCRIPT, CheckReplySchema, RECORD_SCRIPT, RecordReplySchema } from './circuit-scripts.js';
import { loadScript } from './redis-script.js';
import { UPSTREAM_SYSTEMS, type UpstreamSystem } from '../clients/http/upstream-error.js';
import { stateKey, type RedisClient } from './keys.js';
import { BridgeError } from '../observability/errors.js';

export type CircuitSystem = UpstreamSystem;
export type CircuitState = 'closed' | 'open' | 'half-open';
export type CircuitOutcome = 'success' | 'failure';

/** For a gauge: `ghl_bridge_circuit_state{system}`. */
export const CIRCUIT_STATE_VALUE: Record<CircuitState, number> = { closed: 0, 'half-open': 1, open: 2 };

export class CircuitOpenError extends BridgeError<'CIRCUIT_OPEN'> {
  constructor(
    readonly system: CircuitSystem,
    readonly retryAfterMs: number,
  ) {
    super('CIRCUIT_OPEN', `${system} circuit is open after repeated failures; next call in ${retryAfterMs} ms`);
  }
}

export class CircuitScriptError extends BridgeError<'CIRCUIT_SCRIPT'> {
  constructor(message: string) {
    super('CIRCUIT_SCRIPT', message);
  }
}

export interface CircuitChange {
  system: CircuitSystem;
  from: CircuitState;
  to: CircuitState;
  /** When `to` is 'open': how long the cool-down lasts. */
  cooldownMs?: number;
  /** When closed → open: failures and all outcomes in the window that tripped it. */
  failures?: number;
  outcomes?: number;
}

export interface CircuitStatus {
  state: CircuitState;
  /** Open: time left in the cool-down (0: the next call probes). Otherwise 0. */
  retryAfterMs: number;
}

export interface CircuitBreakerOptions {
  redis: RedisClient;
  prefix: string;
  /** Failures within the window before the circuit may open. Default 10. */
  minFailures?: number;
  /** Share of failures among the window's outcomes that opens the circuit (0..1]. Default 0.5. */
  failureRate?: number;
  /** Sliding window for the failure count, whole seconds. Default 30 000. */
  windowMs?: number;
  /** First cool-down. Default 30 000. */
  cooldownMs?: number;
  /** Cool-downs double after each failed probe up to this. Default 300 000. */
  maxCooldownMs?: number;
  /** How long one probe may take before another caller may probe. Use more than the upstream timeout. Default 30 000. */
  probeLeaseMs?: number;
  /** While another caller probes, others wait at most this long before asking again. Default 1 000. */
  probeWaitMs?: number;
  /** How long a state read from Redis is trusted locally. Default 250. */
  cacheMs?: number;
  /** Successes while closed are written to Redis at most this often. Default 250. */
  flushMs?: number;
  /** Random extra wait (0..jitterMs) so waiting jobs do not all come back in the same millisecond. Default 500. */
  jitterMs?: number;
  /**
   * Called in the process whose call made the transition (once per transition across all processes),
   * e.g. to raise a 'circuit-open' alert. Must not throw (it is guarded anyway).
   */
  onStateChange?: (change: CircuitChange) => void;
  /** Redis errors of the fire-and-forget `recordExchange`. */
  onError?: (error: unknown) => void;
  /** Local clock for the cache only; decisions use Redis's clock. */
  now?: () => number;
  random?: () => number;
}

export interface CircuitBreaker {
  /** Before each call to `system`: resolves when the call may go out, throws CircuitOpenError otherwise. */
  check(system: CircuitSystem): Promise<void>;
  /** The outcome of one call (see `outcomeOf`). */
  record(system: CircuitSystem, outcome: CircuitOutcome): Promise<void>;
  /** For the transport's `observe` hook: never throws, never rejects (errors go to `onError`). */
  recordExchange(system: CircuitSystem, status: number | 'timeout' | 'network'): void;
  /** The shared state, read from Redis (for /ready, metrics and the dashboard). */
  state(system: CircuitSystem): Promise<CircuitStatus>;
  /** Several at once (default: every system). */
  states(systems?: readonly CircuitSystem[]): Promise<Partial<Record<CircuitSystem, CircuitStatus>>>;
  /** Writes successes still summed locally (call before closing the Redis connection). */
  flush(): Promise<void>;
}

/** 5xx, timeouts and network errors are failures; every other answer shows the upstream is up. */
export function outcomeOf(status: number | 'timeout' | 'network'): CircuitOutcome {
  return status === 'timeout' || status === 'network' || status >= 500 ? 'failure' : 'success';
}

interface CacheEntry {
  state: CircuitState;
  fetchedAt: number;
  /** Local time until which callers are refused without asking Redis. */
  waitUntil: number;
}

export function createCircuitBreaker(options: CircuitBreakerOptions): CircuitBreaker {
  const settings = settingsOf(options);
  const { now, cacheMs, flushMs } = settings;
  const shared = createSharedCircuit(options, settings);
  const pendingSuccesses = new Map<CircuitSystem, number>();
  const lastFlush = new Map<CircuitSystem, number>();

  async function send(system: CircuitSystem, failures: number, successes: number): Promise<void> {
    lastFlush.set(system, now());
    await shared.record(system, failures, successes);
  }

  async function flushSystem(system: CircuitSystem): Promise<void> {
    const successes = pendingSuccesses.get(system) ?? 0;
    if (successes === 0) return;
    pendingSuccesses.delete(system);
    await send(system, 0, successes);
  }

  const breaker: CircuitBreaker = {
    async check(system) {
      const at = now();
      const cached = shared.cached(system);
      if (cached && at - cached.fetchedAt < cacheMs) {
        if (cached.state === 'closed') return;
        if (at < cached.waitUntil) throw shared.refusal(system, cached.waitUntil - at);
      }
      await shared.check(system);
    },

    async record(system, outcome) {
      const cached = shared.cached(system);
      const closed = cached === undefined || cached.state === 'closed';
      if (outcome === 'success' && closed && !shared.isProbing(system)) {
        pendingSuccesses.set(system, (pendingSuccesses.get(system) ?? 0) + 1);
        if (now() - (lastFlush.get(system) ?? 0) >= flushMs) await flushSystem(system);
        return;
      }
      const successes = (pendingSuccesses.get(system) ?? 0) + (outcome === 'success' ? 1 : 0);
      pendingSuccesses.delete(system);
      await send(system, outcome === 'failure' ? 1 : 0, successes);
    },

    recordExchange(system, status) {
      breaker.record(system, outcomeOf(status)).catch((error: unknown) => options.onError?.(error));
    },

    state: shared.state,

    async states(systems = UPSTREAM_SYSTEMS) {
      const entries = await Promise.all(systems.map(async (system) => [system, await shared.state(system)] as const));
      const result: Partial<Record<CircuitSystem, CircuitStatus>> = {};
      for (const [system, status] of entries) result[system] = status;
      return result;
    },

    async flush() {
      await Promise.all([...pendingSuccesses.keys()].map((system) => flushSystem(system)));
    },
  };
  return breaker;
}

/** The options with their defaults, checked. */
type CircuitSettings = Required<Pick<CircuitBreakerOptions, 'minFailures' | 'failureRate' | 'windowMs' | 'cooldownMs' | 'maxCooldownMs' | 'probeLeaseMs' | 'probeWaitMs' | 'cacheMs' | 'flushMs' | 'jitterMs' | 'now' | 'random'>>;

function settingsOf(options: CircuitBreakerOptions): CircuitSettings {
  const failureRate = options.failureRate ?? 0.5;
  if (!(failureRate > 0 && failureRate <= 1)) throw new RangeError(`failureRate must be in (0, 1], got ${failureRate}`);
  const cooldownMs = positiveInt(options.cooldownMs ?? 30_000, 'cooldownMs');
  return {
    minFailures: positiveInt(options.minFailures ?? 10, 'minFailures'),
    failureRate,
    windowMs: Math.max(1_000, Math.round(positiveInt(options.windowMs ?? 30_000, 'windowMs') / 1_000) * 1_000),
    cooldownMs,
    maxCooldownMs: Math.max(cooldownMs, positiveInt(options.maxCooldownMs ?? 300_000, 'maxCooldownMs')),
    probeLeaseMs: positiveInt(options.probeLeaseMs ?? 30_000, 'probeLeaseMs'),
    probeWaitMs: positiveInt(options.probeWaitMs ?? 1_000, 'probeWaitMs'),
    cacheMs: options.cacheMs ?? 250,
    flushMs: options.flushMs ?? 250,
    jitterMs: options.jitterMs ?? 500,
    now: options.now ?? Date.now,
    random: options.random ?? Math.random,
  };
}

/** The circuit as Redis holds it, with this process's last view of it and the probes it holds. */
interface SharedCircuit {
  cached(system: CircuitSystem): CacheEntry | undefined;
  isProbing(system: CircuitSystem): boolean;
  /** The error that holds a caller back for `waitMs`, plus jitter. */
  refusal(system: CircuitSystem, waitMs: number): CircuitOpenError;
  /** Writes outcomes; a transition they cause is reported to `onStateChange`. */
  record(system: CircuitSystem, failures: number, successes: number): Promise<void>;
  /** Asks for a call: resolves when it may go out (maybe as the probe), throws CircuitOpenError otherwise. */
  check(system: CircuitSystem): Promise<void>;
  state(system: CircuitSystem): Promise<CircuitStatus>;
}

function createSharedCircuit(options: CircuitBreakerOptions, settings: CircuitSettings): SharedCircuit {
  const { redis, prefix } = options;
  const { minFailures, failureRate, windowMs, cooldownMs, maxCooldownMs, probeLeaseMs, probeWaitMs, jitterMs, now, random } = settings;
  const runRecord = loadScript(redis, RECORD_SCRIPT);
  const runCheck = loadScript(redis, CHECK_SCRIPT);

  const cache = new Map<CircuitSystem, CacheEntry>();
  // Systems this process holds the probe of: their outcome must reach Redis at once.
  const probing = new Set<CircuitSystem>();

  const keys = (system: CircuitSystem) => {
    // One hash tag per system keeps the three keys in one Redis Cluster slot.
    const tag = `{${system}}`;
    return [stateKey(prefix, 'circuit', tag, 'state'), stateKey(prefix, 'circuit', tag, 'window'), stateKey(prefix, 'circuit', tag, 'probe')];
  };

  function emit(change: CircuitChange): void {
    try {
      options.onStateChange?.(change);
    } catch (error) {
      options.onError?.(error);
    }
  }

  function remember(system: CircuitSystem, state: CircuitState, waitMs: number): void {
    const at = now();
    cache.set(system, { state, fetchedAt: at, waitUntil: at + waitMs });
  }

  function refusal(system: CircuitSystem, waitMs: number): CircuitOpenError {
    return new CircuitOpenError(system, Math.max(1, Math.ceil(waitMs)) + Math.floor(random() * (jitterMs + 1)));
  }

  async function runChecked(system: CircuitSystem, lease: string, grant: 0 | 1): Promise<z.infer<typeof CheckReplySchema>> {
    const parsed = CheckReplySchema.safeParse(await runCheck(keys(system), [probeLeaseMs, probeWaitMs, lease, grant]));
    if (!parsed.success) throw new CircuitScriptError('unexpected circuit check script reply');
    return parsed.data;
  }

  return {
    cached: (system) => cache.get(system),
    isProbing: (system) => probing.has(system),
    refusal,

    async record(system, failures, successes) {
      const raw = await runRecord(keys(system), [failures, successes, windowMs, minFailures, failureRate, cooldownMs, maxCooldownMs]);
      const parsed = RecordReplySchema.safeParse(raw);
      if (!parsed.success) throw new CircuitScriptError('unexpected circuit record script reply');
      const [state, waitMs, from, windowFailures, outcomes, cooldown] = parsed.data;
      remember(system, state, waitMs);
      if (state !== 'half-open') probing.delete(system);
      if (from === '') return;
      const tripped = from === 'closed' ? { failures: windowFailures, outcomes } : {};
      emit({ system, from, to: state, ...(state === 'open' ? { cooldownMs: cooldown } : {}), ...tripped });
    },

    async check(system) {
      const [state, waitMs, granted, from] = await runChecked(system, randomUUID(), 1);
      if (granted === 1) {
        // This caller is the probe; other callers of this process wait like everyone else's.
        probing.add(system);
        remember(system, 'half-open', probeWaitMs);
        if (from !== '' && from !== 'half-open') emit({ system, from, to: 'half-open' });
        return;
      }
      remember(system, state, waitMs);
      if (state === 'closed') return;
      throw refusal(system, waitMs);
    },

    async state(system) {
      const [state, waitMs] = await runChecked(system, '', 0);
      return { state, retryAfterMs: state === 'open' ? waitMs : 0 };
    },
  };
}

/**
 * A call budget (`{ take() }`, as the Trustpilot and Opinion Stage clients take) that first checks the
 * circuit, so an open circuit neither sends a request nor spends budget.
 */
export function circuitGuard(breaker: Pick<CircuitBreaker, 'check'>, system: CircuitSystem, inner?: { take(): Promise<void> }): { take(): Promise<void> } {
  return {
    async take() {
      await breaker.check(system);
      await inner?.take();
    },
  };
}

/**
 * One readiness check per circuit for GET /ready. An open circuit is shown in `detail` but is not a
 * failure unless `failWhenOpen`: a 503 would take the web process out of its load balancer, and
 * webhooks must still be accepted (they wait in the queue) while an upstream is down.
 */
export function circuitReadinessChecks(
  breaker: Pick<CircuitBreaker, 'state'>,
  systems: readonly CircuitSystem[],
  options: { failWhenOpen?: boolean } = {},
): { name: string; check(): Promise<{ ok: boolean; detail: string }> }[] {
  return systems.map((system) => ({
    name: `circuit-${system}`,
    async check() {
      const status = await breaker.state(system);
      const detail =
        status.state === 'open'
          ? status.retryAfterMs > 0
            ? `open, next probe in ${Math.ceil(status.retryAfterMs / 1000)} s`
            : 'open, probe due'
          : status.state;
      return { ok: !(options.failWhenOpen === true && status.state === 'open'), detail };
    },
  }));
}

function positiveInt(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer, got ${value}`);
  return value;
}


