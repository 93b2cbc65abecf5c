/**
 * Shared-secret check for unsigned webhooks (GHL workflow actions, Opinion Stage, Trustpilot): the secret arrives
 * as header `x-webhook-token` or query `token`; which variable holds it is listed in `.env.example`.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { WebhookHeaders } from './ghl-signature.js';

export const SHARED_SECRET_HEADER = 'x-webhook-token';
export const SHARED_SECRET_QUERY = 'token';

export type SharedSecretResult = 'ok' | 'missing' | 'invalid' | 'not-configured';

/**
 * The header wins over the query when both are sent. Comparing SHA-256 digests keeps the comparison
 * constant-time and the same length whatever was sent, so neither the secret's content nor its length leaks.
 */
export function checkSharedSecret(expected: string | undefined, headers: WebhookHeaders, query: unknown): SharedSecretResult {
  if (expected === undefined || expected === '') return 'not-configured';
  const header = headers[SHARED_SECRET_HEADER];
  const sent = header !== undefined && header !== '' ? header : readQuery(query);
  if (sent === undefined || sent === '' || (Array.isArray(sent) && sent.length === 0)) return 'missing';
  const provided = single(sent);
  if (provided === undefined) return 'invalid';
  return timingSafeEqual(digest(provided), digest(expected)) ? 'ok' : 'invalid';
}

function readQuery(query: unknown): unknown {
  if (typeof query !== 'object' || query === null) return undefined;
  const value: unknown = Object.getOwnPropertyDescriptor(query, SHARED_SECRET_QUERY)?.value;
  return value;
}

/** A repeated header or parameter counts only when every copy is the same string. */
function single(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) {
    const [first] = value;
    if (typeof first === 'string' && value.every((item) => item === first)) return first;
  }
  return undefined;
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}
