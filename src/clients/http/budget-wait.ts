/**
 * When a refused call waits in place instead of delaying its job.
 *
 * A job refused at its first outside call is delayed (RateBudgetExceededError): it holds no worker
 * slot while it waits, so jobs of other locations go on. A job refused later in its run has already
 * spent calls (read the contact, written fields); delaying it would make its next run spend the
 * reads again, and under a saturated window most of the budget would go on such repeats. So once a
 * job run has spent something (been granted a call, or used up what only a call could replace: see
 * noteRunProgress), a refusal that will clear soon (the rolling window or a short upstream block, not
 * the daily cap) waits for its slot right there.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { RateBudgetExceededError } from './rate-budget-types.js';

/** Longest wait in place per job run: one GHL window (10 s) and its margin; shorter than a graceful shutdown. */
export const MAX_IN_PLACE_WAIT_MS = 12_000;
/** Spreads the waiters that were refused together, so they do not ask again at the same instant. */
const WAKE_JITTER_MS = 50;

interface JobRun {
  /** Calls granted, and other things a retry would have to fetch again. */
  spent: number;
  waitedMs: number;
}

const runs = new AsyncLocalStorage<JobRun>();

/** Runs one job attempt; the calls its clients are granted inside are counted for it. */
export function runAsJob<T>(attempt: () => Promise<T>): Promise<T> {
  return runs.run({ spent: 0, waitedMs: 0 }, attempt);
}

/**
 * The run has used up something a retry could only replace with a call (a stored contact snapshot,
 * taken once): from now on it waits in place like a run that has made a call.
 */
export function noteRunProgress(): void {
  const run = runs.getStore();
  if (run) run.spent += 1;
}

/**
 * Takes a call slot through `takeOnce` (which throws RateBudgetExceededError when refused), waiting
 * in place as described above; otherwise the refusal is thrown to the caller.
 */
export async function takeSlot<T>(takeOnce: () => Promise<T>, maxWaitMs = MAX_IN_PLACE_WAIT_MS): Promise<T> {
  for (;;) {
    try {
      const slot = await takeOnce();
      const run = runs.getStore();
      if (run) run.spent += 1;
      return slot;
    } catch (error) {
      const run = runs.getStore();
      if (!(error instanceof RateBudgetExceededError) || !run || run.spent === 0 || error.scope === 'day') throw error;
      const waitMs = Math.max(1, error.retryAfterMs) + Math.floor(Math.random() * WAKE_JITTER_MS);
      if (run.waitedMs + waitMs > maxWaitMs) throw error;
      run.waitedMs += waitMs;
      await sleep(waitMs);
    }
  }
}
