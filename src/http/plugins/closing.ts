/**
 * What a request gets while the server shuts down. Fastify's own answer is a bare 503, which GHL
 * never redelivers: the event would be lost. A webhook is answered 429 with `Retry-After` instead
 * (redelivered, by then to a running process); anything else gets 503 in the usual error shape.
 * Both close the connection, so the next attempt opens a new one elsewhere.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import { errorReply } from '../schemas/common.js';
import { isWebhookRequest } from './ip-allowlist.js';

/** Seconds a webhook sender is asked to wait: long enough for a restart or another replica. */
export const CLOSING_RETRY_AFTER_SECONDS = '10';

/**
 * Adds the closing check as a root `onRequest` hook; the app must be built with
 * `return503OnClosing: false`, or Fastify answers before any hook runs. Register it before the routes.
 */
export function registerClosingAnswer(app: FastifyInstance): void {
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  // Callback style: this runs on every request, and the usual case needs no promise.
  app.addHook('onRequest', (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) => {
    if (!closing) {
      done();
      return;
    }
    // Answered here: Fastify's callback hooks end the request when they send instead of calling done.
    reply.header('connection', 'close');
    if (isWebhookRequest(request)) {
      void reply.code(429).header('retry-after', CLOSING_RETRY_AFTER_SECONDS).send(errorReply(429, 'SHUTTING_DOWN', 'the server is shutting down; retry later'));
      return;
    }
    void reply.code(503).send(errorReply(503, 'SHUTTING_DOWN', 'the server is shutting down'));
  });
}
