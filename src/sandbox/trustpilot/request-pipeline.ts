/**
 * What every API call goes through before its handler: call log → credentials of the path's kind
 * (Basic for /v1/oauth, Bearer for /v1/private, `apikey` header or query for the rest of /v1) →
 * rate limit per API key (every call of a known key counts, token calls included, even those the
 * auth step then refuses) → auth refusal → injected faults. Control routes under /__sandbox skip it.
 * Several applications (accounts) may be known, each its own key and secret; a token stays bound
 * to the key that obtained it, and the handlers learn that key from `clientKeyOf`.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Fault, FaultRegistry } from '../shared/faults.js';
import { holdRequest } from '../shared/hold-request.js';
import { tpErrors, TrustpilotHttpError } from './errors.js';
import type { RateLimiter } from './rate-limit.js';
import type { TokenRegistry } from './tokens.js';

export type CallAuth = 'apikey' | 'bearer' | 'basic' | 'none';

export interface RecordedCall {
  at: number;
  method: string;
  path: string;
  query: Record<string, string>;
  /** The status answered; 0 when the call was never answered (a `timeout` fault). */
  status: number;
  auth: CallAuth;
}

export interface PipelineDeps {
  /** Every known application: API key → API secret. */
  secrets: ReadonlyMap<string, string>;
  tokens: TokenRegistry;
  limiter: RateLimiter;
  faults: FaultRegistry;
  calls: RecordedCall[];
  /** Aborted on close: ends latency waits and held (timed-out) requests. */
  shutdown: AbortSignal;
}

export const CONTROL_PREFIX = '/__sandbox';
export const TOKEN_PREFIX = '/v1/oauth/';
export const PRIVATE_PREFIX = '/v1/private/';

const callOf = new WeakMap<FastifyRequest, RecordedCall>();
const clientKeys = new WeakMap<FastifyRequest, string>();

/** The API key an admitted call is billed to: its Basic client, its token's client or its `apikey`. */
export function clientKeyOf(request: FastifyRequest): string | undefined {
  return clientKeys.get(request);
}

export function isControlPath(path: string): boolean {
  return path === CONTROL_PREFIX || path.startsWith(`${CONTROL_PREFIX}/`);
}

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

export function parseBasic(authorization: string | undefined): { username: string; password: string } | undefined {
  const match = /^Basic\s+(\S+)\s*$/i.exec(authorization ?? '');
  if (match?.[1] === undefined) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

function parseBearer(authorization: string | undefined): string | undefined {
  return /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '')?.[1];
}

function authKind(authorization: string | undefined, apiKey: string | undefined): CallAuth {
  if (/^Bearer\s/i.test(authorization ?? '')) return 'bearer';
  if (/^Basic\s/i.test(authorization ?? '')) return 'basic';
  return apiKey === undefined ? 'none' : 'apikey';
}

/** The API key the call is billed to (if it names ours) and the refusal its credentials earn, if any. */
function identify(
  path: string,
  authorization: string | undefined,
  apiKey: string | undefined,
  deps: PipelineDeps,
): { key: string | undefined; refusal: TrustpilotHttpError | undefined } {
  if (path.startsWith(TOKEN_PREFIX)) {
    const basic = parseBasic(authorization);
    const secret = basic === undefined ? undefined : deps.secrets.get(basic.username);
    if (basic === undefined || secret === undefined) return { key: undefined, refusal: tpErrors.invalidClient() };
    return { key: basic.username, refusal: basic.password === secret ? undefined : tpErrors.invalidClient() };
  }
  if (path.startsWith(PRIVATE_PREFIX)) {
    const bearer = parseBearer(authorization);
    const access = bearer === undefined ? undefined : deps.tokens.checkAccess(bearer);
    if (!access) return { key: undefined, refusal: tpErrors.invalidAccessToken() };
    // The apikey header is optional next to the token, but a wrong one is refused.
    if (apiKey !== undefined && apiKey !== access.clientKey) return { key: access.clientKey, refusal: tpErrors.invalidApiKey() };
    return { key: access.clientKey, refusal: access.expired ? tpErrors.expiredAccessToken() : undefined };
  }
  if (apiKey !== undefined && deps.secrets.has(apiKey)) return { key: apiKey, refusal: undefined };
  return { key: undefined, refusal: tpErrors.invalidApiKey() };
}

async function applyFault(fault: Fault, reply: FastifyReply, shutdown: AbortSignal): Promise<void> {
  switch (fault.kind) {
    case 'status': {
      const body =
        fault.body !== null && typeof fault.body === 'object' && !Array.isArray(fault.body)
          ? { ...fault.body }
          : { message: fault.body === undefined ? 'Injected fault' : fault.body };
      throw new TrustpilotHttpError(fault.status, body);
    }
    case 'latency':
      await sleep(fault.ms, undefined, { signal: shutdown });
      return;
    case 'timeout':
      holdRequest(reply, shutdown);
      return;
    case 'rate-limit':
      throw tpErrors.tooManyRequests(fault.retryAfterSeconds ?? 1);
    case 'token-expired':
      throw tpErrors.expiredAccessToken();
  }
}

export function registerRequestPipeline(app: FastifyInstance, deps: PipelineDeps): void {
  app.addHook('onRequest', async (request, reply) => {
    const url = new URL(request.url, 'http://sandbox.invalid');
    const path = url.pathname;
    if (isControlPath(path)) return;
    const query: Record<string, string> = {};
    for (const [key, value] of url.searchParams) query[key] = value;
    const authorization = header(request.headers.authorization);
    const apiKey = header(request.headers.apikey) ?? url.searchParams.get('apikey') ?? undefined;
    const call: RecordedCall = { at: Date.now(), method: request.method, path, query, status: 0, auth: authKind(authorization, apiKey) };
    deps.calls.push(call);
    callOf.set(request, call);

    // Only /v1 is the API; anything else is a plain 404 from the not-found handler.
    if (!path.startsWith('/v1/')) return;
    const { key, refusal } = identify(path, authorization, apiKey, deps);
    if (key !== undefined) {
      const decision = deps.limiter.consume(key);
      if (!decision.allowed) throw tpErrors.tooManyRequests(decision.retryAfterSeconds);
    }
    if (refusal) throw refusal;
    if (key !== undefined) clientKeys.set(request, key);

    const fault = deps.faults.take(request.method, path);
    if (fault) await applyFault(fault, reply, deps.shutdown);
  });

  app.addHook('onSend', async (request, reply, payload) => {
    const call = callOf.get(request);
    if (call) call.status = reply.statusCode;
    return payload;
  });
}
