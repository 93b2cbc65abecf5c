/**
 * What every API call goes through before its handler: call log → HTTP Basic auth (username = the
 * personal API key, empty password) → injected faults. Control routes under /__sandbox
 * skip all of it. Several accounts may be known, each its own key; the handlers learn the caller's
 * key from `callerKeyOf`.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { JsonApiError, osErrors } from './errors.js';
import type { Fault, FaultRegistry } from '../shared/faults.js';
import { holdRequest } from '../shared/hold-request.js';

export const JSON_API_MEDIA_TYPE = 'application/vnd.api+json';
export const CONTROL_PREFIX = '/__sandbox';

export interface RecordedCall {
  at: number;
  method: string;
  path: string;
  query: Record<string, string>;
  /** The scheme of the Authorization header; `basic` says nothing about whether the key was right. */
  auth: 'basic' | 'bearer' | 'none' | 'other';
  accept: string | undefined;
  /** The status answered; 0 when the call was never answered (a `timeout` fault). */
  status: number;
}

export interface PipelineDeps {
  /** Every account's API key. */
  apiKeys: ReadonlySet<string>;
  faults: FaultRegistry;
  calls: RecordedCall[];
  /** Aborted on close: ends latency waits and held (timed-out) requests. */
  shutdown: AbortSignal;
}

const callOf = new WeakMap<FastifyRequest, RecordedCall>();
const callerKeys = new WeakMap<FastifyRequest, string>();

/** The API key of an authenticated API call. */
export function callerKeyOf(request: FastifyRequest): string | undefined {
  return callerKeys.get(request);
}

export function isControlRequest(request: FastifyRequest): boolean {
  const path = request.url.split('?')[0] ?? '';
  return path === CONTROL_PREFIX || path.startsWith(`${CONTROL_PREFIX}/`);
}

function flatQuery(url: string): Record<string, string> {
  const query: Record<string, string> = {};
  for (const [key, value] of new URL(url, 'http://sandbox.invalid').searchParams) query[key] = value;
  return query;
}

function authScheme(header: string | undefined): RecordedCall['auth'] {
  if (header === undefined || header === '') return 'none';
  const scheme = header.split(' ')[0]?.toLowerCase();
  return scheme === 'basic' ? 'basic' : scheme === 'bearer' ? 'bearer' : 'other';
}

/** The key of a header `Basic base64("<apiKey>:")` naming one of `apiKeys`. */
export function basicAuthKey(header: string | undefined, apiKeys: ReadonlySet<string>): string | undefined {
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? '');
  if (match?.[1] === undefined) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  if (!decoded.endsWith(':')) return undefined;
  const key = decoded.slice(0, -1);
  return apiKeys.has(key) ? key : undefined;
}

/** Applies a fault; true when the reply has been taken over and the route must not run. */
async function applyFault(fault: Fault, reply: FastifyReply, shutdown: AbortSignal): Promise<boolean> {
  switch (fault.kind) {
    case 'status':
      // An object body is sent as given, so a test can serve any error document it needs.
      if (fault.body !== null && typeof fault.body === 'object') {
        await reply.code(fault.status).type(JSON_API_MEDIA_TYPE).send(fault.body);
        return true;
      }
      throw new JsonApiError(fault.status, [{ detail: typeof fault.body === 'string' ? fault.body : 'Injected fault' }]);
    case 'latency':
      await sleep(fault.ms, undefined, { signal: shutdown });
      return false;
    case 'timeout':
      holdRequest(reply, shutdown);
      return true;
    case 'rate-limit':
      throw osErrors.tooManyRequests(fault.retryAfterSeconds ?? 1);
    case 'token-expired':
      throw osErrors.revokedKey();
    case 'malformed-body':
      // A 200 whose body is cut short, as a proxy dropping the connection mid-document would leave it.
      await reply.code(200).type(JSON_API_MEDIA_TYPE).send('{"data":[{"id":"1","type":');
      return true;
    case 'lost-response':
      // Not supported here: the registry refuses such rules when they are added.
      return false;
  }
}

export function registerRequestPipeline(app: FastifyInstance, deps: PipelineDeps): void {
  app.addHook('onRequest', async (request, reply) => {
    if (isControlRequest(request)) return;
    const path = request.url.split('?')[0] ?? request.url;
    const authorization = request.headers.authorization;
    const call: RecordedCall = {
      at: Date.now(),
      method: request.method,
      path,
      query: flatQuery(request.url),
      auth: authScheme(authorization),
      accept: request.headers.accept,
      status: 0,
    };
    deps.calls.push(call);
    callOf.set(request, call);

    const key = basicAuthKey(authorization, deps.apiKeys);
    if (key === undefined) {
      reply.header('www-authenticate', 'Basic realm="Opinion Stage API"');
      throw osErrors.unauthorized();
    }
    callerKeys.set(request, key);

    const fault = deps.faults.take(request.method, path);
    if (fault && (await applyFault(fault, reply, deps.shutdown))) return reply;
    return undefined;
  });

  app.addHook('onSend', async (request, reply, payload) => {
    const call = callOf.get(request);
    if (call) call.status = reply.statusCode;
    return payload;
  });
}
