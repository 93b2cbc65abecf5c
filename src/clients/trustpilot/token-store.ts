/**
 * Where the one Trustpilot business-user token lives. Trustpilot rejects callers that mint tokens
 * too often (429) and rotates the refresh token on every refresh, so every worker must share one
 * token and renew it under one lock. The Redis store is in src/state/trustpilot-token-store.ts.
 */
import { z } from 'zod';

export const StoredTrustpilotTokenSchema = z.object({
  accessToken: z.string().min(1),
  refreshToken: z.string().min(1).optional(),
  /** Epoch ms. */
  expiresAt: z.number().int(),
});
export type StoredTrustpilotToken = z.infer<typeof StoredTrustpilotTokenSchema>;

export interface TrustpilotTokenStore {
  get(): Promise<StoredTrustpilotToken | undefined>;
  set(token: StoredTrustpilotToken): Promise<void>;
  clear(): Promise<void>;
  /** Runs `fn` while no other holder of the same store runs it (renewals spend a single-use refresh token). */
  withLock<T>(fn: () => Promise<T>): Promise<T>;
}

/** One process only (single-worker setups and tests); the lock is a promise chain. */
export function createMemoryTokenStore(): TrustpilotTokenStore {
  let token: StoredTrustpilotToken | undefined;
  let tail: Promise<unknown> = Promise.resolve();
  return {
    async get() {
      return token === undefined ? undefined : { ...token };
    },
    async set(next) {
      token = { ...next };
    },
    async clear() {
      token = undefined;
    },
    withLock(fn) {
      const run = tail.then(() => fn());
      tail = run.catch(() => undefined);
      return run;
    },
  };
}
