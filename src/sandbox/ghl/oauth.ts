/**
 * Marketplace-app OAuth (openapi/upstream/ghl/apps/oauth.json): `POST /oauth/token` (form-encoded; authorization_code
 * and refresh_token grants) and `POST /oauth/locationToken` (Company token → Location token, no refresh
 * token in that document). Refresh tokens are single-use: each refresh returns a new pair and spends the old one.
 *
 * Refusals: bad client or unknown code → 401 `{"error":"UnAuthorized!","error_description":…}` (measured against the live API).
 * A spent, revoked or unknown refresh token → 400 `{"error":"invalid_grant",…}`: GHL's real wording is not
 * documented (GHL staff only said a failed refresh answers 400), so we chose RFC 6749's.
 */
import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { checkVersion, type TokenRegistry } from './auth.js';
import { registerChooseLocation } from './choose-location.js';
import { optionalParams } from '../shared/form-fields.js';
import { ghlErrors, GhlHttpError } from './errors.js';
import { newGhlId } from './ids.js';

export interface OAuthClient {
  clientId: string;
  clientSecret: string;
  /** The app version the install page requires as `version_id`. Default `ver_sandbox`. */
  versionId?: string;
  /** The redirect URI registered with the app, used when the install page is not sent one. */
  redirectUri?: string;
}

/** The app version id a client's install page asks for when none is configured. */
export const DEFAULT_APP_VERSION_ID = 'ver_sandbox';

export type OAuthUserType = 'Location' | 'Company';

export interface AuthorizationGrant {
  userType: OAuthUserType;
  /** Required for a Location install. */
  locationId?: string;
  companyId?: string;
  /** Company installs: the locations the install names (`approvedLocations`); omit to answer without it. */
  approvedLocations?: string[];
  /** The scopes granted; default every scope the bridge can use (the install page grants what it was asked). */
  scopes?: string[];
}

/** Token-endpoint calls per grant, refused ones included. */
export interface OAuthCallCounts {
  authorization_code: number;
  refresh_token: number;
  locationToken: number;
}

export interface OAuthServer {
  readonly counts: OAuthCallCounts;
  issueAuthorizationCode(grant: AuthorizationGrant): string;
  /** Who approves the next installs on the install page (which location or company, not the scopes). */
  setInstaller(grant: Omit<AuthorizationGrant, 'scopes'>): void;
  revokeRefreshToken(refreshToken: string): void;
  /** Spends every refresh token of a location's install (as when GHL revokes an app's access). */
  revokeLocationRefreshTokens(locationId: string): void;
  register(app: FastifyInstance): void;
}

export interface OAuthServerDeps {
  clients: OAuthClient[];
  /** API tokens: issued Location access tokens are added here so API calls accept them. */
  tokens: TokenRegistry;
  accessTokenTtlSeconds: number;
  /** A location an install names must exist in the simulator's store. */
  ensureLocation(locationId: string): void;
  /** Who approves installs on the install page until setInstaller says otherwise. */
  defaultInstaller(): Omit<AuthorizationGrant, 'scopes'> | undefined;
}

const SCOPES = ['contacts.readonly', 'contacts.write', 'locations/customFields.readonly', 'locations/customFields.write'];
const COMPANY_SCOPES = [...SCOPES, 'oauth.readonly', 'oauth.write'];

const TokenFormSchema = optionalParams(['client_id', 'client_secret', 'grant_type', 'code', 'refresh_token', 'user_type', 'redirect_uri']);

const LocationTokenFormSchema = optionalParams(['companyId', 'locationId']);

interface Install {
  userType: OAuthUserType;
  companyId: string;
  locationId?: string;
  approvedLocations?: string[];
  userId: string;
  scopes: string[];
}

const unauthorized = (description: string) =>
  new GhlHttpError(401, { error: 'UnAuthorized!', error_description: description });
