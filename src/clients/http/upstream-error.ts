/** The one error type every outside-API call throws; classified once in workers/classify-error.ts. */

export const UPSTREAM_SYSTEMS = ['ghl', 'trustpilot', 'opinionstage', 'alert-webhook', 'push'] as const;
export type UpstreamSystem = (typeof UPSTREAM_SYSTEMS)[number];

export type UpstreamErrorCode =
  | 'UPSTREAM_HTTP' // the upstream answered with a non-2xx status
  | 'UPSTREAM_TIMEOUT' // no answer within the deadline
  | 'UPSTREAM_NETWORK' // connection refused, reset, DNS
  | 'UPSTREAM_BAD_RESPONSE'; // 2xx whose body does not match the schema we expect

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

export class UpstreamError extends Error {
  readonly system: UpstreamSystem;
  readonly code: UpstreamErrorCode;
  readonly method: string;
  readonly path: string;
  readonly status: number | undefined;
  readonly bodyExcerpt: string | undefined;
  readonly requestId: string | undefined;
  readonly retryAfterMs: number | undefined;

  constructor(details: UpstreamErrorDetails) {
    const status = details.status === undefined ? details.code : `status ${details.status}`;
    super(`${details.system} ${details.method} ${details.path} failed: ${status}`, { cause: details.cause });
    this.name = 'UpstreamError';
    this.system = details.system;
    this.code = details.code;
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
