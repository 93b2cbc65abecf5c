/**
 * A GoHighLevel API simulator on loopback: Contacts API 2021-07-28 (contacts, upsert, search, tags,
 * tasks, notes), location custom fields, sub-account tokens, GHL's rate limits and headers, injected
 * faults, and signed webhooks for every change, including the changes made through the API.
 * Built from GHL's public documents (openapi/upstream/ghl/), not from the bridge's client.
 */
import { buildSimulatorApp } from './app.js';
import { createTokenRegistry, type TokenRegistry } from './auth.js';
import { createFaultRegistry, faultControls } from '../shared/faults.js';
import { closeOnce, listenOnLoopback } from '../shared/serve.js';
import type { SimulatorBase } from '../shared/simulator.js';
import type { MissingEntityStatus, MissingEntitySwitch } from './missing-entity.js';
import { createMutations } from './mutations.js';
import { sharedGhlRequestValidator } from './openapi-validator.js';
import { createOAuthServer, type AuthorizationGrant, type OAuthCallCounts, type OAuthClient, type OAuthServer } from './oauth.js';
import { createRateLimiter } from './rate-limit.js';
import type { RecordedCall } from './request-pipeline.js';
import { createWebhookSigner, type SigningKeyPems, type WebhookSignatureMode } from './signing.js';
import { createGhlStore, type GhlStore } from './store.js';
import { createUserActions, type UserActions } from './user-actions.js';
import { createWebhookEmitter, type WebhookDelivery } from './webhook-emitter.js';

export type { Contact, CustomField, CustomFieldValue, Note, Task } from './model.js';
export type { Fault, FaultRule } from '../shared/faults.js';
export type { RecordedCall } from './request-pipeline.js';
export type { WebhookDelivery } from './webhook-emitter.js';
export type { GhlStore } from './store.js';
export type { AuthorizationGrant, OAuthCallCounts, OAuthClient } from './oauth.js';
export { DEFAULT_APP_VERSION_ID } from './oauth.js';
export { CHOOSE_LOCATION_PATH } from './choose-location.js';
export type { MissingEntityStatus } from './missing-entity.js';

/** A sub-account (location) and its private integration token. */
export interface GhlSimulatorLocation {
  id: string;
  token: string;
  /** The private token's scopes; omitted, every endpoint. */
  scopes?: string[];
}

export interface GhlSimulatorOptions {
  host?: string;
  port?: number;
  locations?: GhlSimulatorLocation[];
  rateLimit?: { max: number; windowMs: number };
  dailyLimit?: number;
  webhookUrl?: string;
  webhookSignatures?: WebhookSignatureMode;
  webhookRetry?: { attempts: number; baseDelayMs: number };
  appId?: string;
  signingKeys?: SigningKeyPems;
  /** Marketplace apps accepted by POST /oauth/token. */
  oauthClients?: OAuthClient[];
  /** `expires_in` of issued OAuth access tokens. Default 86399, as in openapi/upstream/ghl/apps/oauth.json. */
  oauthAccessTokenTtlSeconds?: number;
  /** How a missing contact, note or task is answered: 404 (default), or 400 / 422 saying "not found". */
  missingEntityStatus?: MissingEntityStatus;
  /** Fastify's logger; off unless asked for. */
  logger?: boolean;
}

export interface GhlSimulator extends UserActions, SimulatorBase<RecordedCall, WebhookDelivery> {
  readonly publicKeys: { ed25519: string; rsa: string };
  /** Requests that failed validation against GHL's OpenAPI documents (also GET /__sandbox/undocumented). */
  readonly undocumented: RecordedCall[];
  store: GhlStore;
  /** Switches how a missing contact, note or task is answered from now on. */
  setMissingEntityStatus(status: MissingEntityStatus): void;
  addLocation(location: GhlSimulatorLocation): void;
  revokeToken(token: string): void;
  /** An install's authorization code, as GHL's redirect would hand it to the app's callback. */
  issueAuthorizationCode(grant: AuthorizationGrant): string;
  /** Who approves installs on the install page (`/v2/oauth/chooselocation`); default the first location. */
  setInstaller(grant: Omit<AuthorizationGrant, 'scopes'>): void;
  /** Spends a refresh token, as if another client had used it (or the app was uninstalled). */
  revokeRefreshToken(refreshToken: string): void;
  /** Spends every refresh token of a location's install. */
  revokeLocationRefreshTokens(locationId: string): void;
  /** Live counts of token-endpoint calls per grant. */
  readonly oauthCalls: OAuthCallCounts;
  /** Most calls (admitted or refused) any rate-limit window saw for the location: ≤ max means the client behaved. */
  maxCallsInAnyWindow(locationId: string): number;
}

