/**
 * What every API call goes through before its handler, in GHL's order as far as it is observable:
 * call log → documented operation (else 404) → Version header → bearer token → rate limit (headers on
 * every answer) → injected faults → query and body against GHL's OpenAPI documents (else 422).
 * The OAuth endpoints get the operation, query and body checks only. Control routes under /__sandbox
 * skip all of it. A request that does not validate is listed in `undocumented`.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { checkVersion, type TokenRegistry } from './auth.js';
import { ghlErrors, GhlHttpError } from './errors.js';
import type { Fault, FaultRegistry } from '../shared/faults.js';
import { holdRequest } from '../shared/hold-request.js';
import type { DocumentedOperation, GhlRequestValidator } from './openapi-validator.js';
import type { RateLimiter } from './rate-limit.js';

export interface RecordedCall {
  at: number;
  method: string;
  path: string;
  query: Record<string, string>;
  body: unknown;
  /** The status answered; 0 when the call was never answered (a `timeout` fault). */
  status: number;
  locationId?: string;
  /** False when the request is not what GHL's OpenAPI documents describe; `problems` says why. */
  validated: boolean;
  problems?: string[];
}

export interface PipelineDeps {
  tokens: TokenRegistry;
  limiter: RateLimiter;
  faults: FaultRegistry;
  calls: RecordedCall[];
  /** Requests (API and OAuth) that failed validation against GHL's OpenAPI documents. */
  undocumented: RecordedCall[];
  validator: GhlRequestValidator;
  /** Aborted on close: ends latency waits and held (timed-out) requests. */
  shutdown: AbortSignal;
}

export const CONTROL_PREFIX = '/__sandbox';

const callOf = new WeakMap<FastifyRequest, RecordedCall>();
const operationOf = new WeakMap<FastifyRequest, DocumentedOperation>();
const locationOfRequest = new WeakMap<FastifyRequest, string>();

/** The OAuth endpoints (oauth.ts) check their own credentials: no API token, no rate limit, no faults. */
export const OAUTH_PREFIX = '/oauth/';
/** The marketplace's install page (GHL serves it from marketplace.gohighlevel.com; one server here). */
export const MARKETPLACE_OAUTH_PREFIX = '/v2/oauth/';

function isOAuthRequest(request: FastifyRequest): boolean {
  return request.url.startsWith(OAUTH_PREFIX);
}

/** The install page is a marketplace web page a browser opens, not an API operation: no document describes it. */
function isMarketplacePage(request: FastifyRequest): boolean {
  return request.url.startsWith(MARKETPLACE_OAUTH_PREFIX);
}

export function isControlRequest(request: FastifyRequest): boolean {
  const path = request.url.split('?')[0] ?? '';
  return path === CONTROL_PREFIX || path.startsWith(`${CONTROL_PREFIX}/`);
}

/** The location of the token that authenticated this call (set by the pipeline). */
export function tokenLocation(request: FastifyRequest): string {
  const locationId = locationOfRequest.get(request);
  if (locationId === undefined) throw ghlErrors.invalidToken();
  return locationId;
}

