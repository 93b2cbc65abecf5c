/**
 * JSON:API error documents (`{ errors: [{ status, title, detail?, source? }] }`), the form a JSON:API
 * server such as Opinion Stage's Public Result API answers with. Thrown from hooks,
 * handlers and the simulator's own methods; the app's error handler sends `body` with `statusCode`.
 */
import { STATUS_CODES } from 'node:http';

export interface JsonApiErrorObject {
  status: string;
  title: string;
  detail?: string;
  source?: { pointer?: string; parameter?: string };
}

export interface JsonApiErrorDocument {
  errors: JsonApiErrorObject[];
}

export function statusTitle(status: number): string {
  return STATUS_CODES[status] ?? 'Error';
}

export class JsonApiError extends Error {
  readonly code = 'OPINIONSTAGE_SIM_HTTP_ERROR';
  readonly body: JsonApiErrorDocument;
  readonly retryAfterSeconds: number | undefined;

  constructor(
    readonly statusCode: number,
    errors: Omit<JsonApiErrorObject, 'status' | 'title'>[] | JsonApiErrorDocument = [{}],
    options: { retryAfterSeconds?: number } = {},
  ) {
    const body: JsonApiErrorDocument = Array.isArray(errors)
      ? { errors: errors.map((error) => ({ status: String(statusCode), title: statusTitle(statusCode), ...error })) }
      : errors;
    super(body.errors[0]?.detail ?? body.errors[0]?.title ?? `HTTP ${statusCode}`);
    this.name = 'JsonApiError';
    this.body = body;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

export const osErrors = {
  unauthorized: () => new JsonApiError(401, [{}]),
  /** A key that used to work and no longer does (the `token-expired` fault). */
  revokedKey: () => new JsonApiError(401, [{ detail: 'API key is invalid or has been revoked' }]),
  notFound: (detail: string) => new JsonApiError(404, [{ detail }]),
  badParameter: (parameter: string, detail: string) => new JsonApiError(400, [{ detail, source: { parameter } }]),
  invalid: (issues: { pointer: string; detail: string }[]) =>
    new JsonApiError(
      422,
      issues.map(({ pointer, detail }) => ({ detail, source: { pointer } })),
    ),
  tooManyRequests: (retryAfterSeconds: number) =>
    new JsonApiError(429, [{ detail: 'Rate limit exceeded' }], { retryAfterSeconds }),
} as const;
