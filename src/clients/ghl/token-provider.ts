/** Where the GHL client gets bearer tokens: OAuth installs (with refresh) or one private integration token. */
import { GhlClientError } from './ghl-client-error.js';

export interface GhlTokenProvider {
  /** Current access token for a location. */
  tokenFor(locationId: string): Promise<string>;
  /** Called once after a 401; returns a fresh token, or undefined when it cannot refresh (private token). */
  refresh(locationId: string, rejectedToken: string): Promise<string | undefined>;
}

/** Private-integration-token mode: one sub-account, one static token that cannot be refreshed. */
export function createStaticTokenProvider(locationId: string, token: string): GhlTokenProvider {
  return {
    async tokenFor(requested) {
      if (requested !== locationId) {
        throw new GhlClientError('GHL_LOCATION_NOT_SERVED', `no GHL token for location ${requested}: the private token serves one location only`);
      }
      return token;
    },
    async refresh() {
      return undefined;
    },
  };
}
