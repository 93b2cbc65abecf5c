/**
 * The shared-secret check of the unsigned webhook sources (GHL workflow action, Trustpilot, Opinion
 * Stage), as an onRequest hook: it runs before the body is read, so a caller without the secret
 * learns nothing about what a valid body looks like.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Metrics } from '../../observability/metrics.js';
import { checkSharedSecret } from '../../webhooks/shared-secret.js';
import { errorReply } from '../schemas/common.js';

export function requireSharedSecret(options: { secret: string | undefined; variable: string; source: string; metrics: Metrics }) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    // request.query keeps repeated parameters as arrays; the check refuses ambiguous copies.
    const result = checkSharedSecret(options.secret, request.headers, request.query);
    if (result === 'ok') return;
    options.metrics.countWebhook(options.source, 'unknown', 'rejected');
    const code = result === 'not-configured' ? 'NOT_CONFIGURED' : 'TOKEN_INVALID';
    const message = result === 'not-configured' ? `these webhooks are disabled: set ${options.variable}` : 'missing or wrong webhook token';
    await reply.code(401).send(errorReply(401, code, message));
  };
}
