/**
 * The one place that decides what a failure means, read from the error's properties (BridgeError's
 * `permanent` and `code`, an upstream's `status` and `retryAfterMs`), never from lists of codes:
 * - retry: network errors, timeouts, 5xx, 408, and anything unknown (BullMQ backs off with jitter);
 * - give up: an error that says it is permanent: 400, 401 (after the client's one refresh), 403,
 *   404, 422 (src/clients/http/upstream-error.ts), and bad input; an answer that says the entity is
 *   gone (GhlApiError.notFound) is labelled so, whatever status GHL used for it;
 * - wait: 429 waits for the upstream's reset and burns no attempt.
 */
import { ZodError } from 'zod';
import { BridgeError } from '../observability/errors.js';
import { isGhlNotFound } from '../clients/ghl/ghl-api-error.js';
import { UpstreamError } from '../clients/http/upstream-error.js';
import { CircuitOpenError } from '../state/circuit-breaker.js';
import { RateBudgetExceededError } from '../clients/http/rate-budget-types.js';

export type FailureDecision =
  | { action: 'retry'; cause: string }
  | { action: 'give-up'; cause: string }
  | { action: 'wait'; delayMs: number; cause: string; limit: RateLimitLabels };

/** Whose limit a waiting job waits for: the labels of the rate-limit-waits metric. */
export interface RateLimitLabels {
  system: string;
  /** A budget's scope, `upstream-429` or `circuit-open`. */
  scope: string;
}

const DEFAULT_RATE_LIMIT_WAIT_MS = 10_000;
const MAX_RATE_LIMIT_WAIT_MS = 24 * 3_600_000;

/** Errors our own code raises when retrying cannot help (bad job data, unserved location...). */
export class PermanentJobError extends BridgeError {
  constructor(code: string, message: string) {
    super(code, message, { permanent: true });
  }
}

export function classifyError(error: unknown): FailureDecision {
  if (error instanceof UpstreamError) {
    const cause = `${error.system}:${error.status ?? error.code}`;
    if (error.code === 'UPSTREAM_TIMEOUT' || error.code === 'UPSTREAM_NETWORK') return { action: 'retry', cause };
    // A 2xx with a body we cannot read will not read better next time: show it to a human.
    if (error.code === 'UPSTREAM_BAD_RESPONSE') return { action: 'give-up', cause: `${error.system}:bad-response` };
    if (error.code === 'UPSTREAM_BODY_TOO_LARGE') return { action: 'give-up', cause: `${error.system}:body-too-large` };
    // A flow that expects a deletion handles it before this point; here "gone" is a failure for good.
    if (isGhlNotFound(error)) return { action: 'give-up', cause: `${cause}:not-found` };
    if (error.status === 429) {
      const delayMs = Math.min(MAX_RATE_LIMIT_WAIT_MS, Math.max(250, error.retryAfterMs ?? DEFAULT_RATE_LIMIT_WAIT_MS));
      return { action: 'wait', delayMs, cause, limit: { system: error.system, scope: 'upstream-429' } };
    }
    return { action: error.permanent ? 'give-up' : 'retry', cause };
  }
  if (error instanceof RateBudgetExceededError) {
    // Our own budget is spent: wait for it like for an upstream 429. Jitter spreads the jobs refused
    // together, so they do not all wake at the same moment to be refused again.
    const jitter = Math.floor(Math.random() * Math.min(1_000, error.retryAfterMs / 2 + 50));
    const limit = { system: error.system, scope: error.scope };
    return { action: 'wait', delayMs: Math.max(50, error.retryAfterMs) + jitter, cause: `${error.system}:budget-${error.scope}`, limit };
  }
  if (error instanceof CircuitOpenError) {
    return { action: 'wait', delayMs: Math.max(250, error.retryAfterMs), cause: `${error.system}:circuit-open`, limit: { system: error.system, scope: 'circuit-open' } };
  }
  // Our own refusals say whether a retry can help (bad job data, an unserved location, a missing key...).
  if (error instanceof BridgeError && error.permanent) return { action: 'give-up', cause: error.code };
  if (error instanceof ZodError) return { action: 'give-up', cause: 'invalid-job-data' };
  const code = error instanceof Error && 'code' in error && typeof error.code === 'string' ? error.code : undefined;
  return { action: 'retry', cause: code ?? (error instanceof Error ? error.name : 'unknown') };
}
