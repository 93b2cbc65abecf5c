/**
 * A Trustpilot API simulator on loopback: OAuth business-user tokens (password, client credentials,
 * rotating refresh), the public API-key endpoints (find a business unit, business unit, review,
 * consumer), the private reviews of our business unit with referenceId/referralEmail filters and
 * paging, the per-key rate limit, injected faults, and unsigned review-event webhooks.
 * Besides the default account (the top-level options), `accounts` adds other applications, each
 * with its own key and secret, business users, business unit, rate-limit window and webhook URL.
 * Built from Trustpilot's public documents, not from the bridge's client.
 */
import { createFaultRegistry, faultControls } from '../shared/faults.js';
import { closeOnce, listenOnLoopback } from '../shared/serve.js';
import type { SimulatorBase } from '../shared/simulator.js';
import { createAccounts, type TrustpilotAccountOptions } from './accounts.js';
import { buildTrustpilotApp } from './app.js';
import { newTrustpilotId } from './ids.js';
import type { ReviewInput } from './inputs.js';
import { createMutations, type Mutations } from './mutations.js';
import { createPresenters, type BusinessUnit, type PrivateReview } from './presenters.js';
import { createRateLimiter } from './rate-limit.js';
import type { RecordedCall } from './request-pipeline.js';
import { createTrustpilotStore } from './store.js';
import { createTokenRegistry } from './tokens.js';
import type { WebhookDelivery } from './webhook-emitter.js';

export type { Fault, FaultRule } from '../shared/faults.js';
export type { TrustpilotAccountOptions } from './accounts.js';
export type { BusinessUnit, ConsumerProfile, PrivateReview, PublicReview } from './presenters.js';
export type { CallAuth, RecordedCall } from './request-pipeline.js';
export type { ReviewEventName, WebhookDelivery } from './webhook-emitter.js';
export type { TokenResponse } from './tokens.js';

export interface TrustpilotSimulatorOptions {
  host?: string;
  port?: number;
  apiKey?: string;
  apiSecret?: string;
  /** Business users for the password grant. */
  users?: { username: string; password: string }[];
  /** "Our" business unit: the one the business users may read privately. */
  businessUnitId?: string;
  /** Per API key; every call counts, token calls included. */
  rateLimit?: { max: number; windowMs: number };
  accessTokenTtlSeconds?: number;
  /** Where review-event notifications are POSTed (unsigned; the caller puts its token in the URL). */
  webhookUrl?: string;
  webhookRetry?: { attempts: number; baseDelayMs: number };
  /** Fastify's logger; off unless asked for. */
  logger?: boolean;
  /** Other accounts beside the default one. Review events of units no account owns go to `webhookUrl`. */
  accounts?: TrustpilotAccountOptions[];
}

/** What a consumer may change in a review; stars are checked at run time (1–5). */
export type ReviewEdit = Partial<{ stars: number; title: string; text: string }>;

export interface BusinessUnitSeed {
  id?: string;
  domain: string;
  displayName?: string;
  trustScore: number;
  stars: number;
  totalReviews: number;
  country?: string;
}

export interface TrustpilotSimulator extends SimulatorBase<RecordedCall, WebhookDelivery> {
  /** Data seeding (no events emitted). Re-seeding an id replaces that unit. */
  addBusinessUnit(input: BusinessUnitSeed): BusinessUnit;
  /** A consumer writes a review (of our unit unless `businessUnitId`); emits service-review-created. */
  addReview(input: ReviewInput): PrivateReview;
  /** The consumer edits the review; updatedAt moves; emits service-review-updated. */
  updateReview(reviewId: string, patch: ReviewEdit): PrivateReview;
  /** The company replies (or edits its reply); emits service-review-updated. updatedAt does not move. */
  replyToReview(reviewId: string, text: string): PrivateReview;
  /** Emits service-review-deleted `{ id }`; the review then answers 404. */
  deleteReview(reviewId: string): void;
  /** Every access token issued so far answers 401; refresh tokens still work. */
  expireAccessTokens(): void;
  /** Most calls (admitted or refused) any rate-limit window saw for the API key (default: the default account's): ≤ max means the client behaved. */
  maxCallsInAnyWindow(apiKey?: string): number;
  /** Where review events of the account with this API key go from now on (undefined sends none). */
  setAccountWebhookUrl(apiKey: string, url: string | undefined): void;
  /** Every webhook delivery made for the account with this API key (the default account's are `deliveries`). */
  accountDeliveries(apiKey: string): WebhookDelivery[];
}

