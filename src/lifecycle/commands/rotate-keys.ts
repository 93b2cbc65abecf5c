/**
 * `ghl-bridge rotate-keys`: re-encrypts every stored OAuth token with the first ENCRYPTION_KEY. Rotate
 * by putting the new key first (`ENCRYPTION_KEY=new,old`), running this, then dropping the old key.
 */
import type { Config } from '../../config/env.js';
import type { Logger } from '../../observability/logger.js';
import { createRedisConnection } from '../../queue/connections.js';
import { createOAuthTokenStore } from '../../state/oauth-token-store.js';
import { redisReadyWithin } from '../redis-policy.js';
import { safeRedisUrl, type CommandIo } from './replay.js';

const REDIS_READY_TIMEOUT_MS = 5_000;

/** Returns the process exit code: 0 done, 1 no keys or Redis unreachable. */
export async function runRotateKeys(config: Config, logger: Logger, io: CommandIo): Promise<number> {
  if (config.ENCRYPTION_KEY.length === 0) {
    io.err('ghl-bridge rotate-keys: ENCRYPTION_KEY is not set');
    return 1;
  }
  const redisUrl = config.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const redis = createRedisConnection(config, 'producer', logger);
  try {
    if (!(await redisReadyWithin(redis, REDIS_READY_TIMEOUT_MS))) {
      io.err(`ghl-bridge rotate-keys: cannot reach Redis at ${safeRedisUrl(redisUrl)} within ${REDIS_READY_TIMEOUT_MS / 1000} s`);
      return 1;
    }
    const store = createOAuthTokenStore({ redis, prefix: config.REDIS_PREFIX, encryptionKeys: config.ENCRYPTION_KEY });
    const count = await store.reencryptAll();
    io.out(`re-encrypted ${count} stored token${count === 1 ? '' : 's'} with the first ENCRYPTION_KEY`);
    return 0;
  } finally {
    await redis.quit().catch(() => redis.disconnect());
  }
}
