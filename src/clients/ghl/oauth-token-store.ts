/**
 * Where GHL OAuth tokens live, as the token provider needs it: a token per location (or company) and
 * a per-location lock, because GHL refresh tokens are single-use and two workers refreshing at once
 * would leave one holding a spent token. The Redis store is in src/state/oauth-token-store.ts.
 */
import { z } from 'zod';

export const StoredOAuthTokenSchema = z.strictObject({
  accessToken: z.string().min(1),
  refreshToken: z.string().min(1).optional(),
  /** Epoch ms. */
  expiresAt: z.number(),
  userType: z.enum(['Location', 'Company']),
  companyId: z.string().optional(),
  scope: z.string().optional(),
  needsReconnect: z.boolean().optional(),
});
export type StoredOAuthToken = z.infer<typeof StoredOAuthTokenSchema>;

export interface OAuthTokenStore {
  /** Undefined when absent or unreadable (no key opens it). */
  get(locationId: string): Promise<StoredOAuthToken | undefined>;
  set(locationId: string, token: StoredOAuthToken): Promise<void>;
  delete(locationId: string): Promise<void>;
  listLocations(): Promise<string[]>;
  /** Rewrites every readable entry with the first key; returns how many were rewritten. */
  reencryptAll(): Promise<number>;
  /** Runs fn holding the location's lock (SET NX PX, owner-checked release). */
  withLock<T>(locationId: string, fn: () => Promise<T>): Promise<T>;
}
