/**
 * GHL OAuth tokens per location in Redis, sealed with AES-256-GCM (aes-gcm.ts; the Redis key is the
 * authenticated data), plus the per-location lock every refresher takes: GHL refresh tokens are
 * single-use, so two workers refreshing at once would leave one holding a spent token.
 */
import { randomBytes } from 'node:crypto';
import { StoredOAuthTokenSchema, type OAuthTokenStore, type StoredOAuthToken } from '../clients/ghl/oauth-token-store.js';
import { createSealer } from './aes-gcm.js';
import { stateKey, type RedisClient } from './keys.js';
import { loadScript } from './redis-script.js';
import { BridgeError } from '../observability/errors.js';

export class OAuthTokenStoreError extends BridgeError<'OAUTH_TOKEN_LOCK_TIMEOUT'> {
  constructor(code: 'OAUTH_TOKEN_LOCK_TIMEOUT', message: string) {
    super(code, message);
  }
}


export interface OAuthTokenStoreOptions {
  redis: RedisClient;
  prefix: string;
  /** ENCRYPTION_KEY, decoded: the first seals, all open. */
  encryptionKeys: readonly Buffer[];
  /** Lock lease; longer than one refresh call (see lock-lease.ts). Default 30 s. */
  lockTtlMs?: number;
  /** How long withLock waits for another holder. Default 20 s. */
  lockWaitMs?: number;
  lockPollMs?: number;
}

const PURPOSE = 'ghl-oauth';
const RELEASE_LUA = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

export function createOAuthTokenStore(options: OAuthTokenStoreOptions): OAuthTokenStore {
  const { redis, prefix } = options;
  const sealer = createSealer(options.encryptionKeys);
  const release = loadScript(redis, RELEASE_LUA);
  const lockTtlMs = options.lockTtlMs ?? 30_000;
  const lockWaitMs = options.lockWaitMs ?? 20_000;
  const lockPollMs = options.lockPollMs ?? 25;
  // One set of location ids, so listing never SCANs the keyspace.
  const indexKey = stateKey(prefix, PURPOSE, 'all', 'locations', redis.isCluster);
  // A token and the index are written in one MULTI. On a cluster both must share a slot, so the
  // tokens live under the index's hash tag (`<prefix>:ghl-oauth:{all}:<location>:token`); a single
  // Redis keeps `<prefix>:ghl-oauth:<location>:token` (the name is the seal's authenticated data).
  const tokenKey = (locationId: string) =>
    redis.isCluster ? stateKey(prefix, PURPOSE, 'all', `${locationId}:token`, true) : stateKey(prefix, PURPOSE, locationId, 'token');
  const lockKey = (locationId: string) => stateKey(prefix, PURPOSE, locationId, 'lock');

  async function read(locationId: string): Promise<{ token: StoredOAuthToken; keyId: string } | undefined> {
    const key = tokenKey(locationId);
    const sealed = await redis.get(key);
    if (sealed === null) return undefined;
    const opened = sealer.open(sealed, key);
    if (opened === undefined) return undefined;
    const parsed = StoredOAuthTokenSchema.safeParse(parseJson(opened.plain));
    return parsed.success ? { token: parsed.data, keyId: opened.keyId } : undefined;
  }

  async function write(locationId: string, token: StoredOAuthToken): Promise<void> {
    const key = tokenKey(locationId);
    const valid = StoredOAuthTokenSchema.parse(token);
    // No TTL: the refresh token outlives the access token by a year.
    await redis.multi().set(key, sealer.seal(JSON.stringify(valid), key)).sadd(indexKey, locationId).exec();
  }

  return {
    async get(locationId) {
      return (await read(locationId))?.token;
    },
    set: write,
    async delete(locationId) {
      await redis.multi().del(tokenKey(locationId)).srem(indexKey, locationId).exec();
    },
    async listLocations() {
      return (await redis.smembers(indexKey)).sort();
    },
    async reencryptAll() {
      let count = 0;
      for (const locationId of await redis.smembers(indexKey)) {
        // Under the lock: a refresh in flight must not be overwritten by the old pair.
        const rewritten = await this.withLock(locationId, async () => {
          const entry = await read(locationId);
          if (entry === undefined) return false;
          await write(locationId, entry.token);
          return true;
        });
        if (rewritten) count += 1;
      }
      return count;
    },
    async withLock(locationId, fn) {
      const key = lockKey(locationId);
      const owner = randomBytes(16).toString('hex');
      const deadline = Date.now() + lockWaitMs;
      while ((await redis.set(key, owner, 'PX', lockTtlMs, 'NX')) !== 'OK') {
        if (Date.now() >= deadline) {
          throw new OAuthTokenStoreError('OAUTH_TOKEN_LOCK_TIMEOUT', `the GHL token lock for ${locationId} was not free within ${lockWaitMs} ms`);
        }
        await new Promise((resolve) => setTimeout(resolve, lockPollMs));
      }
      try {
        return await fn();
      } finally {
        // A failed release must not hide fn's outcome; the lease expires on its own.
        await release([key], [owner]).catch(() => undefined);
      }
    },
  };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
