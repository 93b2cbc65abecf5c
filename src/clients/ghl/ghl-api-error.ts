/**
 * GHL's non-2xx answers, with the one decision the workers need from them: does the answer say the
 * contact, note or task is not there? GHL says so with a 404, and in places with a 400 or 422 whose
 * message says "not found" (update-note and update-task document only 200/400/401/422), so the status
 * alone cannot tell. Decided here once; the workers read `notFound`.
 */
import { UpstreamError } from '../http/upstream-error.js';

/** Statuses GHL uses for a missing entity; any other status never means "gone". */
const NOT_FOUND_STATUSES = new Set([400, 404, 422]);
const NOT_FOUND_WORDING = /\bnot\s+found\b|\bdoes\s+not\s+exist\b|\bdoesn't\s+exist\b|\bno\s+longer\s+exists\b/i;

export class GhlApiError extends UpstreamError {
  /** GHL answered that the addressed entity does not exist (404, or 400/422 saying "not found"). */
  readonly notFound: boolean;

  constructor(error: UpstreamError, notFound: boolean) {
    super({
      system: error.system,
      code: error.code,
      method: error.method,
      path: error.path,
      ...(error.status === undefined ? {} : { status: error.status }),
      ...(error.bodyExcerpt === undefined ? {} : { bodyExcerpt: error.bodyExcerpt }),
      ...(error.requestId === undefined ? {} : { requestId: error.requestId }),
      ...(error.retryAfterMs === undefined ? {} : { retryAfterMs: error.retryAfterMs }),
      cause: error.cause,
    });
    this.name = 'GhlApiError';
    this.notFound = notFound;
  }

  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), notFound: this.notFound };
  }
}

/** Whether a GHL answer (status and parsed body) says the addressed entity does not exist. */
export function saysNotFound(status: number, body: unknown): boolean {
  if (status === 404) return true;
  if (!NOT_FOUND_STATUSES.has(status)) return false;
  return messagesOf(body).some((message) => NOT_FOUND_WORDING.test(message));
}

/** True for a GHL answer that the contact, note or task addressed is not there. */
export function isGhlNotFound(error: unknown): boolean {
  return error instanceof GhlApiError && error.notFound;
}

/** GHL's `message` is a string, or an array of strings on 422 (GHL's published error schemas); `error` may add one. */
function messagesOf(body: unknown): string[] {
  if (typeof body === 'string') return [body];
  if (typeof body !== 'object' || body === null) return [];
  const values: unknown[] = [];
  if ('message' in body) values.push(body.message);
  if ('error' in body) values.push(body.error);
  return values.flatMap((value) => (typeof value === 'string' ? [value] : Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : []));
}
