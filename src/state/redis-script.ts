/** Lua scripts run by hash: EVALSHA, with an EVAL fallback the first time a server (or a restarted one) lacks the script. */
import { createHash } from 'node:crypto';
import type { RedisClient } from './keys.js';

export type ScriptRunner = (keys: string[], args: (string | number)[]) => Promise<unknown>;

export function loadScript(redis: RedisClient, source: string): ScriptRunner {
  const sha = createHash('sha1').update(source).digest('hex');
  return async (keys, args) => {
    try {
      return await redis.evalsha(sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return redis.eval(source, keys.length, ...keys, ...args);
    }
  };
}
