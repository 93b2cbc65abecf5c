/**
 * Marketplace-app mode: GHL OAuth tokens per location. Access tokens live a day and are
 * refreshed a margin before expiry; refresh tokens are single-use, so a refresh runs under the
 * location's Redis lock, re-reads the store inside it (another worker may have rotated already) and
 * persists the new pair before anyone uses it. A refused refresh (400/401) marks the location
 * `needsReconnect`, reports it once, and fails with GHL_RECONNECT_REQUIRED.
 *
 * Company (agency) installs: the company token is stored under `company:<companyId>` and each location
 * the install names gets a Location token from POST /oauth/locationToken (GHL's v2 OAuth API gives it no
 * refresh token, so such a token is renewed by minting again). A Company response without `approvedLocations`
 * stores only the company token; its locations are reachable once something names them.
 */
import { createHttpTransport } from '../http/transport.js';
import { createOAuthEndpoints, type OAuthEndpoints, type OAuthTokenResponse } from './oauth-endpoints.js';
import type { OAuthTokenStore, StoredOAuthToken } from './oauth-token-store.js';
import { GhlClientError } from './ghl-client-error.js';
import type { GhlTokenProvider } from './token-provider.js';

export interface OAuthTokenProviderOptions {
  store: OAuthTokenStore;
  clientId: string;
  clientSecret: string;
  /** e.g. https://services.leadconnectorhq.com */
  baseUrl: string;
  timeoutMs: number;
  /** API Version header for /oauth/locationToken. */
  version: string;
  redirectUri?: string;
  onReconnectNeeded(locationId: string, reason: string): void;
  /** Refresh this long before expiry. Default 5 min. */
  refreshMarginMs?: number;
  now?: () => number;
}

/** Who installed (a location, or a company for its approved locations) and the locations now served. */
export interface InstallResult {
  userType: 'Location' | 'Company';
  companyId?: string;
  locations: string[];
}

export interface OAuthTokenProvider extends GhlTokenProvider {
  /**
   * Trades an install's authorization code for tokens and stores them; returns the locations served.
   * `allowCompany` sees the installing company before anything is stored: false stores nothing and
   * throws GHL_INSTALL_NOT_ALLOWED. A refused code throws GHL_INSTALL_REFUSED.
   */
  exchangeCode(code: string, allowCompany?: (companyId: string | undefined) => boolean): Promise<InstallResult>;
  close(): Promise<void>;
}

export const companyStoreId = (companyId: string): string => `company:${companyId}`;