export const TRUSTPILOT_SANDBOX_DEFAULTS = {
  apiKey: 'tp-sandbox-key',
  apiSecret: 'tp-sandbox-secret',
  username: 'owner@sandbox.test',
  password: 'sandbox-password',
  businessUnitId: 'bu_sandbox_own',
  ownDomain: 'ghl-bridge-sandbox.test',
} as const;

/** The default account's unit and each other account's, so their business users have something to read. */
function seedOwnUnits(mutations: Mutations, ownBusinessUnitId: string, accounts: readonly TrustpilotAccountOptions[]): void {
  mutations.addBusinessUnit({
    id: ownBusinessUnitId,
    domain: TRUSTPILOT_SANDBOX_DEFAULTS.ownDomain,
    displayName: 'GHL Bridge Sandbox',
    trustScore: 4.5,
    stars: 4.5,
    totalReviews: 0,
  });
  for (const account of accounts) {
    mutations.addBusinessUnit({ id: account.businessUnitId, domain: account.domain, displayName: account.displayName ?? account.domain, trustScore: 4, stars: 4, totalReviews: 0 });
  }
}

export async function startTrustpilotSimulator(options: TrustpilotSimulatorOptions = {}): Promise<TrustpilotSimulator> {
  const defaults = TRUSTPILOT_SANDBOX_DEFAULTS;
  const apiKey = options.apiKey ?? defaults.apiKey;
  const ownBusinessUnitId = options.businessUnitId ?? defaults.businessUnitId;
  const rateLimit = options.rateLimit ?? { max: 833, windowMs: 300_000 };
  const store = createTrustpilotStore();
  const tokens = createTokenRegistry(options.accessTokenTtlSeconds ?? 359_999);
  const limiter = createRateLimiter(rateLimit);
  const faults = createFaultRegistry(['status', 'latency', 'timeout', 'rate-limit', 'token-expired']);
  const calls: RecordedCall[] = [];
  const shutdown = new AbortController();
  const retry = options.webhookRetry ?? { attempts: 3, baseDelayMs: 200 };
  const accounts = createAccounts(
    { apiKey, apiSecret: options.apiSecret ?? defaults.apiSecret, users: options.users ?? [{ username: defaults.username, password: defaults.password }], businessUnitId: ownBusinessUnitId, webhookUrl: options.webhookUrl },
    options.accounts ?? [],
    retry,
  );
  const emitter = accounts.defaultEmitter;
  let baseUrl = '';
  const presenters = createPresenters(store, () => baseUrl);
  const mutations = createMutations({
    store,
    presenters,
    emit: (event) => accounts.emitterOfUnit(event.businessUnitId).emit(event),
    ownBusinessUnitId,
    businessUserId: newTrustpilotId(),
  });
  seedOwnUnits(mutations, ownBusinessUnitId, options.accounts ?? []);

  const seeding = {
    addBusinessUnit: (input: BusinessUnitSeed) => presenters.businessUnit(mutations.addBusinessUnit(input)),
    addReview: (input: ReviewInput) => presenters.privateReview(mutations.addReview(input)),
    updateReview: (reviewId: string, patch: ReviewEdit) => presenters.privateReview(mutations.updateReview(reviewId, patch)),
    replyToReview: (reviewId: string, text: string) => presenters.privateReview(mutations.replyToReview(reviewId, text)),
    deleteReview: (reviewId: string) => mutations.deleteReview(reviewId),
    expireAccessTokens: () => tokens.expireAll(),
  };
  const setAccountWebhookUrl = (key: string, url: string | undefined) => accounts.of(key).emitter.setUrl(url);

  const app = buildTrustpilotApp({
    logger: options.logger ?? false,
    store,
    presenters,
    unitOf: (key) => accounts.get(key)?.businessUnitId,
    pipeline: { secrets: accounts.secrets(), tokens, limiter, faults, calls, shutdown: shutdown.signal },
    oauth: { usersOf: (key) => accounts.get(key)?.users ?? [], tokens },
    control: {
      calls,
      deliveries: emitter.deliveries,
      faults,
      setWebhookUrl: (url, key) => (key === undefined ? emitter.setUrl(url) : setAccountWebhookUrl(key, url)),
      ...seeding,
    },
    baseUrl: () => baseUrl,
  });

  baseUrl = await listenOnLoopback(app, options.host, options.port);

  return {
    url: baseUrl,
    calls,
    deliveries: emitter.deliveries,
    ...faultControls(faults),
    setWebhookUrl: (url) => emitter.setUrl(url),
    setAccountWebhookUrl,
    accountDeliveries: (key) => accounts.of(key).emitter.deliveries,
    ...seeding,
    maxCallsInAnyWindow: (key = apiKey) => limiter.maxCallsInAnyWindow(key),
    idle: () => accounts.idle(),
    close: closeOnce(shutdown, app, accounts),
  };
}
