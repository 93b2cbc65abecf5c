/**
 * The one place that decides what a failure means (STYLE.md habit 6):
 * - retry: network errors, timeouts, 5xx, 408, and anything unknown (BullMQ backs off with jitter);
 * - give up: 400, 401 (after the client's one refresh), 403, 404, 422, and bad input; an answer that
 *   says the entity is gone (GhlApiError.notFound) is labelled so, whatever status GHL used for it;
 * - wait: 429 waits for the upstream's reset and burns no attempt.
 */
import { ZodError } from 'zod';
import { isGhlNotFound } from '../clients/ghl/ghl-api-error.js';
import { UpstreamError } from '../clients/http/upstream-error.js';
import { CircuitOpenError } from '../state/circuit-breaker.js';
import { RateBudgetExceededError } from '../clients/http/rate-budget-types.js';

export type FailureDecision =
  | { action: 'retry'; cause: string }
  | { action: 'give-up'; cause: string }
  | { action: 'wait'; delayMs: number; cause: string };

const PERMANENT_STATUSES = new Set([400, 401, 403, 404, 405, 409, 410, 413, 415, 422]);
/** Client-side refusals: the request was wrong before it was sent, so sending it again cannot help. */
const PERMANENT_CODES = new Set([
  'GHL_LOCATION_NOT_SERVED',
  'GHL_INVALID_ID',
  'GHL_INVALID_REQUEST',
  // A location whose refresh token GHL refused: nothing works until someone reconnects it.
  'GHL_RECONNECT_REQUIRED',
  'TRUSTPILOT_PRIVATE_NOT_CONFIGURED',
  'TRUSTPILOT_INVALID_ID',
  'TRUSTPILOT_INVALID_REQUEST',
  'TRUSTPILOT_TOKEN_STORE_KEY',
  'OPINIONSTAGE_INVALID_ID',
  'OPINIONSTAGE_INVALID_REQUEST',
  'MAPPING_INVALID',
]);
const DEFAULT_RATE_LIMIT_WAIT_MS = 10_000;
const MAX_RATE_LIMIT_WAIT_MS = 24 * 3_600_000;

/** Errors our own code raises when retrying cannot help (bad job data, unserved location...). */
export class PermanentJobError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'PermanentJobError';
  }
}

export function classifyError(error: unknown): FailureDecision {
  if (error instanceof UpstreamError) {
    const cause = `${error.system}:${error.status ?? error.code}`;
    if (error.code === 'UPSTREAM_TIMEOUT' || error.code === 'UPSTREAM_NETWORK') return { action: 'retry', cause };
    // A 2xx with a body we cannot read will not read better next time: show it to a human.
    if (error.code === 'UPSTREAM_BAD_RESPONSE') return { action: 'give-up', cause: `${error.system}:bad-response` };
    // A flow that expects a deletion handles it before this point; here "gone" is a failure for good.
    if (isGhlNotFound(error)) return { action: 'give-up', cause: `${cause}:not-found` };
    const status = error.status ?? 0;
    if (status === 429) {
      const delayMs = Math.min(MAX_RATE_LIMIT_WAIT_MS, Math.max(250, error.retryAfterMs ?? DEFAULT_RATE_LIMIT_WAIT_MS));
      return { action: 'wait', delayMs, cause };
    }
    if (PERMANENT_STATUSES.has(status)) return { action: 'give-up', cause };
    return { action: 'retry', cause };
  }
  if (error instanceof RateBudgetExceededError) {
    // Our own budget is spent: wait for it like for an upstream 429. Jitter spreads the jobs refused
    // together, so they do not all wake at the same moment to be refused again.
    const jitter = Math.floor(Math.random() * Math.min(1_000, error.retryAfterMs / 2 + 50));
    return { action: 'wait', delayMs: Math.max(50, error.retryAfterMs) + jitter, cause: `${error.system}:budget-${error.scope}` };
  }
  if (error instanceof CircuitOpenError) return { action: 'wait', delayMs: Math.max(250, error.retryAfterMs), cause: `${error.system}:circuit-open` };
  if (error instanceof PermanentJobError) return { action: 'give-up', cause: error.code };
  if (error instanceof ZodError) return { action: 'give-up', cause: 'invalid-job-data' };
  const code = error instanceof Error && 'code' in error && typeof error.code === 'string' ? error.code : undefined;
  if (code !== undefined && PERMANENT_CODES.has(code)) return { action: 'give-up', cause: code };
  return { action: 'retry', cause: code ?? (error instanceof Error ? error.name : 'unknown') };
}
