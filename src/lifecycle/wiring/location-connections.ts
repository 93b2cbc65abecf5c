/**
 * Per-location connections as the rest of the service reads them: one store (needs ENCRYPTION_KEY),
 * read through a cache of a few seconds shared by the webhook check, the routing and the clients.
 * Without ENCRYPTION_KEY there are none and every location uses the environment's settings.
 */
import type { Config } from '../../config/env.js';
import {
  connectionBusinessUnitLocations,
  connectionItemLocations,
  createCachedConnections,
  createLocationConnectionStore,
  maskOpinionStageConnection,
  maskTrustpilotConnection,
  webhookSecretOf,
  type CachedConnections,
  type ConnectionKind,
  type LocationConnectionStore,
  type MaskedOpinionStageConnection,
  type MaskedTrustpilotConnection,
} from '../../state/location-connections.js';
import type { Stores } from './state.js';

export interface MaskedLocationConnections {
  trustpilot: MaskedTrustpilotConnection | null;
  opinionstage: MaskedOpinionStageConnection | null;
}

export interface ConnectionsAccess {
  store: LocationConnectionStore;
  cache: CachedConnections;
  /** The secret of `?location=<id>` webhook URLs. */
  webhookSecret(kind: ConnectionKind, locationId: string): Promise<string | undefined>;
  /** Opinion Stage item id → the locations whose own connection lists it. */
  itemLocations(): Promise<Map<string, string[]>>;
  /** Trustpilot business unit id → the locations whose own connection is that unit. */
  businessUnitLocations(): Promise<Map<string, string[]>>;
  /** A location's own connections, secrets masked (null: it uses the environment's). */
  masked(locationId: string): Promise<MaskedLocationConnections>;
}

export function createConnectionsAccess(stores: Pick<Stores, 'redis' | 'prefix'>, config: Pick<Config, 'ENCRYPTION_KEY'>): ConnectionsAccess | undefined {
  if (config.ENCRYPTION_KEY.length === 0) return undefined;
  const store = createLocationConnectionStore(stores.redis, stores.prefix, config.ENCRYPTION_KEY);
  const cache = createCachedConnections(store);
  return {
    store,
    cache,
    webhookSecret: async (kind, locationId) => webhookSecretOf(await cache.snapshot(), kind, locationId),
    itemLocations: async () => connectionItemLocations(await cache.snapshot()),
    businessUnitLocations: async () => connectionBusinessUnitLocations(await cache.snapshot()),
    masked: async (locationId) => {
      const snapshot = await cache.snapshot();
      const trustpilot = snapshot.trustpilot.get(locationId);
      const opinionstage = snapshot.opinionstage.get(locationId);
      return {
        trustpilot: trustpilot ? maskTrustpilotConnection(trustpilot) : null,
        opinionstage: opinionstage ? maskOpinionStageConnection(opinionstage) : null,
      };
    },
  };
}
