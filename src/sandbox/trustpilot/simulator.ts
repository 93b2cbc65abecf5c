/**
 * A Trustpilot API simulator on loopback: OAuth business-user tokens (password, client credentials,
 * rotating refresh), the public API-key endpoints (find a business unit, business unit, review,
 * consumer), the private reviews of our business unit with referenceId/referralEmail filters and
 * paging, the per-key rate limit, injected faults, and unsigned review-event webhooks.
 * Built from Trustpilot's public documents, not from the bridge's client.
 */
import { createFaultRegistry, faultControls } from '../shared/faults.js';
import { closeOnce, listenOnLoopback } from '../shared/serve.js';
import type { SimulatorBase } from '../shared/simulator.js';
import { buildTrustpilotApp } from './app.js';
import { newTrustpilotId } from './ids.js';
import type { ReviewInput } from './inputs.js';
import { createMutations } from './mutations.js';
import { createPresenters, type BusinessUnit, type PrivateReview } from './presenters.js';
import { createRateLimiter } from './rate-limit.js';
import type { RecordedCall } from './request-pipeline.js';
import { createTrustpilotStore } from './store.js';
import { createTokenRegistry } from './tokens.js';
import { createWebhookEmitter, type WebhookDelivery } from './webhook-emitter.js';

export type { Fault, FaultRule } from '../shared/faults.js';
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
  /** Most calls (admitted or refused) any rate-limit window saw for the API key: ≤ max means the client behaved. */
  maxCallsInAnyWindow(): number;
}

export const TRUSTPILOT_SANDBOX_DEFAULTS = {
  apiKey: 'tp-sandbox-key',
  apiSecret: 'tp-sandbox-secret',
  username: 'owner@sandbox.test',
  password: 'sandbox-password',
  businessUnitId: 'bu_sandbox_own',
  ownDomain: 'ghl-bridge-sandbox.test',
} as const;

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
  const emitter = createWebhookEmitter({
    url: options.webhookUrl,
    retry: options.webhookRetry ?? { attempts: 3, baseDelayMs: 200 },
  });
  let baseUrl = '';
  const presenters = createPresenters(store, () => baseUrl);
  const mutations = createMutations({
    store,
    presenters,
    emit: (event) => emitter.emit(event),
    ownBusinessUnitId,
    businessUserId: newTrustpilotId(),
  });
  mutations.addBusinessUnit({
    id: ownBusinessUnitId,
    domain: defaults.ownDomain,
    displayName: 'GHL Bridge Sandbox',
    trustScore: 4.5,
    stars: 4.5,
    totalReviews: 0,
  });

  const seeding = {
    addBusinessUnit: (input: BusinessUnitSeed) => presenters.businessUnit(mutations.addBusinessUnit(input)),
    addReview: (input: ReviewInput) => presenters.privateReview(mutations.addReview(input)),
    updateReview: (reviewId: string, patch: ReviewEdit) => presenters.privateReview(mutations.updateReview(reviewId, patch)),
    replyToReview: (reviewId: string, text: string) => presenters.privateReview(mutations.replyToReview(reviewId, text)),
    deleteReview: (reviewId: string) => mutations.deleteReview(reviewId),
    expireAccessTokens: () => tokens.expireAll(),
  };

  const app = buildTrustpilotApp({
    logger: options.logger ?? false,
    store,
    presenters,
    ownBusinessUnitId,
    pipeline: { apiKey, apiSecret: options.apiSecret ?? defaults.apiSecret, tokens, limiter, faults, calls, shutdown: shutdown.signal },
    oauth: {
      apiKey,
      users: options.users ?? [{ username: defaults.username, password: defaults.password }],
      tokens,
    },
    control: {
      calls,
      deliveries: emitter.deliveries,
      faults,
      setWebhookUrl: (url) => emitter.setUrl(url),
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
    ...seeding,
    maxCallsInAnyWindow: () => limiter.maxCallsInAnyWindow(apiKey),
    idle: () => emitter.idle(),
    close: closeOnce(shutdown, app, emitter),
  };
}