const invalidGrant = (description: string) => new GhlHttpError(400, { error: 'invalid_grant', error_description: description });
const invalidRequest = (description: string) =>
  new GhlHttpError(400, { error: 'invalid_request', error_description: description });

const secret = (kind: string) => `${kind}-${randomBytes(24).toString('base64url')}`;

/** What the token endpoints remember: codes, refresh tokens, Company tokens and the call counts. */
interface OAuthState {
  deps: OAuthServerDeps;
  codes: Map<string, Install>;
  refreshTokens: Map<string, { install: Install; spent: boolean }>;
  companyTokens: Map<string, Install>;
  counts: OAuthCallCounts;
}

function issueTokens(state: OAuthState, install: Install): Record<string, unknown> {
  const { deps } = state;
  const accessToken = secret('sim-at');
  const refreshToken = secret('sim-rt');
  state.refreshTokens.set(refreshToken, { install, spent: false });
  if (install.userType === 'Location' && install.locationId !== undefined) deps.tokens.add(accessToken, install.locationId, install.scopes);
  else state.companyTokens.set(accessToken, install);
  return {
    access_token: accessToken,
    token_type: 'Bearer',
    expires_in: deps.accessTokenTtlSeconds,
    refresh_token: refreshToken,
    scope: install.scopes.join(' '),
    userType: install.userType,
    ...(install.locationId === undefined ? {} : { locationId: install.locationId }),
    companyId: install.companyId,
    ...(install.approvedLocations === undefined ? {} : { approvedLocations: install.approvedLocations }),
    userId: install.userId,
    planId: 'plan_sandbox',
    isBulkInstallation: false,
  };
}

function checkClient(deps: OAuthServerDeps, form: z.infer<typeof TokenFormSchema>): void {
  const known = deps.clients.some((c) => c.clientId === form.client_id && c.clientSecret === form.client_secret);
  if (!known) throw unauthorized('Invalid client credentials');
}

function issueAuthorizationCode(state: OAuthState, grant: AuthorizationGrant): string {
  if (grant.userType === 'Location' && grant.locationId === undefined) {
    throw new Error('a Location authorization code needs a locationId');
  }
  if (grant.locationId !== undefined) state.deps.ensureLocation(grant.locationId);
  for (const id of grant.approvedLocations ?? []) state.deps.ensureLocation(id);
  const code = secret('sim-code');
  state.codes.set(code, {
    userType: grant.userType,
    companyId: grant.companyId ?? 'company_sandbox',
    ...(grant.userType === 'Location' && grant.locationId !== undefined ? { locationId: grant.locationId } : {}),
    ...(grant.approvedLocations === undefined ? {} : { approvedLocations: [...grant.approvedLocations] }),
    userId: newGhlId(),
    scopes: grant.scopes ?? (grant.userType === 'Company' ? COMPANY_SCOPES : SCOPES),
  });
  return code;
}

/** `POST /oauth/token`: the authorization_code and refresh_token grants. */
function tokenGrant(state: OAuthState, body: unknown): Record<string, unknown> {
  const { counts } = state;
  const parsed = TokenFormSchema.safeParse(body ?? {});
  if (!parsed.success) throw invalidRequest('the token request must be a form of strings');
  const form = parsed.data;
  if (form.grant_type === 'authorization_code') {
    counts.authorization_code += 1;
    checkClient(state.deps, form);
    const install = form.code === undefined ? undefined : state.codes.get(form.code);
    if (install === undefined) throw unauthorized('Authorization code not found');
    state.codes.delete(form.code ?? '');
    return issueTokens(state, install);
  }
  if (form.grant_type === 'refresh_token') {
    counts.refresh_token += 1;
    checkClient(state.deps, form);
    const entry = form.refresh_token === undefined ? undefined : state.refreshTokens.get(form.refresh_token);
    if (entry === undefined || entry.spent) throw invalidGrant('Invalid grant: refresh token is invalid');
    entry.spent = true;
    return issueTokens(state, entry.install);
  }
  throw invalidRequest('grant_type must be authorization_code or refresh_token');
}

