/**
 * GHL access: the private-token location (when configured) and, in marketplace-app mode, each
 * installed location with its own OAuth tokens (stored encrypted), behind the shared budget and
 * circuit. The service and `backfill` both build it here.
 */
import type { GhlClient } from '../../clients/ghl/ghl-client.js';
import { createOAuthTokenProvider, type OAuthTokenProvider } from '../../clients/ghl/oauth-token-provider.js';
import { createStaticTokenProvider } from '../../clients/ghl/token-provider.js';
import type { ResponseObserver } from '../../clients/http/transport.js';
import type { Config } from '../../config/env.js';
import type { Logger } from '../../observability/logger.js';
import type { OAuthTokenStore } from '../../clients/ghl/oauth-token-store.js';
import { createOAuthTokenStore } from '../../state/oauth-token-store.js';
import { refreshLockTiming } from '../../state/lock-lease.js';
import type { AlertPort, GhlGuard } from './guards.js';
import { routeGhlTokens } from './ghl-tokens.js';
import type { Resources } from './resources.js';
import { createServedLocations, type ServedLocations } from './served-locations.js';
import type { Stores } from './state.js';
import { ghlClientFrom } from './upstreams.js';

export interface GhlAccess {
  ghl: GhlClient;
  served: ServedLocations;
  /** Marketplace-app mode only (GHL_CLIENT_ID and GHL_CLIENT_SECRET set). */
  oauth: { provider: OAuthTokenProvider; store: OAuthTokenStore; clientId: string; clientSecret: string } | undefined;
}

export interface GhlAccessParts {
  config: Config;
  logger: Logger;
  stores: Pick<Stores, 'redis' | 'prefix'>;
  guard: GhlGuard;
  alerts: AlertPort;
  observe?: ResponseObserver;
  resources: Resources;
}

export function createGhlAccess(parts: GhlAccessParts): GhlAccess {
  const { config, resources } = parts;
  const privateLocations = config.GHL_PRIVATE_TOKEN && config.GHL_LOCATION_ID ? [config.GHL_LOCATION_ID] : [];
  const staticTokens = config.GHL_PRIVATE_TOKEN && config.GHL_LOCATION_ID ? createStaticTokenProvider(config.GHL_LOCATION_ID, config.GHL_PRIVATE_TOKEN) : undefined;
  const oauth = createOAuth(parts);
  if (oauth) resources.add('ghl-oauth', () => oauth.provider.close());
  const ghl = ghlClientFrom(config, {
    tokens: routeGhlTokens(privateLocations, staticTokens, oauth?.provider),
    budget: parts.guard.budget,
    ...(parts.observe ? { observe: parts.observe } : {}),
  });
  resources.add('ghl-client', () => ghl.close());
  return { ghl, served: createServedLocations(privateLocations, oauth?.store), oauth };
}

function createOAuth({ config, logger, stores, alerts }: GhlAccessParts): GhlAccess['oauth'] {
  const clientId = config.GHL_CLIENT_ID;
  const clientSecret = config.GHL_CLIENT_SECRET;
  if (!clientId || !clientSecret) return undefined;
  // One refresh call per lease (state/lock-lease.ts).
  const store = createOAuthTokenStore({ redis: stores.redis, prefix: stores.prefix, encryptionKeys: config.ENCRYPTION_KEY, ...refreshLockTiming(config.UPSTREAM_TIMEOUT) });
  const provider = createOAuthTokenProvider({
    store,
    clientId,
    clientSecret,
    baseUrl: config.GHL_API_BASE_URL,
    timeoutMs: config.UPSTREAM_TIMEOUT,
    version: config.GHL_API_VERSION,
    ...(config.GHL_OAUTH_REDIRECT_URI ? { redirectUri: config.GHL_OAUTH_REDIRECT_URI } : {}),
    onReconnectNeeded: (locationId, reason) => {
      logger.error({ locationId, reason }, 'location needs reconnecting');
      void alerts.raise({ kind: 'oauth-reconnect', system: 'ghl', locationId, message: `reconnect location ${locationId}: GHL refused its refresh token (${reason})` });
    },
  });
  return { provider, store, clientId, clientSecret };
}
