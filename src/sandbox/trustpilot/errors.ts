/**
 * Trustpilot's error answers. The API sits behind an Apigee gateway (its token answers carry Apigee's
 * `issued_at`, `token_type: "BearerToken"`, `refresh_count`), so gateway refusals
 * use Apigee's `{ fault: { faultstring, detail: { errorcode } } }` body; token-grant refusals use the
 * OAuth 2.0 `{ error, error_description }` body; resource errors a plain `{ message }` (assumed: the
 * public material shows no body for them, only the statuses).
 */
function describeBody(body: Record<string, unknown>): string {
  if (typeof body.message === 'string') return body.message;
  if (typeof body.error_description === 'string') return body.error_description;
  const fault = body.fault;
  if (fault !== null && typeof fault === 'object' && 'faultstring' in fault && typeof fault.faultstring === 'string') {
    return fault.faultstring;
  }
  return 'error';
}

export class TrustpilotHttpError extends Error {
  readonly code = 'TP_SIM_HTTP_ERROR';
  readonly retryAfterSeconds: number | undefined;

  constructor(
    readonly statusCode: number,
    readonly body: Record<string, unknown>,
    options: { retryAfterSeconds?: number } = {},
  ) {
    super(`HTTP ${statusCode}: ${describeBody(body)}`);
    this.name = 'TrustpilotHttpError';
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

const fault = (status: number, faultstring: string, errorcode: string, retryAfterSeconds?: number): TrustpilotHttpError =>
  new TrustpilotHttpError(status, { fault: { faultstring, detail: { errorcode } } }, { retryAfterSeconds });

const oauth = (status: number, error: string, description: string): TrustpilotHttpError =>
  new TrustpilotHttpError(status, { error, error_description: description });

export const tpErrors = {
  /** "Invalid API key" when the key is missing or unknown (Trustpilot's API FAQ). */
  invalidApiKey: () => fault(401, 'Invalid ApiKey', 'oauth.v2.InvalidApiKey'),
  invalidAccessToken: () => fault(401, 'Invalid access token', 'oauth.v2.InvalidAccessToken'),
  expiredAccessToken: () => fault(401, 'Access Token expired', 'keymanagement.service.access_token_expired'),
  tooManyRequests: (retryAfterSeconds: number) =>
    fault(429, 'Rate limit quota violation. Quota limit exceeded.', 'policies.ratelimit.QuotaViolation', retryAfterSeconds),
  invalidClient: () => oauth(401, 'invalid_client', 'Client authentication failed'),
  wrongPassword: () => oauth(401, 'invalid_grant', 'Invalid username or password'),
  invalidRefreshToken: () => oauth(400, 'invalid_grant', 'Invalid refresh token'),
  invalidRequest: (description: string) => oauth(400, 'invalid_request', description),
  unsupportedGrantType: () => oauth(400, 'unsupported_grant_type', 'Unsupported grant type'),
  unsupportedMediaType: () => new TrustpilotHttpError(415, { message: 'Unsupported Media Type' }),
  badRequest: (message: string, details?: unknown) =>
    new TrustpilotHttpError(400, details === undefined ? { message } : { message, details }),
  /** A business unit the user may not read, including an unknown id (Trustpilot: a wrong business unit id → 403). */
  forbidden: () => new TrustpilotHttpError(403, { message: 'Forbidden' }),
  notFound: (message: string) => new TrustpilotHttpError(404, { message }),
} as const;

/** The value, or Trustpilot's 404 with `message` when it is missing. */
export function orNotFound<T>(value: T | undefined, message: string): T {
  if (value === undefined) throw tpErrors.notFound(message);
  return value;
}
