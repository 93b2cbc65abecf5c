/** What the doctor's checks share: the result shape, the probe timeout and how errors are named. */
import { setTimeout as sleep } from 'node:timers/promises';
import { RateBudgetExceededError } from '../../clients/http/rate-budget-types.js';
import { UpstreamError } from '../../clients/http/upstream-error.js';
import { BridgeError } from '../../observability/errors.js';
import { budgetSpentAdvice } from '../../observability/troubleshooting.js';

/** The longest a single probe may take; a check that needs two probes can take twice as long. */
export const CHECK_TIMEOUT_MS = 5_000;
/** A spent rate budget is waited for only this long; doctor reports rather than stalls. */
const MAX_BUDGET_WAIT_MS = 3_000;

export type CheckStatus = 'ok' | 'fail' | 'warn' | 'skip';

export interface CheckResult {
  status: CheckStatus;
  /** ok/warn/fail: what was found; skip: why it was skipped. */
  detail?: string;
  /** fail/warn: what to do about it. */
  fix?: string;
}

export const ok = (detail?: string): CheckResult => (detail === undefined ? { status: 'ok' } : { status: 'ok', detail });
export const fail = (detail: string, fix: string): CheckResult => ({ status: 'fail', detail, fix });
export const warn = (detail: string, fix: string): CheckResult => ({ status: 'warn', detail, fix });
export const skip = (reason = 'not configured'): CheckResult => ({ status: 'skip', detail: reason });

export type Report = (name: string, result: CheckResult) => void;

export class ProbeTimeoutError extends BridgeError<'DOCTOR_PROBE_TIMEOUT'> {
  constructor(ms: number) {
    super('DOCTOR_PROBE_TIMEOUT', `no answer within ${ms / 1000} s`);
  }
}

export async function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([work, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new ProbeTimeoutError(ms)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

/** Waits out a spent budget when the wait is short; a long one is reported rather than sat through. */
export async function patiently<T>(take: () => Promise<T>): Promise<T> {
  for (;;) {
    try {
      return await take();
    } catch (error) {
      if (!(error instanceof RateBudgetExceededError) || error.retryAfterMs > MAX_BUDGET_WAIT_MS) throw error;
      await sleep(Math.max(1, error.retryAfterMs));
    }
  }
}


export function describe(error: unknown): string {
  if (error instanceof UpstreamError) return error.status === undefined ? error.code : `status ${error.status}`;
  if (error instanceof RateBudgetExceededError) return budgetSpentAdvice(error.system, Date.now() + error.retryAfterMs).what;
  if (error instanceof ProbeTimeoutError) return error.message;
  if (error instanceof Error && 'code' in error && typeof error.code === 'string') return error.code;
  return error instanceof Error ? error.name : 'unknown error';
}

/** A spent rate budget as a red line in the dashboard's words; undefined for any other error. */
export function budgetFailure(error: unknown): CheckResult | undefined {
  if (!(error instanceof RateBudgetExceededError)) return undefined;
  const advice = budgetSpentAdvice(error.system, Date.now() + error.retryAfterMs);
  return fail(advice.what, advice.todo);
}

/** An error code (ECONNREFUSED, UND_ERR_CONNECT_TIMEOUT…), never a message that may quote the URL. */
export function networkCode(error: unknown): string {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) return `no answer within ${CHECK_TIMEOUT_MS / 1000} s`;
  for (let current: unknown = error, depth = 0; current instanceof Error && depth < 4; current = current.cause, depth += 1) {
    if ('code' in current && typeof current.code === 'string') return current.code;
  }
  return error instanceof Error ? error.name : 'unknown error';
}

