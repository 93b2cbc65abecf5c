/**
 * How the Trustpilot client calls: public calls carry the `apikey` header; private calls carry a
 * business-user Bearer token (password grant) plus `apikey`. Every HTTP call, token calls included,
 * first takes one unit of the shared call budget. One token renewal-and-retry on 401 lives here.
 */
import type { Dispatcher } from 'undici';
import type { z } from 'zod';
import { createHttpTransport, retryAfterMs, type HttpRequest, type HttpResponse, type ResponseObserver } from '../http/transport.js';
import type { TrustpilotTokenStore } from './token-store.js';
import { createTrustpilotTokens, notConfigured } from './trustpilot-tokens.js';

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

/** Public calls need the API key only; private calls need the business-user token too. */
export type TrustpilotAuth = 'public' | 'private';

export interface TrustpilotCaller {
  /** One call, its answer checked by `schema`; any non-2xx is an UpstreamError. */
  get<T>(req: HttpRequest, auth: TrustpilotAuth, schema: z.ZodType<T>): Promise<T>;
  /** As `get`, but a 404 (unknown or deleted resource) is an answer, not an error. */
  find<T>(req: HttpRequest, auth: TrustpilotAuth, schema: z.ZodType<T>): Promise<T | undefined>;
  /** True when private calls are possible (username+password+secret configured). */
  readonly canReadPrivate: boolean;
  close(): Promise<void>;
}

/** Trustpilot documents no Retry-After; a 429 without one waits a minute. */
const DEFAULT_RETRY_AFTER_MS = 60_000;

export function createTrustpilotCaller(options: TrustpilotClientOptions): TrustpilotCaller {
  const transport = createHttpTransport({
    system: 'trustpilot',
    baseUrl: options.baseUrl.replace(/\/v1\/*$/, ''),
    timeoutMs: options.timeoutMs,
    observe: options.observe,
    dispatcher: options.dispatcher,
  });
  const { apiKey, apiSecret, username, password } = options;
  const login = present(apiSecret) && present(username) && present(password) ? { apiSecret, username, password } : undefined;
  const basic = login === undefined ? undefined : Buffer.from(`${apiKey}:${login.apiSecret}`).toString('base64');
  // Blanked out of every error excerpt, in case Trustpilot echoes what we sent.
  const fixedSecrets = [apiKey, apiSecret, username, password, basic].filter(present);

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

  const tokens = createTrustpilotTokens({
    tokenStore: options.tokenStore,
    login,
    basic,
    send: async (req, schema, sentSecrets) => read(req, await exchange(req), schema, sentSecrets),
  });

  /** One call: credentials, exchange, and for private calls one renewal-and-retry on 401. */
  async function call(req: HttpRequest, auth: TrustpilotAuth): Promise<{ response: HttpResponse; tokens: string[] }> {
    if (auth === 'public') return { response: await exchange({ ...req, headers: { apikey: apiKey } }), tokens: [] };
    if (login === undefined) throw notConfigured();
    const withBearer = (token: string): HttpRequest => ({ ...req, headers: { authorization: `Bearer ${token}`, apikey: apiKey } });
    const token = await tokens.accessToken();
    const sent = [token];
    let response = await exchange(withBearer(token));
    if (response.status === 401) {
      const fresh = await tokens.renew(token);
      sent.push(fresh);
      response = await exchange(withBearer(fresh));
    }
    return { response, tokens: sent };
  }

  async function get<T>(req: HttpRequest, auth: TrustpilotAuth, schema: z.ZodType<T>): Promise<T> {
    const { response, tokens: sent } = await call(req, auth);
    return read(req, response, schema, sent);
  }

  async function find<T>(req: HttpRequest, auth: TrustpilotAuth, schema: z.ZodType<T>): Promise<T | undefined> {
    const { response, tokens: sent } = await call(req, auth);
    if (response.status === 404) return undefined;
    return read(req, response, schema, sent);
  }

  return {
    get,
    find,
    canReadPrivate: login !== undefined,
    close: () => transport.close(),
  };
}

function present(value: string | undefined): value is string {
  return value !== undefined && value !== '';
}

function waitAfter429(headers: Record<string, string>): number {
  return retryAfterMs(headers) ?? DEFAULT_RETRY_AFTER_MS;
}
