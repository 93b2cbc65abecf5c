/**
 * Sub-account tokens and the Version header, with the refusals measured against the live API:
 * missing Version → 401, unknown version → 400, unknown token → 401, expired → 401.
 */
import { ghlErrors, type GhlHttpError } from './errors.js';

export const ACCEPTED_VERSIONS: readonly string[] = ['2021-07-28', '2021-04-15', '2023-02-21', 'v3'];

export interface TokenRegistry {
  /** `scopes`: what the token was granted; omitted, it may call every endpoint (a private token made with all scopes). */
  add(token: string, locationId: string, scopes?: readonly string[]): void;
  revoke(token: string): void;
  /** The location the bearer token belongs to (and its scopes when limited), or the error GHL answers with. */
  resolve(authorization: string | undefined): { locationId: string; scopes?: ReadonlySet<string> } | GhlHttpError;
}

export function checkVersion(version: string | undefined): GhlHttpError | undefined {
  if (version === undefined || version === '') return ghlErrors.versionMissing();
  if (!ACCEPTED_VERSIONS.includes(version)) return ghlErrors.versionInvalid(version);
  return undefined;
}

export function createTokenRegistry(): TokenRegistry {
  const tokens = new Map<string, { locationId: string; revoked: boolean; scopes?: ReadonlySet<string> }>();
  return {
    add(token, locationId, scopes) {
      tokens.set(token, { locationId, revoked: false, ...(scopes === undefined ? {} : { scopes: new Set(scopes) }) });
    },
    revoke(token) {
      const entry = tokens.get(token);
      if (entry) entry.revoked = true;
    },
    resolve(authorization) {
      const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
      const entry = match?.[1] === undefined ? undefined : tokens.get(match[1]);
      if (!entry) return ghlErrors.invalidToken();
      if (entry.revoked) return ghlErrors.expiredToken();
      return entry.scopes === undefined ? { locationId: entry.locationId } : { locationId: entry.locationId, scopes: entry.scopes };
    },
  };
}
