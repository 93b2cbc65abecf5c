/**
 * The simulator's Fastify app (no listen): JSON:API error documents and media type on the API, the
 * request pipeline, the three API reads and the control routes.
 */
import type { FastifyInstance } from 'fastify';
import { createSimulatorFastify, isFastifyError } from '../shared/fastify-app.js';
import { registerControlRoutes, type ControlDeps } from './control-routes.js';
import { JsonApiError, statusTitle } from './errors.js';
import { isControlRequest, JSON_API_MEDIA_TYPE, registerRequestPipeline, type PipelineDeps } from './request-pipeline.js';
import { registerApiRoutes, type ApiRouteDeps } from './routes-api.js';
import type { OsStore } from './store.js';

export interface SimulatorAppDeps {
  logger: boolean;
  store: OsStore;
  pipeline: PipelineDeps;
  control: ControlDeps;
  baseUrl(): string;
  responseOrder: ApiRouteDeps['responseOrder'];
  questionsHidden: ApiRouteDeps['questionsHidden'];
  ownerOf: ApiRouteDeps['ownerOf'];
}

export function buildSimulatorApp(deps: SimulatorAppDeps): FastifyInstance {
  const app = createSimulatorFastify(deps.logger);

  app.setErrorHandler((error: unknown, request, reply) => {
    const type = isControlRequest(request) ? 'application/json' : JSON_API_MEDIA_TYPE;
    if (error instanceof JsonApiError) {
      if (error.retryAfterSeconds !== undefined) reply.header('retry-after', String(error.retryAfterSeconds));
      return reply.code(error.statusCode).type(type).send(error.body);
    }
    if (isFastifyError(error) && error.statusCode !== undefined && error.statusCode < 500) {
      const status = error.statusCode;
      return reply.code(status).type(type).send({ errors: [{ status: String(status), title: statusTitle(status), detail: error.message }] });
    }
    reply.log.error({ err: error }, 'simulator handler failed');
    return reply.code(500).type(type).send({ errors: [{ status: '500', title: statusTitle(500) }] });
  });

  app.setNotFoundHandler((request, reply) =>
    reply
      .code(404)
      .type(isControlRequest(request) ? 'application/json' : JSON_API_MEDIA_TYPE)
      .send({ errors: [{ status: '404', title: statusTitle(404), detail: `No route for ${request.method} ${request.url.split('?')[0] ?? ''}` }] }),
  );

  // Every API answer, documents and errors alike, carries the JSON:API media type.
  app.addHook('onSend', async (request, reply, payload) => {
    if (!isControlRequest(request)) reply.type(JSON_API_MEDIA_TYPE);
    return payload;
  });

  registerRequestPipeline(app, deps.pipeline);
  registerApiRoutes(app, { store: deps.store, baseUrl: deps.baseUrl, responseOrder: deps.responseOrder, questionsHidden: deps.questionsHidden, ownerOf: deps.ownerOf });
  registerControlRoutes(app, deps.control);
  return app;
}
