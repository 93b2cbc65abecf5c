/**
 * Routes each location's GHL token requests: the private-token location uses the static token,
 * every other location its OAuth install, and a location with neither is refused.
 */
import { GhlClientError } from '../../clients/ghl/ghl-client-error.js';
import type { GhlTokenProvider } from '../../clients/ghl/token-provider.js';

/** Tokens for a location nobody installed. */
const notServed: GhlTokenProvider = {
  tokenFor: async (locationId) => {
    throw new GhlClientError('GHL_LOCATION_NOT_SERVED', `location ${locationId} is not served: no private token for it and no app install`);
  },
  refresh: async () => undefined,
};

export function routeGhlTokens(privateLocations: string[], staticTokens: GhlTokenProvider | undefined, oauth: GhlTokenProvider | undefined): GhlTokenProvider {
  const providerFor = (locationId: string): GhlTokenProvider => (staticTokens && privateLocations.includes(locationId) ? staticTokens : (oauth ?? notServed));
  return {
    tokenFor: (locationId) => providerFor(locationId).tokenFor(locationId),
    refresh: (locationId, rejected) => providerFor(locationId).refresh(locationId, rejected),
  };
}
