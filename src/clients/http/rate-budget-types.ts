/**
 * The shared call budget contract: every outside call first takes a token from its budget, which is
 * shared by every worker process through Redis. A spent budget does not hold a worker slot: the
 * caller gets RateBudgetExceededError with the time to wait, and the job is delayed by that much
 * (a job refused midway waits in place for a short while instead: budget-wait.ts).
 */

import { BridgeError } from '../../observability/errors.js';

export interface BudgetLimit {
  /** Calls allowed per window. */
  max: number;
  windowMs: number;
  /** Optional second, longer limit (GHL's daily cap). */
  daily?: number;
}

export interface BudgetDecision {
  ok: boolean;
  /** When !ok: how long until a call will be allowed. */
  retryAfterMs: number;
  /** Calls left in the current window after this one (for metrics and the dashboard). */
  remaining: number;
  /** Which limit refused the call. */
  scope?: 'window' | 'day' | 'blocked';
  /** When ok: names the granted slot, for `settle`. */
  grant?: string;
}

export interface RateBudget {
  /** Takes one call from `key`'s budget atomically (Lua), or says how long to wait. */
  take(key: string, limit: BudgetLimit): Promise<BudgetDecision>;
  /**
   * Moves a granted slot to now (the response time), less `earlierMs`. The upstream counts a call when
   * it arrives, which is after the slot was taken and before its answer reached us; counting it at the
   * response keeps our window behind theirs. A caller that takes with a window longer than the
   * upstream's (a margin for calls still in flight) passes that margin as `earlierMs` for an answered
   * call: the slot then frees exactly the upstream's window after the answer, never earlier.
   */
  settle?(key: string, grant: string, windowMs: number, earlierMs?: number): Promise<void>;
  /** The upstream said 429: no call for `key` until `untilMs` (epoch ms), whatever the counters say. */
  block(key: string, untilMs: number): Promise<void>;
  /** Current usage for dashboards: calls in the window and today. */
  usage(key: string, limit: BudgetLimit): Promise<{ window: number; day: number; blockedUntil?: number }>;
}

export class RateBudgetExceededError extends BridgeError<'RATE_BUDGET_EXCEEDED'> {
  constructor(
    readonly system: string,
    readonly retryAfterMs: number,
    readonly scope: 'window' | 'day' | 'blocked',
  ) {
    super('RATE_BUDGET_EXCEEDED', `${system} call budget spent (${scope}); next call in ${retryAfterMs} ms`);
  }
}