/** `POST /oauth/locationToken`: a Company token with oauth.write mints a Location token for an approved location. */
function locationToken(state: OAuthState, request: FastifyRequest): Record<string, unknown> {
  state.counts.locationToken += 1;
  const versionHeader = request.headers.version;
  const versionError = checkVersion(Array.isArray(versionHeader) ? versionHeader[0] : versionHeader);
  if (versionError) throw versionError;
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '')?.[1];
  const install = bearer === undefined ? undefined : state.companyTokens.get(bearer);
  if (install === undefined) {
    throw new GhlHttpError(401, { statusCode: 401, message: 'Invalid token: access token is invalid', error: 'Unauthorized' });
  }
  const form = LocationTokenFormSchema.safeParse(request.body ?? {}).data ?? {};
  if (form.companyId === undefined || form.locationId === undefined) {
    throw new GhlHttpError(422, { statusCode: 422, message: ['companyId and locationId are required'], error: 'Unprocessable Entity' });
  }
  if (!install.scopes.includes('oauth.write')) throw ghlErrors.scopeMissing();
  if (form.companyId !== install.companyId || !(install.approvedLocations ?? []).includes(form.locationId)) {
    throw new GhlHttpError(403, { statusCode: 403, message: 'The token does not have access to this location.' });
  }
  const accessToken = secret('sim-lat');
  state.deps.tokens.add(accessToken, form.locationId, install.scopes);
  return {
    access_token: accessToken,
    token_type: 'Bearer',
    expires_in: state.deps.accessTokenTtlSeconds,
    scope: install.scopes.join(' '),
    locationId: form.locationId,
    planId: 'plan_sandbox',
    userId: install.userId,
    appId: 'app_sandbox',
    versionId: 'ver_sandbox',
  };
}

function registerTokenRoutes(app: FastifyInstance, state: OAuthState): void {
  app.register(async (scope) => {
    // The token endpoints are form-encoded (openapi/upstream/ghl/apps/oauth.json); only this scope parses forms.
    scope.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, done) => {
      const text = typeof body === 'string' ? body : body.toString('utf8');
      done(null, Object.fromEntries(new URLSearchParams(text)));
    });
    scope.post('/oauth/token', async (request) => tokenGrant(state, request.body));
    scope.post('/oauth/locationToken', async (request) => locationToken(state, request));
  });
}

export function createOAuthServer(deps: OAuthServerDeps): OAuthServer {
  const state: OAuthState = {
    deps,
    codes: new Map(),
    refreshTokens: new Map(),
    companyTokens: new Map(),
    counts: { authorization_code: 0, refresh_token: 0, locationToken: 0 },
  };
  let installer: Omit<AuthorizationGrant, 'scopes'> | undefined;
  const issue = (grant: AuthorizationGrant): string => issueAuthorizationCode(state, grant);

  return {
    counts: state.counts,
    issueAuthorizationCode: issue,
    setInstaller(grant) {
      installer = grant;
    },
    revokeRefreshToken(refreshToken) {
      const entry = state.refreshTokens.get(refreshToken);
      if (entry) entry.spent = true;
    },
    revokeLocationRefreshTokens(locationId) {
      for (const entry of state.refreshTokens.values()) if (entry.install.locationId === locationId) entry.spent = true;
    },
    register(app) {
      registerChooseLocation(app, {
        app: (clientId) => {
          const client = deps.clients.find((candidate) => candidate.clientId === clientId);
          if (client === undefined) return undefined;
          return { versionId: client.versionId ?? DEFAULT_APP_VERSION_ID, ...(client.redirectUri === undefined ? {} : { redirectUri: client.redirectUri }) };
        },
        installer: () => installer ?? deps.defaultInstaller(),
        issue,
      });
      registerTokenRoutes(app, state);
    },
  };
}
