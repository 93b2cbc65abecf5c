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
  /**
   * Whether one location is served: answered at once (no promise) while the list is fresh, which is
   * every webhook but one per SERVED_CACHE_MS, and always without OAuth installs.
   */
  has(locationId: string): boolean | Promise<boolean>;
  /** Drops the cached list, so the next read sees an install or uninstall at once. */
  forget(): void;
}

interface Cached {
  at: number;
  ids: string[];
  set: ReadonlySet<string>;
}

export function createServedLocations(privateLocations: string[], installs: InstalledLocations | undefined, now: () => number = Date.now): ServedLocations {
  const onlyPrivate = (): Cached => ({ at: 0, ids: privateLocations, set: new Set(privateLocations) });
  let cached = onlyPrivate();
  const fresh = () => !installs || now() - cached.at < SERVED_CACHE_MS;
  const refresh = async (): Promise<Cached> => {
    if (!installs) return cached;
    // Agency-level installs are stored beside location installs; they serve no location themselves.
    const installed = (await installs.listLocations()).filter((id) => !id.startsWith('company:'));
    const set = new Set([...privateLocations, ...installed]);
    cached = { at: now(), ids: [...set], set };
    return cached;
  };
  return {
    list: async () => (fresh() ? cached : await refresh()).ids,
    has: (locationId) => (fresh() ? cached.set.has(locationId) : refresh().then((latest) => latest.set.has(locationId))),
    forget: () => {
      cached = onlyPrivate();
    },
  };
}
