/**
 * GHL's error bodies (openapi/upstream/ghl/common/common-schemas.json and the messages measured against the live API).
 * Thrown from hooks and handlers; the app's error handler sends `body` with `statusCode`.
 */
export class GhlHttpError extends Error {
  readonly code = 'GHL_SIM_HTTP_ERROR';
  readonly retryAfterSeconds: number | undefined;
  /** Set when the error says a contact, note or task does not exist: the app answers it per missing-entity.ts. */
  readonly missing: MissingEntity | undefined;

  constructor(
    readonly statusCode: number,
    readonly body: Record<string, unknown>,
    options: { retryAfterSeconds?: number; missing?: MissingEntity } = {},
  ) {
    super(typeof body.message === 'string' ? body.message : `HTTP ${statusCode}`);
    this.name = 'GhlHttpError';
    this.retryAfterSeconds = options.retryAfterSeconds;
    this.missing = options.missing;
  }
}

export type MissingEntity = 'Contact' | 'Note' | 'Task';

export const ghlErrors = {
  invalidToken: () =>
    new GhlHttpError(401, { statusCode: 401, message: 'Invalid token: access token is invalid', error: 'Unauthorized' }),
  expiredToken: () => new GhlHttpError(401, { statusCode: 401, message: 'Invalid JWT', error: 'Unauthorized' }),
  versionMissing: () => new GhlHttpError(401, { statusCode: 401, message: 'version header was not found.' }),
  versionInvalid: (version: string) =>
    new GhlHttpError(400, {
      statusCode: 400,
      message: `Invalid API version segment '${version}' at position 0`,
      error: 'Bad Request',
    }),
  /** A token without the scope the endpoint needs (measured wording). */
  scopeMissing: () => new GhlHttpError(401, { statusCode: 401, message: 'The token is not authorized for this scope.' }),
  forbiddenLocation: () =>
    new GhlHttpError(403, { statusCode: 403, message: 'The token does not have access to this location.' }),
  notFound: (message: string) => new GhlHttpError(404, { statusCode: 404, message }),
  /** A contact, note or task that is not there: 404 unless the missing-entity switch says otherwise. */
  missing: (entity: MissingEntity) => new GhlHttpError(404, { statusCode: 404, message: `${entity} not found` }, { missing: entity }),
  badRequest: (message: string, extra: Record<string, unknown> = {}) =>
    new GhlHttpError(400, { statusCode: 400, message, ...extra }),
  unprocessable: (messages: string[]) =>
    new GhlHttpError(422, { statusCode: 422, message: messages, error: 'Unprocessable Entity' }),
  tooManyRequests: (retryAfterSeconds: number) =>
    new GhlHttpError(429, { statusCode: 429, message: 'Too many requests' }, { retryAfterSeconds }),
} as const;
