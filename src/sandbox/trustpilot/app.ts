/**
 * The simulator's Fastify app (no listen): form and JSON bodies, Trustpilot error bodies, the request
 * pipeline, the API routes and the control routes.
 */
import type { FastifyInstance } from 'fastify';
import { createSimulatorFastify, isFastifyError } from '../shared/fastify-app.js';
import { registerControlRoutes, type ControlDeps } from './control-routes.js';
import { TrustpilotHttpError } from './errors.js';
import type { Presenters } from './presenters.js';
import { registerRequestPipeline, type PipelineDeps } from './request-pipeline.js';
import { registerOAuthRoutes, type OAuthRouteDeps } from './routes-oauth.js';
import { registerPrivateRoutes } from './routes-private.js';
import { registerPublicRoutes } from './routes-public.js';
import type { TrustpilotStore } from './store.js';

export interface TrustpilotAppDeps {
  logger: boolean;
  store: TrustpilotStore;
  presenters: Presenters;
  unitOf(apiKey: string): string | undefined;
  pipeline: PipelineDeps;
  oauth: OAuthRouteDeps;
  control: ControlDeps;
  baseUrl(): string;
}

export function buildTrustpilotApp(deps: TrustpilotAppDeps): FastifyInstance {
  const app = createSimulatorFastify(deps.logger);

  // Token requests are form-encoded, as Trustpilot's token endpoints document.
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    done(null, Object.fromEntries(new URLSearchParams(text)));
  });

  app.setErrorHandler((error: unknown, _request, reply) => {
    if (error instanceof TrustpilotHttpError) {
      if (error.retryAfterSeconds !== undefined) reply.header('retry-after', String(error.retryAfterSeconds));
      return reply.code(error.statusCode).send(error.body);
    }
    if (isFastifyError(error) && error.statusCode !== undefined && error.statusCode < 500) {
      return reply.code(error.statusCode).send({ message: error.message });
    }
    reply.log.error({ err: error }, 'simulator handler failed');
    return reply.code(500).send({ message: 'Internal server error' });
  });

  app.setNotFoundHandler((_request, reply) => reply.code(404).send({ message: 'Not found' }));

  registerRequestPipeline(app, deps.pipeline);
  registerOAuthRoutes(app, deps.oauth);
  registerPublicRoutes(app, { store: deps.store, presenters: deps.presenters });
  registerPrivateRoutes(app, {
    store: deps.store,
    presenters: deps.presenters,
    unitOf: deps.unitOf,
    baseUrl: deps.baseUrl,
  });
  registerControlRoutes(app, deps.control);
  return app;
}
