/**
 * buildApp(deps): the Fastify application without `listen`, so tests and the OpenAPI generator can
 * build it exactly as production does. Listening and the server's timeouts are in server.ts.
 */
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import {
  hasZodFastifySchemaValidationErrors,
  jsonSchemaTransform,
  jsonSchemaTransformObject,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import type { Config } from '../config/env.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { parseJsonBody } from './json-body.js';
import { lazyChildrenOf } from './lazy-request-logger.js';
import { registerAuthFailureLimit } from './plugins/auth-failure-limit.js';
import { registerClosingAnswer } from './plugins/closing.js';
import { createClientAddressResolver, registerIpAllowlist } from './plugins/ip-allowlist.js';
import { registerPublicRateLimit } from './plugins/public-rate-limit.js';
import { registerSecurityHeaders } from './plugins/security-headers.js';
import { errorReply } from './schemas/common.js';
import { registerAdminRoutes, type AdminDeps } from './routes/admin.js';
import { registerOAuthRoutes, type OAuthRouteDeps } from './routes/oauth.js';
import { registerBullBoardRoutes, type BullBoardDeps } from './routes/bull-board.js';
import { registerDashboardRoutes, type DashboardDeps } from './routes/dashboard.js';
import { registerHealthRoutes, type ReadinessCheck } from './routes/health.js';
import { registerMetricsRoute } from './routes/metrics.js';
import { registerGhlWebhookRoutes, type GhlIngestDeps } from './routes/webhooks-ghl.js';
import { registerOpinionStageWebhookRoute, type OpinionStageIngestDeps } from './routes/webhooks-opinionstage.js';
import { registerTrustpilotWebhookRoute, type TrustpilotIngestDeps } from './routes/webhooks-trustpilot.js';

export const BODY_LIMIT_BYTES = 1024 * 1024;

export interface AppDeps {
  config: Config;
  logger: Logger;
  metrics: Metrics;
  /** Present when this process serves webhooks (web and all modes). */
  ghlIngest?: GhlIngestDeps;
  trustpilotIngest?: TrustpilotIngestDeps;
  opinionStageIngest?: OpinionStageIngestDeps;
  admin?: AdminDeps;
  /** Marketplace-app mode (GHL_CLIENT_ID set). */
  oauth?: OAuthRouteDeps;
  /** The operator page at /dashboard (needs the admin routes for its retry button). */
  dashboard?: DashboardDeps;
  /** Bull Board at /admin/queues over these queues (admin token or the dashboard's admin session only). */
  bullBoard?: BullBoardDeps;
  readinessChecks: ReadinessCheck[];
  /** Refreshes scrape-time gauges (queue depths, dead letters) before /metrics answers. */
  collectMetrics?: () => Promise<void>;
  /** WEB_PROCESSES > 1: the counted metrics of every process on the host. */
  hostMetrics?: () => Promise<string>;
  version: string;
}

export type App = FastifyInstance;

export async function buildApp(deps: AppDeps): Promise<App> {
  // Widen pino's Logger to Fastify's logger interface: request loggers (and so plugins) see that type.
  const logger: FastifyBaseLogger = deps.logger;
  const app = Fastify({
    // Fastify gets no logger of its own: with one, it adds two listeners to every response and times
    // it, only for a "request completed" line these routes never write. Each request still logs,
    // through a child of ours made at its first line (lazy-request-logger.ts), its reqId bound.
    childLoggerFactory: lazyChildrenOf(logger),
    bodyLimit: BODY_LIMIT_BYTES,
    // Per-request lines cost too much at webhook rates; routes log their own outcomes.
    logController: new LogController({ disableRequestLogging: true }),
    // plugins/closing.ts answers instead: 429 for webhooks (GHL never redelivers a 503).
    return503OnClosing: false,
    routerOptions: { ignoreTrailingSlash: true },
  }).withTypeProvider<ZodTypeProvider>();

  // Webhook bodies are decoded strictly (valid UTF-8, bounded nesting); see json-body.ts.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_request, body, done) => {
    const parsed = parseJsonBody(Buffer.isBuffer(body) ? body : Buffer.from(body));
    if (parsed.ok) done(null, parsed.value);
    else done(Object.assign(new Error(parsed.message), { statusCode: 400, code: 'INVALID_JSON' }), undefined);
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler((request, reply) => {
    void reply.code(404).send(errorReply(404, 'NOT_FOUND', `no route for ${request.method} ${request.url.split('?')[0]}`));
  });

  // Root hooks, added before any route so each route (and the 404 handler) carries them: headers on
  // every answer, the webhook IP allowlist, then the public rate limit (webhooks exempt).
  const clientAddress = createClientAddressResolver(deps.config.TRUSTED_PROXIES);
  registerSecurityHeaders(app, { clientAddress });
  registerClosingAnswer(app);
  registerIpAllowlist(app, { allowlist: deps.config.WEBHOOK_IP_ALLOWLIST, clientAddress, metrics: deps.metrics });
  registerAuthFailureLimit(app, { limit: deps.config.WEBHOOK_AUTH_FAILURE_LIMIT, clientAddress, metrics: deps.metrics });
  await registerPublicRateLimit(app, { limit: deps.config.PUBLIC_RATE_LIMIT, clientAddress });

  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'ghl-bridge',
        version: deps.version,
        description:
          'Self-hosted bridge between GoHighLevel contacts, Trustpilot and Opinion Stage. Webhooks are verified, durably queued, then answered.',
      },
      tags: [
        { name: 'webhooks', description: 'Inbound events' },
        { name: 'operations', description: 'Health, readiness and metrics' },
        { name: 'oauth', description: 'Marketplace-app install (GHL_CLIENT_ID mode)' },
        { name: 'admin', description: 'Inspect and replay jobs, the mapping, dry-run plans (bearer token)' },
      ],
    },
    transform: jsonSchemaTransform,
    transformObject: jsonSchemaTransformObject,
  });
  await app.register(fastifySwaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  registerHealthRoutes(app, deps.readinessChecks);
  registerMetricsRoute(app, deps.metrics, { ...(deps.collectMetrics ? { collect: deps.collectMetrics } : {}), ...(deps.hostMetrics ? { hostMetrics: deps.hostMetrics } : {}) });
  if (deps.ghlIngest) await app.register(registerGhlWebhookRoutes, { deps: deps.ghlIngest, metrics: deps.metrics, logger: deps.logger });
  if (deps.trustpilotIngest) await registerTrustpilotWebhookRoute(app, { deps: deps.trustpilotIngest, metrics: deps.metrics });
  if (deps.opinionStageIngest) await app.register(registerOpinionStageWebhookRoute, { deps: deps.opinionStageIngest, metrics: deps.metrics });
  if (deps.oauth) await app.register(registerOAuthRoutes, { deps: deps.oauth });
  if (deps.admin) await app.register(registerAdminRoutes, { deps: deps.admin });
  if (deps.dashboard) await app.register(registerDashboardRoutes, { deps: deps.dashboard, isHttps: clientAddress.isHttps });
  if (deps.bullBoard) await app.register(registerBullBoardRoutes, { deps: deps.bullBoard });
  return app;
}

