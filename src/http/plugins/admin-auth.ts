/**
 * Bearer-token roles for /admin and /dashboard (ADMIN_TOKEN, VIEWER_TOKEN): the admin token
 * may do everything, the viewer token may only read (GET, HEAD). Without ADMIN_TOKEN the admin API is
 * off and every protected route answers 404 `ADMIN_DISABLED`, so a bridge without an operator token
 * does not even reveal which admin actions exist.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { SwaggerTransform } from '@fastify/swagger';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { jsonSchemaTransform } from 'fastify-type-provider-zod';
import { ErrorReplySchema, errorReply } from '../schemas/common.js';

export type AdminRole = 'admin' | 'viewer';

export interface AdminAuthOptions {
  adminToken: string | undefined;
  viewerToken: string | undefined;
}

export type AdminAuthDecision =
  | { outcome: 'allowed'; role: AdminRole }
  | { outcome: 'disabled' }
  | { outcome: 'missing' }
  | { outcome: 'invalid' }
  | { outcome: 'forbidden'; role: AdminRole };

/** Name of the OpenAPI security scheme the admin routes declare (see ADMIN_SECURITY_SCHEME). */
export const ADMIN_SECURITY_SCHEME_NAME = 'bearerAuth';
/** For `components.securitySchemes` of the OpenAPI document. */
export const ADMIN_SECURITY_SCHEME = {
  [ADMIN_SECURITY_SCHEME_NAME]: {
    type: 'http',
    scheme: 'bearer',
    description: 'ADMIN_TOKEN (every method) or VIEWER_TOKEN (GET only)',
  },
} as const;
/** The `security` entry of an admin route's schema. */
export const ADMIN_SECURITY = [{ [ADMIN_SECURITY_SCHEME_NAME]: [] }];

/**
 * Route-level `config.swaggerTransform` for protected routes: the app's zod transform, plus the
 * bearer scheme their `security` refers to, added to the document the first time one is described
 * (so the scheme exists exactly when a protected route does).
 */
export const adminSwaggerTransform: SwaggerTransform = (input) => {
  if ('openapiObject' in input) {
    const components = (input.openapiObject.components ??= {});
    components.securitySchemes = { ...ADMIN_SECURITY_SCHEME, ...components.securitySchemes };
  }
  return jsonSchemaTransform(input);
};

/** Error replies every admin route can give because of the auth check. */
export const ADMIN_AUTH_ERROR_REPLIES = {
  401: ErrorReplySchema.describe('No bearer token, or not a known one (`WWW-Authenticate: Bearer`)'),
  403: ErrorReplySchema.describe('The viewer token may only read (GET); this action needs the admin token'),
  404: ErrorReplySchema.describe('`ADMIN_DISABLED`: no ADMIN_TOKEN is configured, so the admin API is off; otherwise the item asked for does not exist'),
} as const;

const READ_METHODS = new Set(['GET', 'HEAD']);

/** SHA-256 first so both sides have the same length and the comparison leaks neither token's length. */
function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

function bearerToken(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  return match?.[1];
}

/** Decides what a request may do; pure, so it is unit-tested without HTTP. */
export function decideAdminAccess(options: AdminAuthOptions, method: string, authorization: string | undefined): AdminAuthDecision {
  if (!options.adminToken) return { outcome: 'disabled' };
  const token = bearerToken(authorization);
  if (token === undefined) return { outcome: 'missing' };
  const presented = digest(token);
  // Compare against both tokens every time, so timing does not tell which one matched.
  const isAdmin = timingSafeEqual(presented, digest(options.adminToken));
  const isViewer = options.viewerToken ? timingSafeEqual(presented, digest(options.viewerToken)) : false;
  if (isAdmin) return { outcome: 'allowed', role: 'admin' };
  if (!isViewer) return { outcome: 'invalid' };
  return READ_METHODS.has(method.toUpperCase()) ? { outcome: 'allowed', role: 'viewer' } : { outcome: 'forbidden', role: 'viewer' };
}

/** What a refusal tells the caller to do; each surface words it for its own users. */
export interface DenialHints {
  disabled: string;
  missing: string;
  forbidden: string;
}

const ADMIN_API_HINTS: DenialHints = {
  disabled: 'the admin API is disabled: set ADMIN_TOKEN (and optionally VIEWER_TOKEN) to enable it',
  missing: 'send the admin or viewer token as `Authorization: Bearer <token>`',
  forbidden: 'the viewer token may only read; this action needs the admin token',
};

/** The answer to a refused admin request: 404 when disabled, 401 with a bearer challenge, or 403. */
export function denyAdminAccess(reply: FastifyReply, decision: Exclude<AdminAuthDecision, { outcome: 'allowed' }>, hints: DenialHints): FastifyReply {
  switch (decision.outcome) {
    case 'disabled':
      return reply.code(404).send(errorReply(404, 'ADMIN_DISABLED', hints.disabled));
    case 'missing':
      return reply.code(401).header('www-authenticate', 'Bearer realm="ghl-bridge admin"').send(errorReply(401, 'UNAUTHORIZED', hints.missing));
    case 'invalid':
      return reply
        .code(401)
        .header('www-authenticate', 'Bearer realm="ghl-bridge admin", error="invalid_token"')
        .send(errorReply(401, 'UNAUTHORIZED', 'the bearer token is not valid'));
    case 'forbidden':
      return reply.code(403).send(errorReply(403, 'FORBIDDEN', hints.forbidden));
  }
}

const grantedRoles = new WeakMap<FastifyRequest, AdminRole>();

/** The role the admin hook granted this request (undefined outside the protected routes). */
export function adminRoleOf(request: FastifyRequest): AdminRole | undefined {
  return grantedRoles.get(request);
}

/** An `onRequest` hook enforcing the roles; runs before the body is read. */
export function createAdminAuthHook(options: AdminAuthOptions) {
  return async function adminAuth(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
    const decision = decideAdminAccess(options, request.method, request.headers.authorization);
    if (decision.outcome !== 'allowed') return denyAdminAccess(reply, decision, ADMIN_API_HINTS);
    grantedRoles.set(request, decision.role);
    return undefined;
  };
}

/**
 * Adds the role check to every route of `app`'s scope (and its children). Call it first inside the
 * encapsulated plugin that declares the protected routes, so routes outside it stay open.
 */
export function useAdminAuth(app: FastifyInstance, options: AdminAuthOptions): void {
  app.addHook('onRequest', createAdminAuthHook(options));
}
