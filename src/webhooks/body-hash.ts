import { createHash } from 'node:crypto';

/** SHA-256 of the raw body, hex: the key of the 24 h same-body dedupe and of the workflow-webhook dedupe. */
export function bodyHash(raw: Buffer): string {
  return createHash('sha256').update(raw).digest('hex');
}
