/**
 * Typed client for the Trustpilot API (api.trustpilot.com/v1), built on the shared transport.
 * Public calls carry the `apikey` header; private calls carry a business-user Bearer token (password
 * grant) plus `apikey`. Every HTTP call, token calls included, first takes one unit of the shared
 * call budget. One token renewal-and-retry on 401 lives here; every other retry is BullMQ's.
 */
import type { Dispatcher } from 'undici';
import type { z } from 'zod';
import { createHttpTransport, retryAfterMs, type HttpRequest, type HttpResponse, type ResponseObserver } from '../http/transport.js';
import { UpstreamError } from '../http/upstream-error.js';
import { formatTrustpilotQueryDate, trustpilotDateMs } from './dates.js';
import {
  BusinessUnitSchema,
  ConsumerProfileSchema,
  PrivateReviewFilterSchema,
  PrivateReviewListResponseSchema,
  PrivateReviewSchema,
  PublicReviewSchema,
  TokenResponseSchema,
  type BusinessUnit,
  type ConsumerProfile,
  type Link,
  type PrivateReview,
  type PrivateReviewFilter,
  type PublicReview,
} from './schemas.js';
import type { StoredTrustpilotToken, TrustpilotTokenStore } from './token-store.js';
import { TrustpilotClientError } from './trustpilot-client-error.js';

export interface TrustpilotClientOptions {
  /** TRUSTPILOT_API_BASE_URL, e.g. https://api.trustpilot.com (a trailing `/v1` is tolerated). */
  baseUrl: string;
  /** The application's API key (= OAuth client id). */
  apiKey: string;
  apiSecret?: string;
  /** Business-user login for the password grant (2FA must be off for that user). */
  username?: string;
  password?: string;
  timeoutMs: number;
  /** Taken before every call, token calls included; throws when the budget is spent (not caught here). */
  budget: { take(): Promise<void> };
  /** The access/refresh token shared by every worker. */
  tokenStore: TrustpilotTokenStore;
  dispatcher?: Dispatcher;
  observe?: ResponseObserver;
}

export interface PrivateReviewPage {
  reviews: PrivateReview[];
  /** The page to ask for next; absent on the last page. */
  nextPage?: number;
}

export interface TrustpilotClient {
  /** GET /v1/business-units/find?name={domain} (Business Units API (public)); 404 → undefined. */
  findBusinessUnit(domain: string): Promise<BusinessUnit | undefined>;
  /** GET /v1/business-units/{businessUnitId} (Business Units API (public)). */
  getBusinessUnit(id: string): Promise<BusinessUnit>;
  /** GET /v1/private/business-units/{businessUnitId}/reviews (Business Units API, Bearer). */
  listPrivateReviews(businessUnitId: string, filter: PrivateReviewFilter): Promise<PrivateReviewPage>;
  /** GET /v1/private/reviews/{reviewId} (Service Reviews API, Bearer); 404 → undefined. */
  getPrivateReview(reviewId: string): Promise<PrivateReview | undefined>;
  /** GET /v1/reviews/{reviewId} (Service Reviews API); 404 → undefined. */
  getReview(reviewId: string): Promise<PublicReview | undefined>;
  /** GET /v1/consumers/{consumerId}/profile (Consumer Profile API); 404 → undefined. */
  getConsumerProfile(consumerId: string): Promise<ConsumerProfile | undefined>;
  /** True when private calls are possible (username+password+secret configured). */
  readonly canReadPrivateReviews: boolean;
  close(): Promise<void>;
}

const TOKEN_PATH = '/v1/oauth/oauth-business-users-for-applications/accesstoken';
const REFRESH_PATH = '/v1/oauth/oauth-business-users-for-applications/refresh';
/** Renew this long before expiry, as Trustpilot's own Bruno collection does. */
const REFRESH_MARGIN_MS = 60_000;
/** Trustpilot documents no Retry-After; a 429 without one waits a minute. */
const DEFAULT_RETRY_AFTER_MS = 60_000;
const DEFAULT_PER_PAGE = 20;
const NEXT_PAGE_RELS = new Set(['next-page', 'next']);

type Auth = 'public' | 'private';

