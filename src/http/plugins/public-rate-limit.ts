/**
 * PUBLIC_RATE_LIMIT per client IP on everything except `/webhooks/*` (health, readiness, metrics,
 * docs, admin, and unknown paths). Webhooks are never limited here: refusing a GHL burst would be
 * ours to lose, and Redis pressure already answers 429 there.
 *
 * The counters live in process memory (@fastify/rate-limit's LRU store): each web process counts
 * on its own, so N processes allow up to N × the limit. That is enough against a scraper or a
 * token-guessing loop, and keeps these routes answering when Redis is away.
 */
import fastifyRateLimit, { normalizeIP } from '@fastify/rate-limit';
import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import type { RateLimit } from '../../config/env.js';
import { isWebhookRequest, type ClientAddressResolver } from './ip-allowlist.js';

export interface PublicRateLimitOptions {
  limit: RateLimit;
  clientAddress: ClientAddressResolver;
}

/** Distinct client addresses tracked at once; the least recently seen are forgotten first. */
const TRACKED_CLIENTS = 10_000;

/**
 * Registers the limiter as a root `onRequest` hook, so it runs before each route's own hooks (a
 * token-guessing loop on /admin is limited before the token is even checked) and covers 404s.
 * Register it before the routes.
 */
export async function registerPublicRateLimit(app: FastifyInstance, options: PublicRateLimitOptions): Promise<void> {
  await app.register(fastifyRateLimit, {
    global: false,
    max: options.limit.max,
    timeWindow: options.limit.windowMs,
    cache: TRACKED_CLIENTS,
    // IPv4-mapped addresses count as IPv4; an IPv6 client is its /64, as one host usually holds one.
    keyGenerator: (request) => normalizeIP(options.clientAddress.clientIp(request) ?? request.socket.remoteAddress ?? 'unknown'),
    // Thrown into the app's error handler, which answers the usual error shape (Retry-After is already set).
    errorResponseBuilder: (_request, context) =>
      Object.assign(new Error(`too many requests; retry in ${context.after}`), { statusCode: context.statusCode, code: 'RATE_LIMITED' }),
  });
  const limit = app.rateLimit();
  // Callback style: webhooks pass straight on, with no promise made for them.
  app.addHook('onRequest', function publicRateLimit(this: FastifyInstance, request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) {
    if (isWebhookRequest(request)) return done();
    limit.call(this, request, reply).then(() => done(), done);
  });
}
