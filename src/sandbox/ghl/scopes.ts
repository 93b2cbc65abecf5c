/**
 * Scopes: a token calls only the endpoints its install was granted (the `security` of each operation
 * in GHL's OpenAPI documents for contacts and locations). Contacts reads (GET, and POST /contacts/search)
 * need `contacts.readonly`, every other contacts call `contacts.write`; location custom fields need
 * `locations/customFields.readonly` to read and `.write` to change. A token without it gets GHL's
 * measured 401 "The token is not authorized for this scope.".
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { TokenRegistry } from './auth.js';
import { ghlErrors, GhlHttpError } from './errors.js';
import { isControlRequest } from './request-pipeline.js';

/** The scope an API route needs, by method and route pattern; undefined for routes outside the API. */
export function requiredScope(method: string, route: string): string | undefined {
  const read = method === 'GET' || (method === 'POST' && route === '/contacts/search');
  if (route === '/contacts' || route.startsWith('/contacts/')) return read ? 'contacts.readonly' : 'contacts.write';
  if (/^\/locations\/[^/]+\/customFields/.test(route)) return method === 'GET' ? 'locations/customFields.readonly' : 'locations/customFields.write';
  return undefined;
}

/** Runs after the request pipeline has accepted the token (so the token is known to be valid here). */
export function registerScopeCheck(app: FastifyInstance, tokens: TokenRegistry): void {
  app.addHook('onRequest', async (request: FastifyRequest) => {
    if (isControlRequest(request)) return;
    const route = request.routeOptions.url;
    const scope = route === undefined ? undefined : requiredScope(request.method, route);
    if (scope === undefined) return;
    const authorization = Array.isArray(request.headers.authorization) ? request.headers.authorization[0] : request.headers.authorization;
    const auth = tokens.resolve(authorization);
    if (auth instanceof GhlHttpError) throw auth;
    if (auth.scopes !== undefined && !auth.scopes.has(scope)) throw ghlErrors.scopeMissing();
  });
}
