/**
 * The simulator's Fastify app (no listen): JSON parsing as GHL's NestJS gateway does it, GHL error
 * bodies, the request pipeline, the API routes and the control routes.
 */
import { STATUS_CODES } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { createSimulatorFastify, isFastifyError } from '../shared/fastify-app.js';
import { registerControlRoutes, type ControlDeps } from './control-routes.js';
import { GhlHttpError } from './errors.js';
import { missingEntityError, type MissingEntitySwitch } from './missing-entity.js';
import type { Mutations } from './mutations.js';
import type { OAuthServer } from './oauth.js';
import { isControlRequest, registerRequestPipeline, type PipelineDeps } from './request-pipeline.js';
import { registerContactSearchRoutes } from './routes-contact-search.js';
import { registerContactRoutes } from './routes-contacts.js';
import { registerCustomFieldRoutes } from './routes-custom-fields.js';
import { registerTaskNoteRoutes } from './routes-tasks-notes.js';
import { registerScopeCheck } from './scopes.js';
import type { GhlStore } from './store.js';

export interface SimulatorAppDeps {
  logger: boolean;
  store: GhlStore;
  mutations: Mutations;
  pipeline: PipelineDeps;
  control: ControlDeps;
  oauth?: OAuthServer;
  /** How API calls are answered for a missing contact, note or task (control routes always get 404). */
  missingEntity: MissingEntitySwitch;
  baseUrl(): string;
}

export function buildSimulatorApp(deps: SimulatorAppDeps): FastifyInstance {
  const app = createSimulatorFastify(deps.logger);

  // An empty JSON body (e.g. a DELETE sent with content-type but nothing else) is no body, not a 400.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text.trim() === '') {
      done(null, undefined);
      return;
    }
    try {
      done(null, JSON.parse(text));
    } catch (error) {
      const message = error instanceof Error ? error.message : 'Invalid JSON';
      done(new GhlHttpError(400, { statusCode: 400, message, error: 'Bad Request' }), undefined);
    }
  });

  app.setErrorHandler((error: unknown, request, reply) => {
    if (error instanceof GhlHttpError) {
      const answer = error.missing !== undefined && !isControlRequest(request) ? missingEntityError(error.missing, deps.missingEntity.status) : error;
      if (answer.retryAfterSeconds !== undefined) reply.header('retry-after', String(answer.retryAfterSeconds));
      return reply.code(answer.statusCode).send(answer.body);
    }
    if (isFastifyError(error) && error.statusCode !== undefined && error.statusCode < 500) {
      const status = error.statusCode;
      return reply.code(status).send({ statusCode: status, message: error.message, error: STATUS_CODES[status] ?? 'Error' });
    }
    reply.log.error({ err: error }, 'simulator handler failed');
    return reply.code(500).send({ statusCode: 500, message: 'Internal server error' });
  });

  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({
      statusCode: 404,
      message: `Cannot ${request.method} ${request.url.split('?')[0] ?? request.url}`,
      error: 'Not Found',
    }),
  );

  registerRequestPipeline(app, deps.pipeline);
  registerScopeCheck(app, deps.pipeline.tokens);
  registerContactSearchRoutes(app, { store: deps.store, baseUrl: deps.baseUrl });
  registerContactRoutes(app, { store: deps.store, mutations: deps.mutations });
  registerTaskNoteRoutes(app, { store: deps.store, mutations: deps.mutations });
  registerCustomFieldRoutes(app, { store: deps.store });
  registerControlRoutes(app, deps.control);
  deps.oauth?.register(app);
  return app;
}
