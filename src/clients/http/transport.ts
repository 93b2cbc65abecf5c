/**
 * The one HTTP transport for outside APIs: one keep-alive undici Agent per origin, a deadline on every
 * call, every response body consumed (up to a cap), JSON parsed and checked with zod. Non-2xx answers,
 * schema mismatches and bodies over the cap become UpstreamError; retries are BullMQ's job, not this module's.
 */
import { Agent, request, type Dispatcher } from 'undici';
import type { z } from 'zod';
import { blankOut } from '../../observability/redact-url.js';
import { describeIssues } from './request-guards.js';
import { UpstreamError, type UpstreamSystem } from './upstream-error.js';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH';
export type QueryValue = string | number | boolean | undefined | readonly (string | number)[];

export interface HttpRequest {
  method: HttpMethod;
  /** Path below the base URL, e.g. `/contacts/abc`. */
  path: string;
  query?: Record<string, QueryValue>;
  headers?: Record<string, string>;
  /** Sent as application/json. */
  json?: unknown;
  /** Sent as application/x-www-form-urlencoded. */
  form?: Record<string, string>;
  /** Sent byte for byte (when the exact bytes were signed); set content-type in `headers`. */
  rawBody?: string;
  timeoutMs?: number;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string>;
  body: unknown;
  durationMs: number;
}

/** Called after every exchange (including failures) for metrics and rate-limit bookkeeping. */
export type ResponseObserver = (info: {
  system: UpstreamSystem;
  method: HttpMethod;
  path: string;
  status: number | 'timeout' | 'network';
  headers: Record<string, string>;
  durationMs: number;
}) => void;

export interface TransportOptions {
  system: UpstreamSystem;
  baseUrl: string;
  timeoutMs: number;
  /** Finds the upstream's request id (header or body field) for error reports. */
  requestIdOf?: (headers: Record<string, string>, body: unknown) => string | undefined;
  observe?: ResponseObserver;
  /** Tests may hand in a MockAgent; otherwise one Agent per origin is created here. */
  dispatcher?: Dispatcher;
  /** Largest response body read, in bytes; a longer one fails the call (default MAX_RESPONSE_BODY_BYTES). */
  maxBodyBytes?: number;
}

/** No answer of GHL, Trustpilot or Opinion Stage we read comes near this; a bigger one is not theirs to send. */
export const MAX_RESPONSE_BODY_BYTES = 5 * 1024 * 1024;

export interface ReadOptions {
  /** How long the upstream asked us to wait, from its headers (default: Retry-After). */
  retryAfterMs?: (headers: Record<string, string>) => number | undefined;
  /** Values blanked out of error excerpts if the upstream echoes them (the tokens we sent). */
  secrets?: string[];
}

export interface HttpTransport {
  readonly system: UpstreamSystem;
  readonly baseUrl: string;
  /** Performs the exchange; resolves for any HTTP status, rejects only on timeout or network failure. */
  send(req: HttpRequest): Promise<HttpResponse>;
  /** Performs the exchange and returns the body parsed by `schema`; throws UpstreamError otherwise. */
  json<T>(req: HttpRequest, schema: z.ZodType<T>): Promise<T>;
  /** The checks of `json` for a response obtained with `send` (clients that need headers or a retry first). */
  readJson<T>(req: HttpRequest, response: HttpResponse, schema: z.ZodType<T>, read?: ReadOptions): T;
  close(): Promise<void>;
}

const BODY_EXCERPT_CHARS = 300;

export function createHttpTransport(options: TransportOptions): HttpTransport {
  const base = new URL(options.baseUrl);
  const basePath = base.pathname.replace(/\/+$/, '');
  const ownsDispatcher = options.dispatcher === undefined;
  const dispatcher = options.dispatcher ?? keepAliveAgent(options.timeoutMs);
  const maxBodyBytes = options.maxBodyBytes ?? MAX_RESPONSE_BODY_BYTES;

  function urlFor(req: HttpRequest): URL {
    const url = new URL(basePath + req.path, base.origin);
    for (const [name, value] of Object.entries(req.query ?? {})) {
      if (value === undefined) continue;
      if (Array.isArray(value)) for (const item of value) url.searchParams.append(name, String(item));
      else url.searchParams.set(name, String(value));
    }
    return url;
  }

  async function send(req: HttpRequest): Promise<HttpResponse> {
    const url = urlFor(req);
    const { headers, body } = encodeBody(req);
    const started = performance.now();
    const timeoutMs = req.timeoutMs ?? options.timeoutMs;
    try {
      const response = await request(url, {
        method: req.method,
        headers,
        body,
        dispatcher,
        signal: AbortSignal.timeout(timeoutMs),
      });
      const text = await readCapped(response.body, maxBodyBytes);
      const responseHeaders = flattenHeaders(response.headers);
      const durationMs = performance.now() - started;
      options.observe?.({ system: options.system, method: req.method, path: req.path, status: response.statusCode, headers: responseHeaders, durationMs });
      if (text === undefined) {
        throw new UpstreamError({
          system: options.system,
          code: 'UPSTREAM_BODY_TOO_LARGE',
          method: req.method,
          path: req.path,
          status: response.statusCode,
          bodyExcerpt: `response body over ${maxBodyBytes} bytes; reading stopped`,
        });
      }
      return { status: response.statusCode, headers: responseHeaders, body: parseBody(text, responseHeaders), durationMs };
    } catch (error) {
      if (error instanceof UpstreamError) throw error;
      const durationMs = performance.now() - started;
      const timedOut = isTimeout(error);
      options.observe?.({ system: options.system, method: req.method, path: req.path, status: timedOut ? 'timeout' : 'network', headers: {}, durationMs });
      throw new UpstreamError({
        system: options.system,
        code: timedOut ? 'UPSTREAM_TIMEOUT' : 'UPSTREAM_NETWORK',
        method: req.method,
        path: req.path,
        cause: describeCause(error),
      });
    }
  }

  const readJson = <T>(req: HttpRequest, response: HttpResponse, schema: z.ZodType<T>, read: ReadOptions = {}): T =>
    checkedBody(options, req, response, schema, read);

  return {
    system: options.system,
    baseUrl: options.baseUrl,
    send,
    readJson,
    async json(req, schema) {
      return readJson(req, await send(req), schema);
    },
    async close() {
      if (ownsDispatcher) await dispatcher.close();
    },
  };
}

