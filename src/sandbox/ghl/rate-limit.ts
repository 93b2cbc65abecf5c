/**
 * Per-location budgets as GHL publishes them: a burst limit (default 100 per 10 s) and a
 * daily limit (200,000). The burst window is a sliding log: a call is admitted when fewer than `max`
 * calls were admitted in the last `windowMs`. Sliding is the stricter reading of GHL's "100 requests
 * per 10 seconds", so a client that stays inside it also stays inside a fixed window. The daily count
 * resets at midnight UTC. Every answer carries GHL's X-RateLimit-* headers.
 */

export interface RateLimitOptions {
  max: number;
  windowMs: number;
  daily: number;
}

export interface RateDecision {
  allowed: boolean;
  /** Seconds until a call would be admitted again (only when refused). */
  retryAfterSeconds: number;
  headers: Record<string, string>;
}

export interface RateLimiter {
  consume(locationId: string, now?: number): RateDecision;
  /** Headers for an answer that is not counted (no known location, or a simulated exhaustion). */
  headers(locationId: string | undefined, now?: number, spent?: boolean): Record<string, string>;
  /** The most calls (admitted or refused) that any `windowMs`-long window saw for the location. */
  maxCallsInAnyWindow(locationId: string): number;
  reset(): void;
}

interface Budget {
  admitted: number[];
  seen: number[];
  maxSeen: number;
  day: string;
  dailyUsed: number;
}

const DAY_MS = 86_400_000;

export function createRateLimiter(options: RateLimitOptions): RateLimiter {
  const budgets = new Map<string, Budget>();

  function budget(locationId: string, now: number): Budget {
    const day = new Date(now).toISOString().slice(0, 10);
    let found = budgets.get(locationId);
    if (!found) {
      found = { admitted: [], seen: [], maxSeen: 0, day, dailyUsed: 0 };
      budgets.set(locationId, found);
    }
    if (found.day !== day) {
      found.day = day;
      found.dailyUsed = 0;
    }
    const horizon = now - options.windowMs;
    while (found.admitted.length > 0 && (found.admitted[0] ?? now) <= horizon) found.admitted.shift();
    while (found.seen.length > 0 && (found.seen[0] ?? now) <= horizon) found.seen.shift();
    return found;
  }

  function headerSet(windowRemaining: number, dailyRemaining: number): Record<string, string> {
    return {
      'x-ratelimit-limit-daily': String(options.daily),
      'x-ratelimit-daily-remaining': String(Math.max(0, dailyRemaining)),
      'x-ratelimit-interval-milliseconds': String(options.windowMs),
      'x-ratelimit-max': String(options.max),
      'x-ratelimit-remaining': String(Math.max(0, windowRemaining)),
    };
  }

  return {
    consume(locationId, now = Date.now()) {
      const found = budget(locationId, now);
      found.seen.push(now);
      found.maxSeen = Math.max(found.maxSeen, found.seen.length);
      if (found.dailyUsed >= options.daily) {
        const midnight = Math.floor(now / DAY_MS) * DAY_MS + DAY_MS;
        return {
          allowed: false,
          retryAfterSeconds: Math.max(1, Math.ceil((midnight - now) / 1000)),
          headers: headerSet(options.max - found.admitted.length, 0),
        };
      }
      if (found.admitted.length >= options.max) {
        const oldest = found.admitted[0] ?? now;
        return {
          allowed: false,
          retryAfterSeconds: Math.max(1, Math.ceil((oldest + options.windowMs - now) / 1000)),
          headers: headerSet(0, options.daily - found.dailyUsed),
        };
      }
      found.admitted.push(now);
      found.dailyUsed += 1;
      return {
        allowed: true,
        retryAfterSeconds: 0,
        headers: headerSet(options.max - found.admitted.length, options.daily - found.dailyUsed),
      };
    },
    headers(locationId, now = Date.now(), spent = false) {
      if (locationId === undefined) return headerSet(options.max, options.daily);
      const found = budget(locationId, now);
      return headerSet(spent ? 0 : options.max - found.admitted.length, options.daily - found.dailyUsed);
    },
    maxCallsInAnyWindow: (locationId) => budgets.get(locationId)?.maxSeen ?? 0,
    reset() {
      budgets.clear();
    },
  };
}
