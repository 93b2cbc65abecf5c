/** `sha256=<hex HMAC-SHA256 of the raw body>`, the signature the bridge puts on what it sends out. */
import { createHmac, timingSafeEqual } from 'node:crypto';

export function hmacSignature(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** For receivers (and tests): constant-time check of a signature header against the body. */
export function verifyHmacSignature(secret: string, body: string, header: string | undefined): boolean {
  if (!header) return false;
  const expected = Buffer.from(hmacSignature(secret, body));
  const given = Buffer.from(header);
  return expected.length === given.length && timingSafeEqual(expected, given);
}
