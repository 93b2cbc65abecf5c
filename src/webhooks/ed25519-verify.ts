/**
 * Ed25519 signature verification for GHL webhooks, with libsodium when it loads and node:crypto otherwise.
 *
 * libsodium (`sodium-native`, an optional dependency shipping prebuilt binaries for the common platforms)
 * verifies about 1.7× faster than node:crypto on the bench box (bench/ingest.ts measures both side by side).
 * Where its binary is missing or cannot load (an unusual platform, `npm ci --omit=optional`), node:crypto
 * verifies instead. The two differ only on degenerate points, which libsodium refuses and OpenSSL does not:
 * a public key or a signature's R of small order (a small-order key lets anyone forge), or a key whose
 * encoding is not canonical. `ed25519KeyProblem` refuses such keys when they are loaded and the node:crypto
 * path refuses small-order R, so both backends give the same answer for every key and signature.
 */
import { createRequire } from 'node:module';
import { verify as cryptoVerify, type KeyObject } from 'node:crypto';

export type Ed25519Backend = 'libsodium' | 'node:crypto';

export interface Ed25519Verifier {
  readonly backend: Ed25519Backend;
  /** True when `signature` (64 bytes) is a valid signature of `message` under the key. Never throws. */
  verify(message: Buffer, signature: Buffer): boolean;
}

type DetachedVerify = (signature: Buffer, message: Buffer, publicKey: Buffer) => unknown;

const PUBLIC_KEY_BYTES = 32;
const SIGNATURE_BYTES = 64;

let libsodium: DetachedVerify | null | undefined;

/** sodium-native's `crypto_sign_verify_detached`, loaded once; null where it cannot load. */
function loadLibsodium(): DetachedVerify | null {
  if (libsodium !== undefined) return libsodium;
  try {
    const loaded: unknown = createRequire(import.meta.url)('sodium-native');
    const candidate = typeof loaded === 'object' && loaded !== null && 'crypto_sign_verify_detached' in loaded ? loaded.crypto_sign_verify_detached : undefined;
    libsodium = typeof candidate === 'function' ? (candidate as DetachedVerify) : null;
  } catch {
    libsodium = null;
  }
  return libsodium;
}

const FIELD_PRIME = 2n ** 255n - 19n;
/** y of the two points of order 8 (their x differs only in sign); the other small-order points have y 0, 1 or p − 1. */
const ORDER_8_Y = 2707385501144840649318225287225658788936804267575313519463743609750303402022n;
/** Encodings (sign bit cleared) libsodium treats as small order, the non-canonical p and p + 1 included. */
const SMALL_ORDER_Y: ReadonlySet<bigint> = new Set([0n, 1n, ORDER_8_Y, FIELD_PRIME - ORDER_8_Y, FIELD_PRIME - 1n, FIELD_PRIME, FIELD_PRIME + 1n]);

/** The encoded y coordinate (little-endian, sign bit of x cleared). */
function encodedY(point: Buffer): bigint {
  let y = 0n;
  for (let index = point.length - 1; index >= 0; index--) y = (y << 8n) | BigInt(index === 31 ? (point[index] ?? 0) & 0x7f : (point[index] ?? 0));
  return y;
}

function hasSmallOrder(point: Buffer): boolean {
  return SMALL_ORDER_Y.has(encodedY(point));
}

/** Why an Ed25519 public key cannot be used (small order: anyone could forge; non-canonical encoding), or undefined. */
export function ed25519KeyProblem(publicKey: KeyObject): string | undefined {
  const raw = rawPublicKey(publicKey);
  if (raw === undefined) return 'not an Ed25519 public key';
  if (hasSmallOrder(raw)) return 'a point of small order (any signature would pass)';
  if (encodedY(raw) >= FIELD_PRIME) return 'a non-canonical point encoding';
  return undefined;
}

/**
 * A verifier for one Ed25519 public key (already parsed; see `ed25519KeyProblem`). `backend: 'node:crypto'` forces the fallback
 * (tests compare the two); by default libsodium is used when it loads.
 */
export function createEd25519Verifier(publicKey: KeyObject, options: { backend?: Ed25519Backend } = {}): Ed25519Verifier {
  const sodiumVerify = options.backend === 'node:crypto' ? null : loadLibsodium();
  const rawKey = rawPublicKey(publicKey);
  if (sodiumVerify !== null && rawKey !== undefined) {
    return {
      backend: 'libsodium',
      verify(message, signature) {
        if (signature.length !== SIGNATURE_BYTES) return false;
        try {
          return sodiumVerify(signature, message, rawKey) === true;
        } catch {
          return false;
        }
      },
    };
  }
  return {
    backend: 'node:crypto',
    verify(message, signature) {
      if (signature.length !== SIGNATURE_BYTES || hasSmallOrder(signature.subarray(0, PUBLIC_KEY_BYTES))) return false;
      try {
        return cryptoVerify(null, message, publicKey, signature);
      } catch {
        return false;
      }
    },
  };
}

/** The 32 raw key bytes libsodium takes (the JWK `x`); undefined for anything but an Ed25519 public key. */
function rawPublicKey(key: KeyObject): Buffer | undefined {
  if (key.type !== 'public' || key.asymmetricKeyType !== 'ed25519') return undefined;
  const jwk = key.export({ format: 'jwk' });
  if (typeof jwk.x !== 'string') return undefined;
  const raw = Buffer.from(jwk.x, 'base64url');
  return raw.length === PUBLIC_KEY_BYTES ? raw : undefined;
}