/**
 * Fastify's own errors keep their status (413, 415, 400); anything unexpected on a webhook route
 * becomes 429 so GHL redelivers instead of dropping the event; elsewhere it is a plain 500.
 */
function errorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  if (hasZodFastifySchemaValidationErrors(error)) {
    const fields = error.validation.map((issue) => ({
      path: issue.instancePath.replace(/^\//, '').replace(/\//g, '.') || String(issue.params?.issue ?? ''),
      message: issue.message ?? 'invalid',
    }));
    return reply.code(400).send(errorReply(400, 'VALIDATION_FAILED', 'the request does not match the schema', fields));
  }
  const status = error.statusCode ?? 500;
  if (status >= 400 && status < 500) {
    const code = error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' ? 'UNSUPPORTED_MEDIA_TYPE' : error.code === 'FST_ERR_CTP_BODY_TOO_LARGE' ? 'BODY_TOO_LARGE' : (error.code ?? 'BAD_REQUEST');
    // A body that cannot be read at all is named as a whole, at path ''.
    const fields = status === 400 && /JSON|BODY/.test(code) ? [{ path: '', message: error.message }] : undefined;
    return reply.code(status).send(errorReply(status, code, error.message, fields));
  }
  request.log.error({ err: { name: error.name, message: error.message, code: error.code } }, 'unhandled route error');
  if (request.url.startsWith('/webhooks/')) {
    reply.header('retry-after', '5');
    return reply.code(429).send(errorReply(429, 'TEMPORARILY_UNAVAILABLE', 'the event could not be processed right now; retry later'));
  }
  return reply.code(500).send(errorReply(500, 'INTERNAL', 'internal error'));
}