export function createOAuthTokenProvider(options: OAuthTokenProviderOptions): OAuthTokenProvider {
  const { store } = options;
  const now = options.now ?? Date.now;
  const margin = options.refreshMarginMs ?? 5 * 60_000;
  const transport = createHttpTransport({ system: 'ghl', baseUrl: options.baseUrl, timeoutMs: options.timeoutMs });
  const endpoints = createOAuthEndpoints({ transport, clientId: options.clientId, clientSecret: options.clientSecret, version: options.version, now });
  const { toStored, mintLocationToken } = endpoints;

  const fresh = (entry: StoredOAuthToken): boolean => entry.expiresAt - margin > now();
  const reconnectError = (locationId: string) =>
    new GhlClientError('GHL_RECONNECT_REQUIRED', `the GHL install for ${locationId} must be reconnected: its refresh was refused`);

  /** The stored entry when it can be used or renewed; none, or one waiting for a reconnect, throws. */
  function served(storeId: string, entry: StoredOAuthToken | undefined): StoredOAuthToken {
    if (entry === undefined) throw new GhlClientError('GHL_LOCATION_NOT_SERVED', `no GHL OAuth install for location ${storeId}`);
    if (entry.needsReconnect === true) throw reconnectError(storeId);
    return entry;
  }

  /** Marks the entry, reports once (only on the transition), and returns the error to throw. */
  async function markReconnect(storeId: string, entry: StoredOAuthToken, reason: string): Promise<GhlClientError> {
    if (entry.needsReconnect !== true) {
      await store.set(storeId, { ...entry, needsReconnect: true });
      options.onReconnectNeeded(storeId, reason);
    }
    return reconnectError(storeId);
  }

  /** Renews storeId's token; the caller holds its lock and has just re-read `entry`. */
  async function renewLocked(storeId: string, entry: StoredOAuthToken): Promise<string> {
    if (entry.refreshToken !== undefined) {
      const answer = await endpoints.token({ grant_type: 'refresh_token', refresh_token: entry.refreshToken, user_type: entry.userType });
      if (!answer.ok) throw await markReconnect(storeId, entry, answer.refused);
      const next = toStored(answer.res, entry);
      // Persist before use: the old refresh token is spent now.
      await store.set(storeId, next);
      return next.accessToken;
    }
    if (entry.companyId !== undefined && !storeId.startsWith('company:')) {
      const companyToken = await currentToken(companyStoreId(entry.companyId));
      const next = await mintLocationToken(companyToken, entry.companyId, storeId);
      await store.set(storeId, next);
      return next.accessToken;
    }
    throw await markReconnect(storeId, entry, 'no refresh token and no company install to mint from');
  }

  async function refreshUnderLock(storeId: string, rejectedToken: string | undefined): Promise<string> {
    return store.withLock(storeId, async () => {
      const entry = served(storeId, await store.get(storeId));
      // Another worker rotated while we waited for the lock: use its token, spend nothing.
      if (entry.accessToken !== rejectedToken && fresh(entry)) return entry.accessToken;
      return renewLocked(storeId, entry);
    });
  }

  async function currentToken(storeId: string): Promise<string> {
    const entry = served(storeId, await store.get(storeId));
    if (fresh(entry)) return entry.accessToken;
    return refreshUnderLock(storeId, entry.accessToken);
  }

  return {
    tokenFor: currentToken,
    refresh: (locationId, rejectedToken) => refreshUnderLock(locationId, rejectedToken),
    async exchangeCode(code, allowCompany = () => true) {
      const form: Record<string, string> = { grant_type: 'authorization_code', code };
      if (options.redirectUri !== undefined) form.redirect_uri = options.redirectUri;
      const answer = await endpoints.token(form);
      if (!answer.ok) throw new GhlClientError('GHL_INSTALL_REFUSED', `GHL refused the authorization code (${answer.refused})`);
      const { res } = answer;
      if (!allowCompany(res.companyId)) throw new GhlClientError('GHL_INSTALL_NOT_ALLOWED', `company ${res.companyId ?? '(none named)'} is not allowed to install`);
      return storeInstall(store, endpoints, res);
    },
    close: () => transport.close(),
  };
}

/** Stores an install's tokens: one Location token, or the Company token and a token minted for each approved location. */
async function storeInstall(store: OAuthTokenStore, endpoints: OAuthEndpoints, res: OAuthTokenResponse): Promise<InstallResult> {
  const stored = endpoints.toStored(res);
  if (stored.userType === 'Location') {
    if (res.locationId === undefined) throw new GhlClientError('GHL_INVALID_REQUEST', 'a Location token response without locationId');
    await store.set(res.locationId, stored);
    return { userType: 'Location', ...(res.companyId === undefined ? {} : { companyId: res.companyId }), locations: [res.locationId] };
  }
  if (res.companyId === undefined) throw new GhlClientError('GHL_INVALID_REQUEST', 'a Company token response without companyId');
  await store.set(companyStoreId(res.companyId), stored);
  const locations: string[] = [];
  for (const locationId of res.approvedLocations ?? []) {
    await store.set(locationId, await endpoints.mintLocationToken(stored.accessToken, res.companyId, locationId));
    locations.push(locationId);
  }
  return { userType: 'Company', companyId: res.companyId, locations };
}
