/**
 * A URL the operator gave us to call whose path or query may hold its credential (the push URL, the
 * alert URL): what the transport is given, and what errors, metrics and logs see instead.
 */
import { credentialParts, redactCredentialPath } from '../../observability/redact-url.js';
import type { Dispatcher } from 'undici';
import { createHttpTransport, type HttpTransport, type ResponseObserver } from './transport.js';
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

export interface CredentialTransportOptions {
  secret?: string | undefined;
  timeoutMs: number;
  dispatcher?: Dispatcher;
  observe?: ResponseObserver;
}

/**
 * A transport to a credential URL (push, alert): requests go to its real path; observers, errors and
 * body excerpts see the shown one, and `secrets` lists what to blank out of anything echoed back.
 */
export function credentialTransport(system: 'push' | 'alert-webhook', url: URL, options: CredentialTransportOptions): { target: CredentialUrl; transport: HttpTransport; secrets: string[] } {
  const target = credentialUrl(url);
  const transport = createHttpTransport({
    system,
    baseUrl: target.origin,
    timeoutMs: options.timeoutMs,
    ...(options.dispatcher ? { dispatcher: options.dispatcher } : {}),
    ...target.observe(options.observe),
  });
  return { target, transport, secrets: options.secret ? [options.secret, ...target.secrets] : target.secrets };
}
