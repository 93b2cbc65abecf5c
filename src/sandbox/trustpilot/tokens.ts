/**
 * OAuth tokens of the business-users-for-applications endpoint: access tokens live
 * `accessTokenTtlSeconds` (Trustpilot: 100 hours, `expires_in` "359999" as a string), refresh tokens
 * 30 days. A refresh rotates both tokens and the old refresh token stops working at once (Airbyte
 * treats it as single-use). The old access token stays valid until it expires (undocumented either
 * way; the lenient reading). Client-credentials tokens cannot be refreshed.
 */
import { newOpaqueToken } from './ids.js';

export const REFRESH_TOKEN_TTL_SECONDS = 30 * 24 * 3600;

export interface TokenResponse {
  access_token: string;
  refresh_token?: string;
  expires_in: string;
  issued_at: string;
  token_type: 'BearerToken';
  refresh_token_expires_in?: string;
  refresh_token_issued_at?: string;
  refresh_count?: string;
  client_id: string;
  status: 'approved';
}

export type AccessCheck = { clientKey: string; expired: boolean } | undefined;

export interface TokenRegistry {
  issue(clientKey: string, options: { refreshable: boolean; refreshCount?: number }): TokenResponse;
  /** A new pair for a live refresh token of this client; undefined when the token is unknown, used or expired. */
  refresh(clientKey: string, refreshToken: string): TokenResponse | undefined;
  revoke(token: string): void;
  /** Every access token issued so far answers 401 from now on. */
  expireAll(): void;
  checkAccess(token: string): AccessCheck;
}

interface AccessEntry {
  clientKey: string;
  expiresAt: number;
}

interface RefreshEntry {
  clientKey: string;
  expiresAt: number;
  refreshCount: number;
}

export function createTokenRegistry(accessTokenTtlSeconds: number, now: () => number = Date.now): TokenRegistry {
  const access = new Map<string, AccessEntry>();
  const refresh = new Map<string, RefreshEntry>();

  const issue: TokenRegistry['issue'] = (clientKey, options) => {
    const issuedAt = now();
    const accessToken = newOpaqueToken();
    access.set(accessToken, { clientKey, expiresAt: issuedAt + accessTokenTtlSeconds * 1000 });
    const response: TokenResponse = {
      access_token: accessToken,
      expires_in: String(accessTokenTtlSeconds),
      issued_at: String(issuedAt),
      token_type: 'BearerToken',
      client_id: clientKey,
      status: 'approved',
    };
    if (!options.refreshable) return response;
    const refreshToken = newOpaqueToken();
    const refreshCount = options.refreshCount ?? 0;
    refresh.set(refreshToken, { clientKey, expiresAt: issuedAt + REFRESH_TOKEN_TTL_SECONDS * 1000, refreshCount });
    return {
      ...response,
      refresh_token: refreshToken,
      refresh_token_expires_in: String(REFRESH_TOKEN_TTL_SECONDS),
      refresh_token_issued_at: String(issuedAt),
      refresh_count: String(refreshCount),
    };
  };

  return {
    issue,
    refresh(clientKey, refreshToken) {
      const entry = refresh.get(refreshToken);
      if (!entry || entry.clientKey !== clientKey || entry.expiresAt <= now()) return undefined;
      refresh.delete(refreshToken);
      return issue(clientKey, { refreshable: true, refreshCount: entry.refreshCount + 1 });
    },
    revoke(token) {
      access.delete(token);
      refresh.delete(token);
    },
    expireAll() {
      const at = now();
      for (const entry of access.values()) entry.expiresAt = Math.min(entry.expiresAt, at);
    },
    checkAccess(token) {
      const entry = access.get(token);
      if (!entry) return undefined;
      return { clientKey: entry.clientKey, expired: entry.expiresAt <= now() };
    },
  };
}
