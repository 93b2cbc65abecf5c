/**
 * One GHL call, as every endpoint group of the GHL client makes it: the location's token, its share of
 * the call budget, the exchange, one refresh-and-retry on 401, then the status and schema checks.
 * Every call names its location: that picks the token and the rate budget. Every other retry is BullMQ's.
 */
import type { Dispatcher } from 'undici';
import type { z } from 'zod';
import { createHttpTransport, retryAfterMs, type HttpRequest, type HttpResponse, type ResponseObserver } from '../http/transport.js';
import { createRequestGuards } from '../http/request-guards.js';
import { UpstreamError } from '../http/upstream-error.js';
import { GhlApiError, saysNotFound } from './ghl-api-error.js';
import { GhlClientError } from './ghl-client-error.js';
import { readRateLimitHeaders, type GhlRateLimitHeaders } from './rate-limit-headers.js';
import { DeleteResponseSchema } from './schemas.js';
import type { GhlTokenProvider } from './token-provider.js';

export interface GhlClientOptions {
  /** e.g. https://services.leadconnectorhq.com */
  baseUrl: string;
  /** `Version` header, e.g. 2021-07-28. */
  version: string;
  timeoutMs: number;
  tokens: GhlTokenProvider;
  dispatcher?: Dispatcher;
  observe?: ResponseObserver;
  /** Called after each response that carries X-RateLimit-* headers (errors included). Must not throw. */
  onRateLimitHeaders?: (locationId: string, info: GhlRateLimitHeaders) => void;
  /** The per-location call budget shared by every worker (ghl-budget.ts); none: calls are not limited here. */
  budget?: GhlCallBudget;
}

/** What the client asks of a call budget; ghl-budget.ts builds the shared Redis one. */
export interface GhlCallBudget {
  /**
   * Before every request, the retry after a token refresh included: resolves when a call is granted,
   * possibly with a function to call once the answer is in (`answered` true) or the call failed
   * without one; throws RateBudgetExceededError when the location's budget is spent (passed on unchanged).
   */
  take(locationId: string): Promise<((answered: boolean) => Promise<void>) | void>;
  /** After every other response that carries X-RateLimit-* headers. Must not reject. */
  onHeaders(locationId: string, info: GhlRateLimitHeaders): Promise<void>;
  /**
   * After a 429, with or without headers (GHL does not document them): no call for the location for
   * `waitMs` (Retry-After, else GHL's interval header; undefined when GHL sent neither). Must not reject.
   */
  onRateLimited(locationId: string, waitMs: number | undefined, info: GhlRateLimitHeaders | undefined): Promise<void>;
}

/** What the endpoint groups (ghl-contacts.ts, ghl-tasks.ts…) build their methods on. */
export interface GhlCaller {
  /** One call: token, exchange, one refresh-and-retry on 401, status check, schema check. */
  call<T>(locationId: string, req: HttpRequest, schema: z.ZodType<T>): Promise<T>;
  /** A DELETE; resolves to GHL's `succeded` (true when GHL leaves it out). */
  deleted(locationId: string, path: string): Promise<boolean>;
  close(): Promise<void>;
}

/** Checks of what the GHL client sends: bodies and queries against the documented shapes, ids in paths. */
export const { checked, segment } = createRequestGuards('GHL', GhlClientError, { invalidRequest: 'GHL_INVALID_REQUEST', invalidId: 'GHL_INVALID_ID' });

export function createGhlCaller(options: GhlClientOptions): GhlCaller {
  const transport = createHttpTransport({
    system: 'ghl',
    baseUrl: options.baseUrl,
    timeoutMs: options.timeoutMs,
    requestIdOf: traceIdOf,
    observe: options.observe,
    dispatcher: options.dispatcher,
  });
  const budget = options.budget;

  async function exchange(locationId: string, req: HttpRequest, token: string): Promise<HttpResponse> {
    // A refusal throws before anything is sent; the job waits for the budget, no attempt burnt.
    const settle = await budget?.take(locationId);
    let response: HttpResponse;
    try {
      response = await transport.send({
        ...req,
        headers: { authorization: `Bearer ${token}`, version: options.version },
      });
    } catch (error) {
      await settle?.(false);
      throw error;
    }
    await settle?.(true);
    const rateLimit = readRateLimitHeaders(response.headers);
    if (rateLimit !== undefined) options.onRateLimitHeaders?.(locationId, rateLimit);
    // Awaited, so a block is in Redis before this job's own wait starts; advisory, so a failure here
    // never turns a done write into a retried one.
    if (response.status === 429) await budget?.onRateLimited(locationId, waitAfter429(response.headers), rateLimit).catch(() => undefined);
    else if (rateLimit !== undefined) await budget?.onHeaders(locationId, rateLimit).catch(() => undefined);
    return response;
  }

  async function call<T>(locationId: string, req: HttpRequest, schema: z.ZodType<T>): Promise<T> {
    const token = await options.tokens.tokenFor(locationId);
    const tokens = [token];
    let response = await exchange(locationId, req, token);
    if (response.status === 401) {
      const fresh = await options.tokens.refresh(locationId, token);
      if (fresh !== undefined) {
        tokens.push(fresh);
        response = await exchange(locationId, req, fresh);
      }
    }
    try {
      return transport.readJson(req, response, schema, { retryAfterMs: response.status === 429 ? waitAfter429 : retryAfterMs, secrets: tokens });
    } catch (error) {
      if (!(error instanceof UpstreamError) || error.code !== 'UPSTREAM_HTTP') throw error;
      throw new GhlApiError(error, saysNotFound(response.status, response.body));
    }
  }

  return {
    call,
    async deleted(locationId, path) {
      const { succeded } = await call(locationId, { method: 'DELETE', path }, DeleteResponseSchema);
      return succeded ?? true;
    },
    close: () => transport.close(),
  };
}

/** GHL puts a `traceId` in every JSON body; it is what their support asks for. */
function traceIdOf(_headers: Record<string, string>, body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null || !('traceId' in body)) return undefined;
  return typeof body.traceId === 'string' ? body.traceId : undefined;
}

/** Retry-After when GHL sends one, else a whole burst window (the headers give no reset time). */
function waitAfter429(headers: Record<string, string>): number | undefined {
  return retryAfterMs(headers) ?? readRateLimitHeaders(headers)?.intervalMs;
}

/** A plain list answer (tasks, notes, appointments, custom fields): GHL does not page these. */
export interface ItemList<T> {
  items: T[];
}

/** `/contacts/{contactId}/{kind}`, or `/contacts/{contactId}/{kind}/{id}` for one of them. */
export function contactChildPath(contactId: string, kind: 'tasks' | 'notes', id?: string): string {
  return `/contacts/${segment(contactId)}/${kind}${id === undefined ? '' : `/${segment(id)}`}`;
}