export function createTrustpilotClient(options: TrustpilotClientOptions): TrustpilotClient {
  const transport = createHttpTransport({
    system: 'trustpilot',
    baseUrl: options.baseUrl.replace(/\/v1\/*$/, ''),
    timeoutMs: options.timeoutMs,
    observe: options.observe,
    dispatcher: options.dispatcher,
  });
  const { apiKey, apiSecret, username, password, tokenStore } = options;
  const login = present(apiSecret) && present(username) && present(password) ? { apiSecret, username, password } : undefined;
  const basic = login === undefined ? undefined : Buffer.from(`${apiKey}:${login.apiSecret}`).toString('base64');
  // Blanked out of every error excerpt, in case Trustpilot echoes what we sent.
  const fixedSecrets = [apiKey, apiSecret, username, password, basic].filter(present);
  let renewal: Promise<string> | undefined;

  async function exchange(req: HttpRequest): Promise<HttpResponse> {
    await options.budget.take();
    return transport.send(req);
  }

  function read<T>(req: HttpRequest, response: HttpResponse, schema: z.ZodType<T>, tokens: string[]): T {
    return transport.readJson(req, response, schema, {
      retryAfterMs: response.status === 429 ? waitAfter429 : retryAfterMs,
      secrets: [...fixedSecrets, ...tokens],
    });
  }

  // --- tokens -------------------------------------------------------------------------------

  /** One token call (password or refresh grant) with Basic base64(key:secret) and a form body. */
  async function tokenCall(path: string, form: Record<string, string>, sentSecrets: string[]): Promise<StoredTrustpilotToken> {
    const req: HttpRequest = { method: 'POST', path, form, headers: { authorization: `Basic ${basic ?? ''}` } };
    const answer = read(req, await exchange(req), TokenResponseSchema, sentSecrets);
    return {
      accessToken: answer.access_token,
      ...(answer.refresh_token ? { refreshToken: answer.refresh_token } : {}),
      expiresAt: Date.now() + answer.expires_in * 1000,
    };
  }

  /** Refresh when we hold a refresh token; when Trustpilot rejects it (spent, expired, revoked), grant with the password. */
  async function obtain(current: StoredTrustpilotToken | undefined): Promise<StoredTrustpilotToken> {
    if (login === undefined) throw notConfigured();
    const refreshToken = current?.refreshToken;
    if (refreshToken !== undefined) {
      try {
        const next = await tokenCall(REFRESH_PATH, { grant_type: 'refresh_token', refresh_token: refreshToken }, [refreshToken]);
        // RFC 6749 §6: without a new refresh token in the answer, the old one stays valid.
        return next.refreshToken === undefined ? { ...next, refreshToken } : next;
      } catch (error) {
        if (!(error instanceof UpstreamError && (error.status === 400 || error.status === 401))) throw error;
      }
    }
    return tokenCall(TOKEN_PATH, { grant_type: 'password', username: login.username, password: login.password }, []);
  }

  /**
   * Renews under the store's lock, re-reading the store first: another worker may have renewed
   * while we waited, and a refresh token must never be spent twice. Concurrent callers in this
   * process share one renewal.
   */
  function renew(rejected: string | undefined): Promise<string> {
    renewal ??= tokenStore
      .withLock(async () => {
        const current = await tokenStore.get();
        if (current !== undefined && current.accessToken !== rejected && isFresh(current)) return current.accessToken;
        const next = await obtain(current);
        await tokenStore.set(next);
        return next.accessToken;
      })
      .finally(() => {
        renewal = undefined;
      });
    return renewal;
  }

  async function accessToken(): Promise<string> {
    const current = await tokenStore.get();
    if (current !== undefined && isFresh(current)) return current.accessToken;
    return renew(undefined);
  }

  // --- calls --------------------------------------------------------------------------------

  /** One call: credentials, exchange, and for private calls one renewal-and-retry on 401. */
  async function call(req: HttpRequest, auth: Auth): Promise<{ response: HttpResponse; tokens: string[] }> {
    if (auth === 'public') return { response: await exchange({ ...req, headers: { apikey: apiKey } }), tokens: [] };
    if (login === undefined) throw notConfigured();
    const withBearer = (token: string): HttpRequest => ({ ...req, headers: { authorization: `Bearer ${token}`, apikey: apiKey } });
    const token = await accessToken();
    const tokens = [token];
    let response = await exchange(withBearer(token));
    if (response.status === 401) {
      const fresh = await renew(token);
      tokens.push(fresh);
      response = await exchange(withBearer(fresh));
    }
    return { response, tokens };
  }

  async function get<T>(req: HttpRequest, auth: Auth, schema: z.ZodType<T>): Promise<T> {
    const { response, tokens } = await call(req, auth);
    return read(req, response, schema, tokens);
  }

  /** As `get`, but a 404 (unknown or deleted resource) is an answer, not an error. */
  async function find<T>(req: HttpRequest, auth: Auth, schema: z.ZodType<T>): Promise<T | undefined> {
    const { response, tokens } = await call(req, auth);
    if (response.status === 404) return undefined;
    return read(req, response, schema, tokens);
  }

  return {
    canReadPrivateReviews: login !== undefined,

    async findBusinessUnit(domain) {
      const name = domain.trim();
      if (name === '') throw new TrustpilotClientError('TRUSTPILOT_INVALID_REQUEST', 'findBusinessUnit needs a domain');
      return find({ method: 'GET', path: '/v1/business-units/find', query: { name } }, 'public', BusinessUnitSchema);
    },

    async getBusinessUnit(id) {
      return get({ method: 'GET', path: `/v1/business-units/${segment(id)}` }, 'public', BusinessUnitSchema);
    },

    async listPrivateReviews(businessUnitId, filter) {
      const params = checked(PrivateReviewFilterSchema, filter, 'private review filter');
      const startMs = params.startDateTime === undefined ? undefined : trustpilotDateMs(params.startDateTime);
      const path = `/v1/private/business-units/${segment(businessUnitId)}/reviews`;
      const query = { ...params, startDateTime: startMs === undefined ? undefined : formatTrustpilotQueryDate(startMs) };
      const answer = await get({ method: 'GET', path, query }, 'private', PrivateReviewListResponseSchema);
      const reviews = answer.reviews ?? [];
      const nextPage = nextPageOf(answer.links, reviews.length, params.page ?? 1, params.perPage ?? DEFAULT_PER_PAGE);
      return nextPage === undefined ? { reviews } : { reviews, nextPage };
    },

    async getPrivateReview(reviewId) {
      return find({ method: 'GET', path: `/v1/private/reviews/${segment(reviewId)}` }, 'private', PrivateReviewSchema);
    },

    async getReview(reviewId) {
      return find({ method: 'GET', path: `/v1/reviews/${segment(reviewId)}` }, 'public', PublicReviewSchema);
    },

    async getConsumerProfile(consumerId) {
      return find({ method: 'GET', path: `/v1/consumers/${segment(consumerId)}/profile` }, 'public', ConsumerProfileSchema);
    },

    async close() {
      await transport.close();
    },
  };
}

function isFresh(token: StoredTrustpilotToken): boolean {
  return token.expiresAt - Date.now() > REFRESH_MARGIN_MS;
}

function present(value: string | undefined): value is string {
  return value !== undefined && value !== '';
}

function notConfigured(): TrustpilotClientError {
  return new TrustpilotClientError(
    'TRUSTPILOT_PRIVATE_NOT_CONFIGURED',
    'private Trustpilot calls need TRUSTPILOT_API_SECRET, TRUSTPILOT_USERNAME and TRUSTPILOT_PASSWORD',
  );
}

function waitAfter429(headers: Record<string, string>): number {
  return retryAfterMs(headers) ?? DEFAULT_RETRY_AFTER_MS;
}

/**
 * When the answer carries `links`, a `next-page` link is the word (its `page` parameter, else
 * page + 1). Without links, a full page means there may be more (Trustpilot answers an empty
 * array past the end).
 */
function nextPageOf(links: Link[] | null | undefined, received: number, page: number, perPage: number): number | undefined {
  if (links === null || links === undefined) return received >= perPage ? page + 1 : undefined;
  const next = links.find((link) => link.rel !== null && link.rel !== undefined && NEXT_PAGE_RELS.has(link.rel.toLowerCase()));
  if (next === undefined) return undefined;
  return pageParam(next.href) ?? page + 1;
}

function pageParam(href: string | null | undefined): number | undefined {
  if (href === null || href === undefined) return undefined;
  try {
    const value = new URL(href, 'https://api.trustpilot.com').searchParams.get('page');
    const page = value === null ? NaN : Number(value);
    return Number.isInteger(page) && page >= 1 ? page : undefined;
  } catch {
    return undefined;
  }
}

/** Validates what we send; a mismatch is our bug and must not reach Trustpilot. */
function checked<S extends z.ZodType>(schema: S, value: z.input<S>, what: string): z.output<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues
    .slice(0, 5)
    .map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`)
    .join('; ');
  throw new TrustpilotClientError('TRUSTPILOT_INVALID_REQUEST', `invalid Trustpilot ${what}: ${issues}`);
}

/** Encodes one path segment; '.' and '..' would be resolved away by URL parsing, so they are refused. */
function segment(id: string): string {
  if (id === '' || id === '.' || id === '..') throw new TrustpilotClientError('TRUSTPILOT_INVALID_ID', `invalid Trustpilot id ${JSON.stringify(id)}`);
  return encodeURIComponent(id);
}
