/**
 * `ghl-bridge rotate-keys`: re-encrypts every stored OAuth token, per-location connection and
 * Trustpilot token (the environment's and each connection's) with the first ENCRYPTION_KEY. Rotate
 * by putting the new key first (`ENCRYPTION_KEY=new,old`), running this, then dropping the old key.
 */
import type { Config } from '../../config/env.js';
import type { Logger } from '../../observability/logger.js';
import { createLocationConnectionStore } from '../../state/location-connections.js';
import { refreshLockTiming } from '../../state/lock-lease.js';
import { createOAuthTokenStore } from '../../state/oauth-token-store.js';
import { createRedisTokenStore, trustpilotTokenScope } from '../../state/trustpilot-token-store.js';
import { commandRedis, withResources, type CommandIo } from '../wiring/commands.js';

/** Returns the process exit code: 0 done, 1 no keys, Redis unreachable, or a connection no key opens. */
export async function runRotateKeys(config: Config, logger: Logger, io: CommandIo): Promise<number> {
  if (config.ENCRYPTION_KEY.length === 0) {
    io.err('ghl-bridge rotate-keys: ENCRYPTION_KEY is not set');
    return 1;
  }
  return withResources(config, logger, async (resources) => {
    const redis = await commandRedis(resources, config, 'rotate-keys', io);
    if (!redis) return 1;
    const store = createOAuthTokenStore({ redis, prefix: config.REDIS_PREFIX, encryptionKeys: config.ENCRYPTION_KEY });
    const count = await store.reencryptAll();
    io.out(`re-encrypted ${count} stored token${count === 1 ? '' : 's'} with the first ENCRYPTION_KEY`);
    const connectionStore = createLocationConnectionStore(redis, config.REDIS_PREFIX, config.ENCRYPTION_KEY);
    const connections = await connectionStore.reencryptAll();
    io.out(`re-encrypted ${connections} location connection${connections === 1 ? '' : 's'} with the first ENCRYPTION_KEY`);
    // Trustpilot tokens are short-lived and granted anew when unreadable, but a grant spends a call
    // (and too many get a 429), so they move to the new key too, each under its renewal lock.
    const scopes = ['global', ...[...(await connectionStore.readAll()).trustpilot.keys()].map(trustpilotTokenScope)];
    let tokens = 0;
    for (const scope of scopes) {
      const tokenStore = createRedisTokenStore(redis, config.REDIS_PREFIX, config.ENCRYPTION_KEY, { scope, ...refreshLockTiming(config.UPSTREAM_TIMEOUT, 2) });
      if (await tokenStore.reseal()) tokens += 1;
    }
    io.out(`re-encrypted ${tokens} Trustpilot token${tokens === 1 ? '' : 's'} with the first ENCRYPTION_KEY`);
    // A connection no key opens was not re-encrypted: dropping a key now could lose more of them.
    const unreadable = await connectionStore.unreadable();
    for (const { kind, locationId } of unreadable) {
      io.err(`ghl-bridge rotate-keys: the ${kind} connection of location ${locationId} is opened by no ENCRYPTION_KEY (put back the key it was sealed with, or set it again)`);
    }
    return unreadable.length > 0 ? 1 : 0;
  });
}
