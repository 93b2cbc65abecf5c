/**
 * WEBHOOK_AUTH_FAILURE_LIMIT: a per-IP limit on failed webhook authentications (401: wrong or
 * missing token, bad signature). Past N failures in a window, every webhook request from that
 * address gets 429 with `Retry-After` until the window ends, before its token is even checked,
 * so a guessing loop learns nothing more; a valid sender caught by it is redelivered later (429 is
 * what GHL and the others retry on). Requests that authenticate never count.
 *
 * A small fixed-window counter in process memory (not @fastify/rate-limit, which counts every
 * request before the answer is known): each web process counts on its own, and webhook refusals
 * keep answering when Redis is away. The client is resolved as the IP allowlist resolves it, so
 * behind a proxy set TRUSTED_PROXIES, or one failing caller would block the proxy's address.
 */
import { normalizeIP } from '@fastify/rate-limit';
import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import type { RateLimit } from '../../config/env.js';
import type { Metrics } from '../../observability/metrics.js';
import { errorReply } from '../schemas/common.js';
import { isWebhookRequest, webhookSource, type ClientAddressResolver } from './ip-allowlist.js';

/** Distinct addresses tracked at once; the least recently failing are forgotten first. */
const TRACKED_CLIENTS = 10_000;

export interface FailureCounter {
  /** Addresses with failures counted (some possibly expired); 0 means nobody is blocked. */
  readonly tracked: number;
  /** Milliseconds until `key` may try again, or 0 when it is not blocked. */
  blockedFor(key: string, now: number): number;
  /** Counts one failure; true when this one reached the limit. */
  fail(key: string, now: number): boolean;
}

export function createFailureCounter(limit: RateLimit, tracked = TRACKED_CLIENTS): FailureCounter {
  // Insertion order is recency order: a touched key is deleted and set again.
  const windows = new Map<string, { count: number; resetAt: number }>();
  return {
    get tracked() {
      return windows.size;
    },
    blockedFor(key, now) {
      const entry = windows.get(key);
      if (entry === undefined || now >= entry.resetAt) return 0;
      return entry.count >= limit.max ? entry.resetAt - now : 0;
    },
    fail(key, now) {
      const current = windows.get(key);
      const entry = current === undefined || now >= current.resetAt ? { count: 0, resetAt: now + limit.windowMs } : current;
      entry.count += 1;
      windows.delete(key);
      windows.set(key, entry);
      if (windows.size > tracked) {
        const oldest = windows.keys().next();
        if (oldest.done !== true) windows.delete(oldest.value);
      }
      return entry.count === limit.max;
    },
  };
}

export interface AuthFailureLimitOptions {
  limit: RateLimit;
  clientAddress: ClientAddressResolver;
  metrics: Metrics;
  now?: () => number;
}

/** Root hooks (register before the routes): the check on request, the count as a 401 is sent. */
export function registerAuthFailureLimit(app: FastifyInstance, options: AuthFailureLimitOptions): void {
  const counter = createFailureCounter(options.limit);
  const now = options.now ?? Date.now;
  // IPv4-mapped addresses count as IPv4; an IPv6 client is its /64, as in the public rate limit.
  const keyOf = (request: FastifyRequest) => normalizeIP(options.clientAddress.clientIp(request) ?? request.socket.remoteAddress ?? 'unknown');

  // Callback style, both: they run on every request and need no promise. A request answered here does not call `done`.
  app.addHook('onRequest', (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) => {
    // Nobody has failed: nobody is blocked, and the client address need not be resolved.
    if (counter.tracked === 0 || !isWebhookRequest(request)) return done();
    const waitMs = counter.blockedFor(keyOf(request), now());
    if (waitMs === 0) return done();
    options.metrics.countWebhook(webhookSource(request), 'unknown', 'rejected');
    const seconds = Math.max(1, Math.ceil(waitMs / 1_000));
    reply
      .code(429)
      .header('retry-after', String(seconds))
      .send(errorReply(429, 'TOO_MANY_AUTH_FAILURES', `too many failed webhook authentications from this address; retry in ${seconds} s`));
  });

  // Counted as the 401 goes out (onSend, which every answer passes): an onResponse hook would make
  // Fastify listen for the end of every response, on every route.
  app.addHook('onSend', (request: FastifyRequest, reply: FastifyReply, payload: unknown, done: (error: Error | null, payload: unknown) => void) => {
    if (reply.statusCode === 401 && isWebhookRequest(request)) {
      const key = keyOf(request);
      if (counter.fail(key, now())) request.log.warn({ clientIp: key, source: webhookSource(request), limit: options.limit }, 'webhook caller blocked after failed authentications');
    }
    done(null, payload);
  });
}