function flatQuery(url: string): Record<string, string> {
  const query: Record<string, string> = {};
  const search = new URL(url, 'http://sandbox.invalid').searchParams;
  for (const [key, value] of search) query[key] = value;
  return query;
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

async function applyFault(fault: Fault, reply: FastifyReply, deps: PipelineDeps, locationId: string): Promise<void> {
  switch (fault.kind) {
    case 'status': {
      const body =
        fault.body !== null && typeof fault.body === 'object' && !Array.isArray(fault.body)
          ? { ...fault.body }
          : { statusCode: fault.status, message: fault.body === undefined ? 'Injected fault' : fault.body };
      throw new GhlHttpError(fault.status, body);
    }
    case 'latency':
      await sleep(fault.ms, undefined, { signal: deps.shutdown });
      return;
    case 'timeout':
      holdRequest(reply, deps.shutdown);
      return;
    case 'rate-limit':
      reply.headers(deps.limiter.headers(locationId, Date.now(), true));
      throw ghlErrors.tooManyRequests(fault.retryAfterSeconds ?? 1);
    case 'token-expired':
      throw ghlErrors.expiredToken();
    case 'lost-response':
      // Handled in onSend: the route must run first.
      return;
  }
}

/** Requests whose answer is to be dropped after the route ran (`lost-response` fault). */
const lostResponses = new WeakSet<object>();

function reject(call: RecordedCall, problems: string[], deps: PipelineDeps): void {
  if (call.validated) deps.undocumented.push(call);
  call.validated = false;
  call.problems = [...(call.problems ?? []), ...problems];
}

function contentTypeOf(request: FastifyRequest): string | undefined {
  return headerValue(request.headers['content-type'])?.split(';')[0]?.trim().toLowerCase();
}

/** Records the call, and answers 404 as GHL does for a route it does not have. */
function admit(request: FastifyRequest, deps: PipelineDeps, recorded: boolean): { call: RecordedCall; operation: DocumentedOperation } {
  const path = request.url.split('?')[0] ?? request.url;
  const call: RecordedCall = { at: Date.now(), method: request.method, path, query: flatQuery(request.url), body: undefined, status: 0, validated: true };
  if (recorded) deps.calls.push(call);
  callOf.set(request, call);
  const operation = deps.validator.match(request.method, path);
  if (operation === undefined) {
    reject(call, [`${request.method} ${path} is not a documented operation`], deps);
    throw new GhlHttpError(404, { statusCode: 404, message: `Cannot ${request.method} ${path}`, error: 'Not Found' });
  }
  operationOf.set(request, operation);
  return { call, operation };
}

export function registerRequestPipeline(app: FastifyInstance, deps: PipelineDeps): void {
  app.addHook('onRequest', async (request, reply) => {
    if (isControlRequest(request) || isMarketplacePage(request)) return;
    // OAuth calls are counted by oauth.ts, not in the API call log; they are validated all the same.
    if (isOAuthRequest(request)) {
      admit(request, deps, false);
      return;
    }
    const { call, operation } = admit(request, deps, true);
    const path = call.path;
    reply.headers(deps.limiter.headers(undefined));

    const headerProblems = operation.checkHeaders(request.headers);
    if (headerProblems.length > 0) reject(call, headerProblems, deps);
    const versionError = checkVersion(headerValue(request.headers.version));
    if (versionError) throw versionError;

    const auth = deps.tokens.resolve(headerValue(request.headers.authorization));
    if (auth instanceof GhlHttpError) throw auth;
    call.locationId = auth.locationId;
    locationOfRequest.set(request, auth.locationId);

    const decision = deps.limiter.consume(auth.locationId);
    reply.headers(decision.headers);
    if (!decision.allowed) throw ghlErrors.tooManyRequests(decision.retryAfterSeconds);

    const fault = deps.faults.take(request.method, path);
    if (fault?.kind === 'lost-response') lostResponses.add(request);
    else if (fault) await applyFault(fault, reply, deps, auth.locationId);
  });

  app.addHook('onSend', async (request, reply, payload) => {
    if (!lostResponses.has(request)) return payload;
    const call = callOf.get(request);
    if (call) call.status = 0;
    reply.raw.socket?.destroy();
    return payload;
  });

  // GHL's ValidationPipe runs after its guards: a bad query or body is a 422 once the call is admitted.
  app.addHook('preValidation', async (request) => {
    const call = callOf.get(request);
    const operation = operationOf.get(request);
    if (call === undefined || operation === undefined) return;
    call.body = request.body;
    const problems = operation.checkInput(call.query, contentTypeOf(request), request.body);
    if (problems.length === 0) return;
    reject(call, problems, deps);
    throw ghlErrors.unprocessable(problems);
  });

  // GHL returns a traceId with every response (its OAuth overview documents it).
  app.addHook('preSerialization', async (request, _reply, payload: unknown) => {
    if (isControlRequest(request) || payload === null || typeof payload !== 'object' || Array.isArray(payload)) {
      return payload;
    }
    return 'traceId' in payload ? payload : { ...payload, traceId: randomUUID() };
  });

  app.addHook('onSend', async (request, reply, payload) => {
    const call = callOf.get(request);
    if (call) call.status = reply.statusCode;
    // A body no parser here reads (415) never reaches the document check: it is undocumented all the same.
    if (call && reply.statusCode === 415) reject(call, [`content type ${contentTypeOf(request) ?? '(none)'} is not documented`], deps);
    return payload;
  });
}
