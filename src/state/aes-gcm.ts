/**
 * AES-256-GCM sealing for secrets kept in Redis (Redis is not a secret store): random 12-byte IV,
 * 16-byte tag, the id of the key that sealed it, and caller-chosen authenticated data (the Redis key
 * name, so a value copied under another key does not open). The first key seals; every key opens.
 * Copied from the pattern in trustpilot-token-store.ts (not extracted, so that store stays untouched).
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { BridgeError } from '../observability/errors.js';

const FORMAT = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

export class SealKeyError extends BridgeError<'ENCRYPTION_KEY_INVALID'> {
  constructor(message: string) {
    super('ENCRYPTION_KEY_INVALID', message);
  }
}

export interface Sealer {
  /** Id of the key that seals (the first). */
  readonly writeKeyId: string;
  seal(plain: string, aad: string): string;
  /** The plain text, or undefined when no key opens it (or it is not ours). */
  open(sealed: string, aad: string): { plain: string; keyId: string } | undefined;
}

/** Non-secret fingerprint of a key: lets us pick the right key and tell which entries need rewriting. */
function keyId(key: Buffer): string {
  return createHash('sha256').update(key).digest('base64url').slice(0, 8);
}

export function createSealer(encryptionKeys: readonly Buffer[]): Sealer {
  const keys = encryptionKeys.map((key) => ({ key: Buffer.from(key), id: keyId(key) }));
  const first = keys[0];
  if (first === undefined) throw new SealKeyError('ENCRYPTION_KEY is required: tokens are never stored in clear');
  if (keys.some(({ key }) => key.length !== 32)) throw new SealKeyError('each ENCRYPTION_KEY must be 32 bytes (AES-256)');

  return {
    writeKeyId: first.id,
    seal(plain, aad) {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', first.key, iv, { authTagLength: TAG_BYTES });
      cipher.setAAD(Buffer.from(aad, 'utf8'));
      const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
      return [FORMAT, first.id, iv.toString('base64url'), body.toString('base64url'), cipher.getAuthTag().toString('base64url')].join('.');
    },
    open(sealed, aad) {
      const [format, id, ivText, bodyText, tagText] = sealed.split('.');
      if (format !== FORMAT || id === undefined || ivText === undefined || bodyText === undefined || tagText === undefined) return undefined;
      const iv = Buffer.from(ivText, 'base64url');
      const tag = Buffer.from(tagText, 'base64url');
      if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) return undefined;
      const entry = keys.find((k) => k.id === id);
      if (entry === undefined) return undefined;
      try {
        const decipher = createDecipheriv('aes-256-gcm', entry.key, iv, { authTagLength: TAG_BYTES });
        decipher.setAAD(Buffer.from(aad, 'utf8'));
        decipher.setAuthTag(tag);
        const plain = Buffer.concat([decipher.update(Buffer.from(bodyText, 'base64url')), decipher.final()]).toString('utf8');
        return { plain, keyId: entry.id };
      } catch {
        return undefined; // tampered, or sealed under another key name
      }
    },
  };
}
