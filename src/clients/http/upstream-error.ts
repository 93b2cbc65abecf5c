/** The one error type every outside-API call throws; classified once in workers/classify-error.ts. */

import { BridgeError } from '../../observability/errors.js';

export const UPSTREAM_SYSTEMS = ['ghl', 'trustpilot', 'opinionstage', 'alert-webhook', 'push'] as const;
export type UpstreamSystem = (typeof UPSTREAM_SYSTEMS)[number];

export type UpstreamErrorCode =
  | 'UPSTREAM_HTTP' // the upstream answered with a non-2xx status
  | 'UPSTREAM_TIMEOUT' // no answer within the deadline
  | 'UPSTREAM_NETWORK' // connection refused, reset, DNS
  | 'UPSTREAM_BAD_RESPONSE' // 2xx whose body does not match the schema we expect
  | 'UPSTREAM_BODY_TOO_LARGE'; // a body over the transport's cap: reading stopped, the call failed

export interface UpstreamErrorDetails {
  system: UpstreamSystem;
  code: UpstreamErrorCode;
  method: string;
  /** Path without query string: queries can carry identifiers we do not want in alerts. */
  path: string;
  status?: number;
  /** First few hundred characters of the body, never request options. */
  bodyExcerpt?: string;
  /** The upstream's own request id (GHL `traceId`), for support tickets. */
  requestId?: string;
  /** Milliseconds the upstream asked us to wait (Retry-After or rate-limit reset). */
  retryAfterMs?: number;
  cause?: unknown;
}

/** Answers that say the request itself is wrong (or the thing is gone): sending it again cannot help. */
const PERMANENT_STATUSES = new Set([400, 401, 403, 404, 405, 409, 410, 413, 415, 422]);

/**
 * `permanent`: a body we cannot read (it will not read better next time) or a status in
 * PERMANENT_STATUSES. 401 is permanent because the client has already refreshed its token once.
 */
export class UpstreamError extends BridgeError<UpstreamErrorCode> {
  readonly system: UpstreamSystem;
  readonly method: string;
  readonly path: string;
  readonly status: number | undefined;
  readonly bodyExcerpt: string | undefined;
  readonly requestId: string | undefined;
  readonly retryAfterMs: number | undefined;

  constructor(details: UpstreamErrorDetails) {
    const status = details.status === undefined ? details.code : `status ${details.status}`;
    const permanent =
      details.code === 'UPSTREAM_BAD_RESPONSE' ||
      details.code === 'UPSTREAM_BODY_TOO_LARGE' ||
      (details.code === 'UPSTREAM_HTTP' && PERMANENT_STATUSES.has(details.status ?? 0));
    super(details.code, `${details.system} ${details.method} ${details.path} failed: ${status}`, { permanent, cause: details.cause });
    this.name = 'UpstreamError';
    this.system = details.system;
    this.method = details.method;
    this.path = details.path;
    this.status = details.status;
    this.bodyExcerpt = details.bodyExcerpt;
    this.requestId = details.requestId;
    this.retryAfterMs = details.retryAfterMs;
  }

  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      message: this.message,
      system: this.system,
      code: this.code,
      status: this.status,
      requestId: this.requestId,
      bodyExcerpt: this.bodyExcerpt,
      retryAfterMs: this.retryAfterMs,
    };
  }
}
