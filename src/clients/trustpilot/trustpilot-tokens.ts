/**
 * The Trustpilot client's business-user token: read from the shared store, renewed a margin before
 * expiry or after a 401, by refresh grant when a refresh token is held, else by password grant. Both
 * grants POST a form with Basic base64(key:secret).
 */
import type { z } from 'zod';
import type { HttpRequest } from '../http/transport.js';
import { UpstreamError } from '../http/upstream-error.js';
import { TokenResponseSchema } from './schemas.js';
import type { StoredTrustpilotToken, TrustpilotTokenStore } from './token-store.js';
import { TrustpilotClientError } from './trustpilot-client-error.js';

const TOKEN_PATH = '/v1/oauth/oauth-business-users-for-applications/accesstoken';
const REFRESH_PATH = '/v1/oauth/oauth-business-users-for-applications/refresh';
/** Renew this long before expiry, as Trustpilot's own Bruno collection does. */
const REFRESH_MARGIN_MS = 60_000;

/** The business-user login of the password grant (2FA must be off for that user). */
export interface TrustpilotLogin {
  apiSecret: string;
  username: string;
  password: string;
}

export interface TrustpilotTokensOptions {
  tokenStore: TrustpilotTokenStore;
  /** Undefined when private calls are not configured: every token request then fails. */
  login: TrustpilotLogin | undefined;
  /** base64(apiKey:apiSecret). */
  basic: string | undefined;
  /** One budgeted exchange, its answer checked by `schema`; `secrets` are blanked out of error excerpts. */
  send<T>(req: HttpRequest, schema: z.ZodType<T>, secrets: string[]): Promise<T>;
}

export interface TrustpilotTokens {
  /** The stored token while it is fresh, else a renewed one. */
  accessToken(): Promise<string>;
  /** A token other than `rejected`: renewed, or one another worker renewed meanwhile. */
  renew(rejected: string | undefined): Promise<string>;
}

export function createTrustpilotTokens(options: TrustpilotTokensOptions): TrustpilotTokens {
  const { tokenStore, login, basic } = options;
  let renewal: Promise<string> | undefined;

  /** One token call (password or refresh grant) with Basic base64(key:secret) and a form body. */
  async function tokenCall(path: string, form: Record<string, string>, sentSecrets: string[]): Promise<StoredTrustpilotToken> {
    const req: HttpRequest = { method: 'POST', path, form, headers: { authorization: `Basic ${basic ?? ''}` } };
    const answer = await options.send(req, TokenResponseSchema, sentSecrets);
    return {
      accessToken: answer.access_token,
      ...(answer.refresh_token ? { refreshToken: answer.refresh_token } : {}),
      expiresAt: Date.now() + answer.expires_in * 1000,
    };
  }

  /** Refresh when we hold a refresh token; when Trustpilot rejects it (spent, expired, revoked), grant with the password. */
  async function obtain(current: StoredTrustpilotToken | undefined): Promise<StoredTrustpilotToken> {
    if (login === undefined) throw notConfigured();
    const refreshToken = current?.refreshToken;
    if (refreshToken !== undefined) {
      try {
        const next = await tokenCall(REFRESH_PATH, { grant_type: 'refresh_token', refresh_token: refreshToken }, [refreshToken]);
        // RFC 6749 section 6: without a new refresh token in the answer, the old one stays valid.
        return next.refreshToken === undefined ? { ...next, refreshToken } : next;
      } catch (error) {
        if (!(error instanceof UpstreamError && (error.status === 400 || error.status === 401))) throw error;
      }
    }
    return tokenCall(TOKEN_PATH, { grant_type: 'password', username: login.username, password: login.password }, []);
  }

  /**
   * Renews under the store's lock, re-reading the store first: another worker may have renewed
   * while we waited, and a refresh token must never be spent twice. Concurrent callers in this
   * process share one renewal.
   */
  function renew(rejected: string | undefined): Promise<string> {
    renewal ??= tokenStore
      .withLock(async () => {
        const current = await tokenStore.get();
        if (current !== undefined && current.accessToken !== rejected && isFresh(current)) return current.accessToken;
        const next = await obtain(current);
        await tokenStore.set(next);
        return next.accessToken;
      })
      .finally(() => {
        renewal = undefined;
      });
    return renewal;
  }

  return {
    async accessToken() {
      const current = await tokenStore.get();
      if (current !== undefined && isFresh(current)) return current.accessToken;
      return renew(undefined);
    },
    renew,
  };
}

/** The error of a private call (or a token request) without the business-user credentials. */
export function notConfigured(): TrustpilotClientError {
  return new TrustpilotClientError(
    'TRUSTPILOT_PRIVATE_NOT_CONFIGURED',
    'private Trustpilot calls need TRUSTPILOT_API_SECRET, TRUSTPILOT_USERNAME and TRUSTPILOT_PASSWORD',
  );
}

function isFresh(token: StoredTrustpilotToken): boolean {
  return token.expiresAt - Date.now() > REFRESH_MARGIN_MS;
}
