/**
 * Verifies GHL marketplace webhook signatures over the raw request bytes, with GHL's published public keys
 * (src/config/ghl-published-keys.ts):
 * `x-ghl-signature` is Ed25519 (current), `x-wh-signature` is RSA-SHA256 with a 4096-bit key (legacy). Both base64.
 * GHL's webhook guide announced that from 2026-09-01 only `x-ghl-signature` is sent; whether GHL has
 * stopped sending the legacy one is unconfirmed, so both are still verified.
 */
import { createPublicKey, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import { BridgeError } from '../observability/errors.js';
import { createEd25519Verifier, ed25519KeyProblem, type Ed25519Backend } from './ed25519-verify.js';

export type SignatureScheme = 'ed25519' | 'rsa';
export type SignatureFailure = 'missing' | 'invalid' | 'malformed';
export type SignatureResult = { ok: true; scheme: SignatureScheme } | { ok: false; reason: SignatureFailure };
export type WebhookHeaders = Record<string, string | string[] | undefined>;

export interface GhlSignatureKeys {
  ed25519PublicKeyPem: string;
  rsaPublicKeyPem: string;
}

export interface GhlSignatureVerifier {
  verify(rawBody: Buffer, headers: WebhookHeaders): SignatureResult;
  /** Which library checks Ed25519 signatures (libsodium when it loads; see ed25519-verify.ts). */
  readonly ed25519Backend: Ed25519Backend;
}

export class GhlSignatureKeyError extends BridgeError<'GHL_SIGNATURE_KEY_INVALID'> {
  constructor(
    readonly key: keyof GhlSignatureKeys,
    detail: string,
  ) {
    super('GHL_SIGNATURE_KEY_INVALID', `${key} is not a usable ${key === 'ed25519PublicKeyPem' ? 'Ed25519' : 'RSA'} PEM public key: ${detail}`);
  }
}

export const GHL_ED25519_SIGNATURE_HEADER = 'x-ghl-signature';
export const GHL_RSA_SIGNATURE_HEADER = 'x-wh-signature';

const ED25519_SIGNATURE_BYTES = 64;
// An RSA-4096 signature is 684 base64 characters; anything far longer is not worth decoding.
const MAX_SIGNATURE_HEADER_CHARS = 2048;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

export function createGhlSignatureVerifier(keys: GhlSignatureKeys, options: { ed25519Backend?: Ed25519Backend } = {}): GhlSignatureVerifier {
  // Keys are parsed once here, never per request.
  const ed25519 = createEd25519Verifier(loadKey(keys, 'ed25519PublicKeyPem', 'ed25519'), options.ed25519Backend ? { backend: options.ed25519Backend } : {});
  const rsaKey = loadKey(keys, 'rsaPublicKeyPem', 'rsa');
  const rsaSignatureBytes = Math.ceil((rsaKey.asymmetricKeyDetails?.modulusLength ?? 0) / 8);

  return {
    ed25519Backend: ed25519.backend,
    verify(rawBody, headers) {
      const ghl = readSignatureHeader(headers, GHL_ED25519_SIGNATURE_HEADER);
      // GHL's SDK behaviour: when x-ghl-signature is present it alone decides, so a bad Ed25519
      // signature cannot be rescued by a (possibly replayed) legacy RSA one.
      if (ghl !== undefined) return check(ghl, ED25519_SIGNATURE_BYTES, (sig) => ed25519.verify(rawBody, sig), 'ed25519');
      const wh = readSignatureHeader(headers, GHL_RSA_SIGNATURE_HEADER);
      if (wh !== undefined) return check(wh, rsaSignatureBytes, (sig) => cryptoVerify('sha256', rawBody, rsaKey, sig), 'rsa');
      return { ok: false, reason: 'missing' };
    },
  };
}

function loadKey(keys: GhlSignatureKeys, name: keyof GhlSignatureKeys, expected: 'ed25519' | 'rsa'): KeyObject {
  let key: KeyObject;
  try {
    key = createPublicKey({ key: keys[name], format: 'pem' });
  } catch (error) {
    throw new GhlSignatureKeyError(name, error instanceof Error ? error.message : 'cannot be parsed');
  }
  if (key.asymmetricKeyType !== expected) {
    throw new GhlSignatureKeyError(name, `found a ${key.asymmetricKeyType ?? 'unknown'} key`);
  }
  const problem = expected === 'ed25519' ? ed25519KeyProblem(key) : undefined;
  if (problem !== undefined) throw new GhlSignatureKeyError(name, problem);
  return key;
}

type HeaderValue = string | { malformed: true };

/** undefined = absent (or GHL's "N/A" placeholder, or empty); otherwise the trimmed value. */
function readSignatureHeader(headers: WebhookHeaders, name: string): HeaderValue | undefined {
  let value = headers[name];
  if (value === undefined) value = findCaseInsensitive(headers, name);
  if (Array.isArray(value)) {
    if (value.length === 0) return undefined;
    if (value.length > 1) return { malformed: true };
    value = value[0];
  }
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  // Community handlers report GHL sending the literal "N/A" in some configurations: treat it as absent.
  if (trimmed === '' || trimmed.toUpperCase() === 'N/A') return undefined;
  return trimmed;
}

function findCaseInsensitive(headers: WebhookHeaders, name: string): string | string[] | undefined {
  // Node lower-cases header names; this only matters for callers passing hand-built objects.
  for (const key of Object.keys(headers)) {
    if (key.length === name.length && key.toLowerCase() === name) return headers[key];
  }
  return undefined;
}

function check(value: HeaderValue, expectedBytes: number, verifyWith: (signature: Buffer) => boolean, scheme: SignatureScheme): SignatureResult {
  if (typeof value !== 'string' || value.length > MAX_SIGNATURE_HEADER_CHARS || value.length % 4 !== 0 || !BASE64.test(value)) {
    return { ok: false, reason: 'malformed' };
  }
  const signature = Buffer.from(value, 'base64');
  if (signature.length !== expectedBytes) return { ok: false, reason: 'malformed' };
  try {
    return verifyWith(signature) ? { ok: true, scheme } : { ok: false, reason: 'invalid' };
  } catch {
    return { ok: false, reason: 'invalid' };
  }
}
