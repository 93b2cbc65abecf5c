/**
 * GHL's per-location call budget. Every GHL request first
 * takes one call from `ghl:<locationId>` in the shared Redis budget, so all worker processes together
 * stay within GHL_RATE_LIMIT and GHL_DAILY_LIMIT. GHL's X-RateLimit-* headers can only tighten that
 * limit, and a location GHL calls spent (remaining 0 that our own count does not explain, a spent
 * day, a 429) is blocked for every process, not only the one that saw it.
 */
import { RateBudgetExceededError, type BudgetLimit, type RateBudget } from '../http/rate-budget-types.js';
import { takeSlot } from '../http/budget-wait.js';
import type { CallBudget } from '../http/budgeted.js';
import type { GhlCallBudget } from './ghl-call.js';
import { correctGhlLimit, observeGhlHeaders, type GhlRateLimitHeaders } from './rate-limit-headers.js';

/**
 * GHL counts a request when it arrives, after it took its slot here. The window is taken this much
 * longer than GHL's, for the requests still in flight. Once the answer is in, the slot is moved to the
 * response time (`settle`), which is after GHL counted the call, so the margin is no longer needed:
 * an answered call's slot frees exactly GHL's window after its answer. A call that failed without
 * an answer (timeout, network) keeps the margin on top of the time it failed.
 */
export const DEFAULT_GHL_BUDGET_MARGIN_MS = 100;

/** Called once the call's answer is in (`answered`) or it failed without one. */
type Settle = (answered: boolean) => Promise<void>;

export interface GhlBudgetOptions {
  budget: RateBudget;
  /** GHL_RATE_LIMIT, with GHL_DAILY_LIMIT as `daily`. */
  limit: BudgetLimit;
  /** Added to the window (and to blocks derived from it); see DEFAULT_GHL_BUDGET_MARGIN_MS. */
  marginMs?: number;
  /**
   * Share (0..1) of the location's daily allowance used, from GHL's daily headers after each response
   * that carries them, and 1 when our own daily count refuses a call. For the 90 % alert; the callee
   * dedupes. Must not throw (it is guarded anyway).
   */
  onDailyUsage?: (locationId: string, usedFraction: number) => void;
  now?: () => number;
}

export interface GhlBudgetUsage {
  window: number;
  day: number;
  blockedUntil?: number;
  /** The limit as enforced: configured, tightened by GHL's last headers, window plus margin. */
  limit: BudgetLimit;
}

export interface GhlBudget extends GhlCallBudget {
  /** One location's budget in the shape the other clients take (`CallBudget`). */
  forLocation(locationId: string): CallBudget;
  /** The limit currently enforced for the location (see GhlBudgetUsage.limit). */
  limitFor(locationId: string): BudgetLimit;
  /** Calls in the window and today, and any block, for the dashboard. */
  usage(locationId: string): Promise<GhlBudgetUsage>;
}