/** The checks of `readJson`: a 2xx status, then the body against `schema`. */
function checkedBody<T>(options: TransportOptions, req: HttpRequest, response: HttpResponse, schema: z.ZodType<T>, read: ReadOptions): T {
  const requestId = options.requestIdOf?.(response.headers, response.body);
  if (response.status < 200 || response.status >= 300) {
    throw new UpstreamError({
      system: options.system,
      code: 'UPSTREAM_HTTP',
      method: req.method,
      path: req.path,
      status: response.status,
      bodyExcerpt: excerpt(response.body, read.secrets ?? []),
      requestId,
      retryAfterMs: (read.retryAfterMs ?? retryAfterMs)(response.headers),
    });
  }
  const parsed = schema.safeParse(response.body ?? {});
  if (!parsed.success) {
    throw new UpstreamError({
      system: options.system,
      code: 'UPSTREAM_BAD_RESPONSE',
      method: req.method,
      path: req.path,
      status: response.status,
      bodyExcerpt: describeIssues(parsed.error.issues),
      requestId,
    });
  }
  return parsed.data;
}

/** One keep-alive Agent per origin; its header, body and connect timeouts follow the call deadline. */
function keepAliveAgent(timeoutMs: number): Dispatcher {
  return new Agent({
    keepAliveTimeout: 10_000,
    keepAliveMaxTimeout: 60_000,
    connections: 64,
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
    connect: { timeout: Math.min(timeoutMs, 5_000) },
  });
}

/** The request headers and body: JSON, a form, or raw bytes (their content-type set by the caller). */
function encodeBody(req: HttpRequest): { headers: Record<string, string>; body: string | undefined } {
  const headers: Record<string, string> = { accept: 'application/json', ...req.headers };
  if (req.json !== undefined) {
    headers['content-type'] ??= 'application/json';
    return { headers, body: JSON.stringify(req.json) };
  }
  if (req.form !== undefined) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    return { headers, body: new URLSearchParams(req.form).toString() };
  }
  return { headers, body: req.rawBody };
}

/**
 * The body as text, or undefined once it passes `limit` bytes: reading stops there and the rest
 * is discarded with the connection, so a huge or endless answer cannot fill our memory.
 */
async function readCapped(body: Dispatcher.ResponseData['body'], limit: number): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += bytes.length;
    if (size > limit) {
      body.destroy();
      return undefined;
    }
    chunks.push(bytes);
  }
  return new TextDecoder().decode(Buffer.concat(chunks, size));
}

function flattenHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) flat[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return flat;
}

function parseBody(text: string, headers: Record<string, string>): unknown {
  if (text.length === 0) return undefined;
  const type = headers['content-type'] ?? '';
  if (type.includes('json') || /^\s*[[{]/.test(text)) {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return text;
    }
  }
  return text;
}

function excerpt(body: unknown, secrets: string[]): string | undefined {
  if (body === undefined) return undefined;
  const text = blankOut(typeof body === 'string' ? body : JSON.stringify(body), secrets);
  return text.length > BODY_EXCERPT_CHARS ? `${text.slice(0, BODY_EXCERPT_CHARS)}…` : text;
}

/** Retry-After in seconds or as an HTTP date; GHL's own reset header is read by the GHL client. */
export function retryAfterMs(headers: Record<string, string>, now = Date.now()): number | undefined {
  const value = headers['retry-after'];
  if (value === undefined) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, Math.round(seconds * 1000));
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

function isTimeout(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  return (
    error.name === 'TimeoutError' ||
    error.name === 'AbortError' ||
    ('code' in error && (error.code === 'UND_ERR_HEADERS_TIMEOUT' || error.code === 'UND_ERR_BODY_TIMEOUT' || error.code === 'UND_ERR_CONNECT_TIMEOUT'))
  );
}

/** Keeps only the error's name and code: undici errors can carry request options. */
function describeCause(error: unknown): { name: string; code?: string } {
  if (!(error instanceof Error)) return { name: 'UnknownError' };
  const code = 'code' in error && typeof error.code === 'string' ? error.code : undefined;
  return code === undefined ? { name: error.name } : { name: error.name, code };
}
