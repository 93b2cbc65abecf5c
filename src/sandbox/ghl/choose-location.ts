/**
 * GHL's install page, `GET /v2/oauth/chooselocation` (GHL's OAuth authorization guide): the installer
 * picks a location and GHL redirects to `redirect_uri?code=…` (with `state` when one was sent). The
 * page needs `response_type=code`, a known `client_id`, the app's `version_id` (without it GHL shows
 * `error.noversionid`, measured) and a `redirect_uri`. There is no UI here: the simulator's installer
 * (setInstaller, else the first location) approves at once, granting exactly the scopes requested.
 */
import type { FastifyInstance } from 'fastify';
import { optionalParams } from '../shared/form-fields.js';
import { GhlHttpError } from './errors.js';

export const CHOOSE_LOCATION_PATH = '/v2/oauth/chooselocation';

/** `Grant`: who installs (oauth.ts's AuthorizationGrant without its scopes). */
export interface ChooseLocationDeps<Grant extends object> {
  /** The app: the version id its install page requires, its registered redirect URI; undefined when unknown. */
  app(clientId: string): { versionId: string; redirectUri?: string } | undefined;
  installer(): Grant | undefined;
  issue(grant: Grant & { scopes: string[] }): string;
}

const QuerySchema = optionalParams(['response_type', 'client_id', 'version_id', 'redirect_uri', 'scope', 'state']);

const refused = (error: string, description: string) => new GhlHttpError(400, { error, error_description: description });

export function registerChooseLocation<Grant extends object>(app: FastifyInstance, deps: ChooseLocationDeps<Grant>): void {
  app.get(CHOOSE_LOCATION_PATH, async (request, reply) => {
    const query = QuerySchema.parse(request.query ?? {});
    const app = query.client_id === undefined ? undefined : deps.app(query.client_id);
    if (app === undefined) throw refused('error.noclientid', 'client_id is missing or unknown');
    if (!query.version_id) throw refused('error.noversionid', 'version_id is required');
    if (query.version_id !== app.versionId) throw refused('error.invalidversionid', 'version_id is not a version of this app');
    if (query.response_type !== 'code') throw refused('unsupported_response_type', 'response_type must be code');
    let target: URL;
    try {
      // Without redirect_uri the app's registered one is used.
      target = new URL(query.redirect_uri ?? app.redirectUri ?? '');
    } catch {
      throw refused('invalid_request', 'redirect_uri must be an absolute URL');
    }
    const installer = deps.installer();
    if (installer === undefined) throw refused('invalid_request', 'no location to install to');
    const scopes = (query.scope ?? '').split(' ').filter((scope) => scope !== '');
    target.searchParams.set('code', deps.issue({ ...installer, scopes }));
    if (query.state !== undefined) target.searchParams.set('state', query.state);
    return reply.code(302).header('location', target.toString()).send();
  });
}
