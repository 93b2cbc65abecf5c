/**
 * The locations this bridge serves: the private-token location, when configured, plus every
 * location with an OAuth install. Read from Redis at most every few seconds.
 */

/** How long the list of served locations is reused. */
const SERVED_CACHE_MS = 5_000;

export interface InstalledLocations {
  listLocations(): Promise<string[]>;
}

export interface ServedLocations {
  list(): Promise<string[]>;
  /** Drops the cached list, so the next read sees an install or uninstall at once. */
  forget(): void;
}

export function createServedLocations(privateLocations: string[], installs: InstalledLocations | undefined): ServedLocations {
  let cached = { at: 0, ids: privateLocations };
  return {
    list: async () => {
      if (!installs || Date.now() - cached.at < SERVED_CACHE_MS) return cached.ids;
      // Agency-level installs are stored beside location installs; they serve no location themselves.
      const installed = (await installs.listLocations()).filter((id) => !id.startsWith('company:'));
      cached = { at: Date.now(), ids: [...new Set([...privateLocations, ...installed])] };
      return cached.ids;
    },
    forget: () => {
      cached = { at: 0, ids: privateLocations };
    },
  };
}