export function createGhlBudget(options: GhlBudgetOptions): GhlBudget {
  const { budget, limit: configured } = options;
  const marginMs = options.marginMs ?? DEFAULT_GHL_BUDGET_MARGIN_MS;
  if (!Number.isInteger(marginMs) || marginMs < 0) throw new RangeError(`marginMs must be a non-negative integer, got ${marginMs}`);
  const now = options.now ?? Date.now;
  const { limitFor, learn, reportDaily } = createLimitTracker(configured, marginMs, options.onDailyUsage);
  const keyOf = (locationId: string) => `ghl:${locationId}`;

  /** One slot, waiting in place when a job run is refused midway (budget-wait.ts). */
  const take = (locationId: string): Promise<Settle> => takeSlot(() => takeOnce(locationId));

  async function takeOnce(locationId: string): Promise<Settle> {
    const limit = limitFor(locationId);
    const decision = await budget.take(keyOf(locationId), limit);
    if (decision.ok) {
      const grant = decision.grant;
      return async (answered) => {
        if (grant === undefined) return;
        await budget.settle?.(keyOf(locationId), grant, limit.windowMs, answered ? marginMs : 0).catch(() => undefined);
      };
    }
    if (decision.scope === 'day') reportDaily(locationId, 1);
    throw new RateBudgetExceededError('ghl', decision.retryAfterMs, decision.scope ?? 'window');
  }

  return {
    take,

    forLocation(locationId) {
      return {
        take: async () => {
          await take(locationId);
        },
      };
    },

    async onHeaders(locationId, info) {
      try {
        learn(locationId, info);
        const enforced = limitFor(locationId);
        // GHL at 0 while our own log is full is our own burst: the log already holds the next call
        // until its oldest grant leaves, so a whole-interval block would only cost throughput.
        // Otherwise someone else spends this location's budget, and every process must stop.
        // GHL counted its window when it answered; by the time this reads our log (the answer's way
        // back, a busy event loop), grants GHL still counted may have left our window. So our own
        // calls explain the 0 when we made `max` of them in the last two windows; another app's
        // spending missed that way still meets its 429, which blocks the location.
        const lookback = { ...enforced, windowMs: 2 * enforced.windowMs };
        const spentElsewhere =
          info.remaining === 0 && info.dailyRemaining !== 0 && (await budget.usage(keyOf(locationId), lookback)).window < enforced.max;
        if (info.dailyRemaining === 0 || spentElsewhere) {
          await observeGhlHeaders(budget, keyOf(locationId), { remaining: info.remaining, dailyRemaining: info.dailyRemaining, intervalMs: enforced.windowMs }, now());
        }
      } catch {
        // Advisory: our own count still holds the limit when Redis hiccups here.
      }
    },

    async onRateLimited(locationId, waitMs, info) {
      try {
        if (info !== undefined) learn(locationId, info);
        // GHL's Retry-After says when; the headers' remaining 0 would only say "a whole interval".
        await budget.block(keyOf(locationId), now() + (waitMs ?? limitFor(locationId).windowMs));
        if (info?.dailyRemaining === 0) await observeGhlHeaders(budget, keyOf(locationId), { dailyRemaining: 0 }, now());
      } catch {
        // Advisory: the job that met the 429 waits anyway; other workers would meet it themselves.
      }
    },

    limitFor,

    async usage(locationId) {
      const limit = limitFor(locationId);
      return { ...(await budget.usage(keyOf(locationId), limit)), limit };
    },
  };
}

interface LimitTracker {
  /** The limit enforced for the location: configured, tightened by GHL's last headers, window plus margin. */
  limitFor(locationId: string): BudgetLimit;
  /** Tightens the location's limit from GHL's headers and reports the day's use. */
  learn(locationId: string, info: GhlRateLimitHeaders): void;
  /** Passes the share of the day's allowance used on to `onDailyUsage`, never throwing. */
  reportDaily(locationId: string, usedFraction: number): void;
}

function createLimitTracker(configured: BudgetLimit, marginMs: number, onDailyUsage: GhlBudgetOptions['onDailyUsage']): LimitTracker {
  // What GHL last said about each location. Per process: every process sees headers on its first call.
  const reported = new Map<string, BudgetLimit>();

  function limitFor(locationId: string): BudgetLimit {
    const limit = reported.get(locationId) ?? configured;
    return { ...limit, windowMs: limit.windowMs + marginMs };
  }

  function reportDaily(locationId: string, usedFraction: number): void {
    if (!onDailyUsage || !Number.isFinite(usedFraction)) return;
    try {
      onDailyUsage(locationId, Math.min(1, Math.max(0, usedFraction)));
    } catch {
      // Advisory: an alerting bug must not fail a GHL call.
    }
  }

  function learn(locationId: string, info: GhlRateLimitHeaders): void {
    const limit = tighten(configured, correctGhlLimit(configured, info));
    reported.set(locationId, limit);
    const dailyUsed = dailyFraction(info, limit);
    if (dailyUsed !== undefined) reportDaily(locationId, dailyUsed);
  }

  return { limitFor, learn, reportDaily };
}

/**
 * The stricter of what we were told and what GHL reports: fewer calls over a longer window keeps
 * both promises, so GHL_RATE_LIMIT set below GHL's own limit (to leave room for other apps) holds.
 */
function tighten(configured: BudgetLimit, reported: BudgetLimit): BudgetLimit {
  const dailies = [configured.daily, reported.daily].filter((value): value is number => value !== undefined);
  return {
    max: Math.min(configured.max, reported.max),
    windowMs: Math.max(configured.windowMs, reported.windowMs),
    ...(dailies.length > 0 ? { daily: Math.min(...dailies) } : {}),
  };
}

/** GHL's own count of today's calls (other apps' included) against the daily allowance we enforce. */
function dailyFraction(info: GhlRateLimitHeaders, limit: BudgetLimit): number | undefined {
  const allowance = info.dailyLimit ?? limit.daily;
  if (info.dailyRemaining === undefined || allowance === undefined || limit.daily === undefined) return undefined;
  return (allowance - info.dailyRemaining) / limit.daily;
}
