/**
 * Security headers on every answer, errors and 404s included (an `onSend` hook runs for all of
 * them). A route that sets one of these headers itself keeps its own value: an HTML page such as a
 * dashboard knows its CSP better than this default.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ClientAddressResolver } from './ip-allowlist.js';

/** JSON and text answers load nothing and may not be framed. */
export const STRICT_CSP = "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/**
 * A browser UI served by the bridge itself: scripts, styles, data and forms from its own origin only,
 * icons and fonts also as data: URIs, no inline script, never framed. `inlineStyles` allows `style`
 * attributes, for UIs whose components set them.
 */
export function selfOnlyCsp(options: { inlineStyles: boolean }): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    "script-src-attr 'none'",
    options.inlineStyles ? "style-src 'self' 'unsafe-inline'" : "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/**
 * Swagger UI at /docs: its scripts, styles and the spec all come from /docs itself; icons and the
 * logo are data: URIs. No inline script, no third-party origin (the online validator is off).
 */
export const DOCS_CSP = selfOnlyCsp({ inlineStyles: false });

/** One year; no includeSubDomains, since the bridge does not own its parent domain's other hosts. */
export const HSTS = 'max-age=31536000';

const FIXED_HEADERS: readonly (readonly [string, string])[] = [
  ['x-content-type-options', 'nosniff'],
  ['x-frame-options', 'DENY'],
  ['referrer-policy', 'no-referrer'],
  ['cross-origin-resource-policy', 'same-origin'],
];

export interface SecurityHeadersOptions {
  clientAddress: ClientAddressResolver;
}

/** Register before the routes, so every route (and the 404 handler) carries the hook. */
export function registerSecurityHeaders(app: FastifyInstance, options: SecurityHeadersOptions): void {
  // Callback style: runs on every answer, and needs no promise.
  app.addHook('onSend', (request: FastifyRequest, reply: FastifyReply, payload: unknown, done: (error: Error | null, payload: unknown) => void) => {
    for (const [name, value] of FIXED_HEADERS) setDefault(reply, name, value);
    setDefault(reply, 'content-security-policy', isDocsPath(request.url) ? DOCS_CSP : STRICT_CSP);
    // Browsers ignore HSTS over plain http; sending it only over https keeps local http setups usable.
    if (options.clientAddress.isHttps(request)) setDefault(reply, 'strict-transport-security', HSTS);
    done(null, payload);
  });
}

/** `/docs` or below it, query string aside. */
function isDocsPath(url: string): boolean {
  if (!url.startsWith('/docs')) return false;
  const next = url.charAt(5);
  return next === '' || next === '/' || next === '?';
}

function setDefault(reply: FastifyReply, name: string, value: string): void {
  if (!reply.hasHeader(name)) reply.header(name, value);
}
