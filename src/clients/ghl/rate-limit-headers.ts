/**
 * GHL's per-location budget headers (rate-limits page): burst `X-RateLimit-Max` per
 * `X-RateLimit-Interval-Milliseconds`, plus a daily allowance. Names arrive lower-cased from undici.
 * The rules for what those headers mean for our shared budget live here too, so GHL's header rules have
 * one home.
 */
import type { BudgetLimit, RateBudget } from '../http/rate-budget-types.js';

const DAY_MS = 86_400_000;

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

/** GHL's published burst interval, used when a response omits X-RateLimit-Interval-Milliseconds. */
const GHL_DEFAULT_INTERVAL_MS = 10_000;

/**
 * After a GHL response: when GHL says a limit is spent, block the key even if our own count has room
 * (another app shares the location, or GHL counts differently). We do not know where GHL's window
 * started, so the block lasts a whole interval. Returns the block deadline it set, if any.
 */
export async function observeGhlHeaders(
  budget: RateBudget,
  key: string,
  headers: Partial<GhlRateLimitHeaders>,
  nowMs: number,
): Promise<number | undefined> {
  let untilMs: number | undefined;
  if (headers.dailyRemaining === 0) untilMs = (Math.floor(nowMs / DAY_MS) + 1) * DAY_MS;
  else if (headers.remaining === 0) untilMs = nowMs + (headers.intervalMs ?? GHL_DEFAULT_INTERVAL_MS);
  if (untilMs === undefined) return undefined;
  await budget.block(key, untilMs);
  return untilMs;
}

/**
 * The limit GHL says applies to a location (X-RateLimit-Max / -Interval-Milliseconds / -Limit-Daily),
 * falling back to the configured one for whatever the headers leave out or give as nonsense.
 */
export function correctGhlLimit(
  configured: BudgetLimit,
  headers: Partial<GhlRateLimitHeaders>,
): BudgetLimit {
  const positive = (value: number | undefined): value is number =>
    value !== undefined && Number.isInteger(value) && value > 0;
  const daily = positive(headers.dailyLimit) ? headers.dailyLimit : configured.daily;
  return {
    max: positive(headers.max) ? headers.max : configured.max,
    windowMs: positive(headers.intervalMs) ? headers.intervalMs : configured.windowMs,
    ...(daily === undefined ? {} : { daily }),
  };
}
