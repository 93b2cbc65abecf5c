/**
 * A URL the operator gave us to call whose path or query may hold its credential (the push URL, the
 * alert URL): what the transport is given, and what errors, metrics and logs see instead.
 */
import { credentialParts, redactCredentialPath } from '../../observability/redact-url.js';
import type { ResponseObserver } from './transport.js';
import { UpstreamError } from './upstream-error.js';

export interface CredentialUrl {
  origin: string;
  /** The real path and query, for the request only. */
  path: string;
  /** What is shown instead of `path`. */
  shownPath: string;
  /** Parts to blank out of any body excerpt that echoes them. */
  secrets: string[];
  /** An observer that never sees the real path. */
  observe(observe: ResponseObserver | undefined): { observe?: ResponseObserver };
  /** The error with the shown path in place of the real one (an UpstreamError's message names its path). */
  hide(error: unknown): unknown;
}

export function credentialUrl(target: URL): CredentialUrl {
  const path = `${target.pathname}${target.search}`;
  const shownPath = redactCredentialPath(path);
  return {
    origin: target.origin,
    path,
    shownPath,
    secrets: credentialParts(target),
    observe: (observe) => (observe ? { observe: (info) => observe({ ...info, path: shownPath }) } : {}),
    hide(error) {
      if (!(error instanceof UpstreamError)) return error;
      return new UpstreamError({
        system: error.system,
        code: error.code,
        method: error.method,
        path: shownPath,
        status: error.status,
        bodyExcerpt: error.bodyExcerpt,
        requestId: error.requestId,
        retryAfterMs: error.retryAfterMs,
        cause: error.cause,
      });
    },
  };
}
