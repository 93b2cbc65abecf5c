/**
 * The shared Trustpilot token in Redis, AES-256-GCM-encrypted (Redis is not a secret store), and
 * the lock every worker takes before renewing it: Trustpilot rotates the refresh token on each
 * refresh, so two workers refreshing at once would leave one of them holding a spent token.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { StoredTrustpilotTokenSchema, type StoredTrustpilotToken, type TrustpilotTokenStore } from '../clients/trustpilot/token-store.js';
import { TrustpilotClientError } from '../clients/trustpilot/trustpilot-client-error.js';
import { stateKey, type RedisClient } from './keys.js';

export interface RedisTokenStoreOptions {
  /** Lock lease; longer than one renewal (a refresh, then maybe a password grant). Default 30 s. */
  lockTtlMs?: number;
  /** How long `withLock` waits for another holder before giving up. Default 20 s. */
  lockWaitMs?: number;
  /** Poll interval while waiting. Default 50 ms. */
  lockPollMs?: number;
  /** Whose token: `global` (the environment's credentials, the default) or a location with its own connection. */
  scope?: string;
}

/** The token scope of a location with its own Trustpilot connection (the environment's is `global`). */
export const trustpilotTokenScope = (locationId: string): string => `location:${locationId}`;

export interface RedisTrustpilotTokenStore extends TrustpilotTokenStore {
  /** Seals the stored token again with the first key (`rotate-keys`); false when none is stored or no key opens it. */
  reseal(): Promise<boolean>;
}

const FORMAT = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** Deletes the lock only if we still own it: an expired lease may belong to someone else by now. */
const RELEASE_LUA = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

export function createRedisTokenStore(
  redis: RedisClient,
  prefix: string,
  encryptionKeys: Buffer[],
  options: RedisTokenStoreOptions = {},
): RedisTrustpilotTokenStore {
  const scope = options.scope ?? 'global';
  const tokenKey = stateKey(prefix, 'trustpilot-token', scope, 'token');
  const lockKey = stateKey(prefix, 'trustpilot-token', scope, 'lock');
  // The key name is authenticated data: a ciphertext copied under another key does not decrypt.
  const { encrypt, decrypt } = createTokenCipher(encryptionKeys, Buffer.from(tokenKey));
  const lockTtlMs = options.lockTtlMs ?? 30_000;
  const lockWaitMs = options.lockWaitMs ?? 20_000;
  const lockPollMs = options.lockPollMs ?? 50;

  const store: RedisTrustpilotTokenStore = {
    async get() {
      const stored = await redis.get(tokenKey);
      return stored === null ? undefined : decrypt(stored);
    },

    async set(token) {
      const valid = StoredTrustpilotTokenSchema.parse(token);
      const ttlMs = Math.floor(valid.expiresAt - Date.now());
      if (ttlMs <= 0) {
        await redis.del(tokenKey);
        return;
      }
      await redis.set(tokenKey, encrypt(valid), 'PX', ttlMs);
    },

    async clear() {
      await redis.del(tokenKey);
    },

    async reseal() {
      // Under the lock: a renewal in flight would otherwise be overwritten with the token it replaced.
      return store.withLock(async () => {
        const token = await store.get();
        if (token === undefined) return false;
        await store.set(token);
        return true;
      });
    },

    async withLock(fn) {
      const owner = randomBytes(16).toString('hex');
      const deadline = Date.now() + lockWaitMs;
      while ((await redis.set(lockKey, owner, 'PX', lockTtlMs, 'NX')) !== 'OK') {
        if (Date.now() >= deadline) {
          throw new TrustpilotClientError('TRUSTPILOT_TOKEN_LOCK_TIMEOUT', `the Trustpilot token lock was not free within ${lockWaitMs} ms`);
        }
        await new Promise((resolve) => setTimeout(resolve, lockPollMs));
      }
      try {
        return await fn();
      } finally {
        // A failed release must not hide fn's outcome; the lease expires on its own.
        await redis.eval(RELEASE_LUA, 1, lockKey, owner).catch(() => undefined);
      }
    },
  };
  return store;
}

interface TokenCipher {
  encrypt(token: StoredTrustpilotToken): string;
  /** Tries every key (the first encrypts; the others are kept for rotation). Unreadable → undefined: the client grants anew. */
  decrypt(stored: string): StoredTrustpilotToken | undefined;
}

/** AES-256-GCM with `aad` as authenticated data: `v1.<iv>.<ciphertext>.<tag>`, base64url. */
function createTokenCipher(encryptionKeys: Buffer[], aad: Buffer): TokenCipher {
  const keys = encryptionKeys.map((key) => Buffer.from(key));
  const firstKey = keys[0];
  if (firstKey === undefined) {
    throw new TrustpilotClientError(
      'TRUSTPILOT_TOKEN_STORE_KEY',
      'the Redis Trustpilot token store needs ENCRYPTION_KEY (tokens are never stored in clear); use the memory token store without it',
    );
  }
  if (keys.some((key) => key.length !== 32)) {
    throw new TrustpilotClientError('TRUSTPILOT_TOKEN_STORE_KEY', 'each ENCRYPTION_KEY must be 32 bytes (AES-256)');
  }
  const writeKey: Buffer = firstKey;

  function encrypt(token: StoredTrustpilotToken): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', writeKey, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(aad);
    const body = Buffer.concat([cipher.update(JSON.stringify(token), 'utf8'), cipher.final()]);
    return [FORMAT, iv.toString('base64url'), body.toString('base64url'), cipher.getAuthTag().toString('base64url')].join('.');
  }

  function decrypt(stored: string): StoredTrustpilotToken | undefined {
    const [format, ivText, bodyText, tagText] = stored.split('.');
    if (format !== FORMAT || ivText === undefined || bodyText === undefined || tagText === undefined) return undefined;
    const iv = Buffer.from(ivText, 'base64url');
    const body = Buffer.from(bodyText, 'base64url');
    const tag = Buffer.from(tagText, 'base64url');
    if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) return undefined;
    for (const key of keys) {
      let plain: string;
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
        decipher.setAAD(aad);
        decipher.setAuthTag(tag);
        plain = Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8');
      } catch {
        continue; // not this key
      }
      const parsed = StoredTrustpilotTokenSchema.safeParse(parseJson(plain));
      return parsed.success ? parsed.data : undefined;
    }
    return undefined;
  }

  return { encrypt, decrypt };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
