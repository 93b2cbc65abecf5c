/**
 * Trustpilot's published budget, "833 calls per 5 minutes" per application, as a sliding
 * log per API key: a call is admitted when fewer than `max` calls were admitted in the last
 * `windowMs`. Refused calls are not admitted; the 429 carries Retry-After (undocumented by
 * Trustpilot: clients must also cope without it).
 */

export interface RateDecision {
  allowed: boolean;
  /** Seconds until a call would be admitted again (only when refused). */
  retryAfterSeconds: number;
}

export interface RateLimiter {
  consume(key: string, now?: number): RateDecision;
  /** The most calls (admitted or refused) that any `windowMs`-long window saw for the key. */
  maxCallsInAnyWindow(key: string): number;
}

interface Budget {
  admitted: number[];
  seen: number[];
  maxSeen: number;
}

export function createRateLimiter(options: { max: number; windowMs: number }): RateLimiter {
  const budgets = new Map<string, Budget>();

  return {
    consume(key, now = Date.now()) {
      let budget = budgets.get(key);
      if (!budget) {
        budget = { admitted: [], seen: [], maxSeen: 0 };
        budgets.set(key, budget);
      }
      const horizon = now - options.windowMs;
      while (budget.admitted.length > 0 && (budget.admitted[0] ?? now) <= horizon) budget.admitted.shift();
      while (budget.seen.length > 0 && (budget.seen[0] ?? now) <= horizon) budget.seen.shift();
      budget.seen.push(now);
      budget.maxSeen = Math.max(budget.maxSeen, budget.seen.length);
      if (budget.admitted.length >= options.max) {
        const oldest = budget.admitted[0] ?? now;
        return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((oldest + options.windowMs - now) / 1000)) };
      }
      budget.admitted.push(now);
      return { allowed: true, retryAfterSeconds: 0 };
    },
    maxCallsInAnyWindow: (key) => budgets.get(key)?.maxSeen ?? 0,
  };
}
