/**
 * GHL's per-location budget headers (rate-limits page): burst `X-RateLimit-Max` per
 * `X-RateLimit-Interval-Milliseconds`, plus a daily allowance. Names arrive lower-cased from undici.
 */

export interface GhlRateLimitHeaders {
  /** Requests allowed per interval (burst), e.g. 100. */
  max: number | undefined;
  /** Requests left in the current interval. */
  remaining: number | undefined;
  /** Length of the burst window, e.g. 10000. */
  intervalMs: number | undefined;
  dailyLimit: number | undefined;
  dailyRemaining: number | undefined;
}

/** The X-RateLimit-* values of a response, or undefined when it carries none. */
export function readRateLimitHeaders(headers: Record<string, string>): GhlRateLimitHeaders | undefined {
  const info: GhlRateLimitHeaders = {
    max: numberHeader(headers['x-ratelimit-max']),
    remaining: numberHeader(headers['x-ratelimit-remaining']),
    intervalMs: numberHeader(headers['x-ratelimit-interval-milliseconds']),
    dailyLimit: numberHeader(headers['x-ratelimit-limit-daily']),
    dailyRemaining: numberHeader(headers['x-ratelimit-daily-remaining']),
  };
  return Object.values(info).some((value) => value !== undefined) ? info : undefined;
}

function numberHeader(value: string | undefined): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const parsed = Number(value);
  return Number.isFinite(parsed) && parsed >= 0 ? parsed : undefined;
}