export const DEFAULT_SIMULATOR_LOCATION: GhlSimulatorLocation = { id: 'loc_sandbox_1', token: 'pit-sandbox-1' };

/** The marketplace OAuth server; installs land in the first configured location unless told otherwise. */
function simulatorOAuth(options: GhlSimulatorOptions, tokens: TokenRegistry, store: GhlStore): OAuthServer {
  return createOAuthServer({
    clients: options.oauthClients ?? [],
    tokens,
    accessTokenTtlSeconds: options.oauthAccessTokenTtlSeconds ?? 86_399,
    ensureLocation: (locationId) => store.addLocation(locationId),
    defaultInstaller: () => {
      const first = (options.locations ?? [DEFAULT_SIMULATOR_LOCATION])[0];
      return first === undefined ? undefined : { userType: 'Location', locationId: first.id };
    },
  });
}

export async function startGhlSimulator(options: GhlSimulatorOptions = {}): Promise<GhlSimulator> {
  const rateLimit = options.rateLimit ?? { max: 100, windowMs: 10_000 };
  const store = createGhlStore();
  const tokens = createTokenRegistry();
  const limiter = createRateLimiter({ ...rateLimit, daily: options.dailyLimit ?? 200_000 });
  const faults = createFaultRegistry(['status', 'latency', 'timeout', 'rate-limit', 'token-expired', 'lost-response']);
  const calls: RecordedCall[] = [];
  const undocumented: RecordedCall[] = [];
  const shutdown = new AbortController();
  const signer = await createWebhookSigner(options.signingKeys);
  const emitter = createWebhookEmitter({
    signer,
    signatures: options.webhookSignatures ?? 'both',
    retry: options.webhookRetry ?? { attempts: 3, baseDelayMs: 200 },
    // GHL client ids read `<appId>-<suffix>`: the events name the app of the first client.
    appId: options.appId ?? (options.oauthClients?.[0]?.clientId.split('-')[0] || 'app_sandbox'),
    versionId: 'ver_sandbox',
    url: options.webhookUrl,
  });
  const mutations = createMutations(store, (event) => emitter.emit(event));
  const missingEntity: MissingEntitySwitch = { status: options.missingEntityStatus ?? 404 };
  let baseUrl = '';

  const addLocation = (location: GhlSimulatorLocation): void => {
    store.addLocation(location.id);
    tokens.add(location.token, location.id, location.scopes);
  };
  for (const location of options.locations ?? [DEFAULT_SIMULATOR_LOCATION]) addLocation(location);
  const oauth = simulatorOAuth(options, tokens, store);

  const user = createUserActions(store, mutations);

  const app = buildSimulatorApp({
    logger: options.logger ?? false,
    store,
    mutations,
    pipeline: { tokens, limiter, faults, calls, undocumented, validator: sharedGhlRequestValidator(), shutdown: shutdown.signal },
    control: {
      store,
      calls,
      undocumented,
      deliveries: emitter.deliveries,
      faults,
      setWebhookUrl: (url) => emitter.setUrl(url),
      missingEntity,
      ...user,
    },
    oauth,
    missingEntity,
    baseUrl: () => baseUrl,
  });

  baseUrl = await listenOnLoopback(app, options.host, options.port);

  return {
    url: baseUrl,
    publicKeys: signer.publicKeys,
    calls,
    undocumented,
    deliveries: emitter.deliveries,
    store,
    ...faultControls(faults),
    setMissingEntityStatus(status) {
      missingEntity.status = status;
    },
    setWebhookUrl: (url) => emitter.setUrl(url),
    ...user,
    addLocation,
    revokeToken: (token) => tokens.revoke(token),
    issueAuthorizationCode: (grant) => oauth.issueAuthorizationCode(grant),
    setInstaller: (grant) => oauth.setInstaller(grant),
    revokeRefreshToken: (refreshToken) => oauth.revokeRefreshToken(refreshToken),
    revokeLocationRefreshTokens: (locationId) => oauth.revokeLocationRefreshTokens(locationId),
    oauthCalls: oauth.counts,
    maxCallsInAnyWindow: (locationId) => limiter.maxCallsInAnyWindow(locationId),
    idle: () => emitter.idle(),
    close: closeOnce(shutdown, app, emitter),
  };
}
