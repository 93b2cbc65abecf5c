/**
 * The dashboard's browser session: a random id in an HttpOnly, SameSite=Strict cookie, the session
 * itself in Redis (state/dashboard-sessions.ts) for 12 hours, gone on sign-out. The session keeps a
 * fingerprint of the admin and viewer tokens it was granted under; once either token changes, every
 * older session stops working. `Secure` is set when the request came over TLS, directly or through
 * a trusted proxy's `x-forwarded-proto: https` (the TRUSTED_PROXIES rule of ip-allowlist.ts).
 */
import { createHmac } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { SESSION_TTL_MS, type DashboardSessions } from '../../state/dashboard-sessions.js';
import type { AdminAuthOptions, AdminRole } from './admin-auth.js';
import { readCookie } from './read-cookie.js';

export const DASHBOARD_COOKIE = 'ghl_bridge_dashboard';
/** The session goes to the dashboard and to Bull Board (admin only there), never to the rest of /admin. */
const SESSION_PATHS = ['/dashboard', '/admin/queues'];

export interface DashboardSessionOptions extends AdminAuthOptions {
  sessions: DashboardSessions;
  /** Whether the request reached us over TLS (see createClientAddressResolver); default never. */
  isHttps?: (request: FastifyRequest) => boolean;
}

/** Changes whenever the admin or the viewer token does; an HMAC, so it tells nothing of either. */
export function tokensFingerprint(options: AdminAuthOptions): string {
  return createHmac('sha256', `${options.adminToken ?? ''}\u0000${options.viewerToken ?? ''}`).update('ghl-bridge dashboard session v2').digest('base64url');
}

/** A single-use sign-in code for `role` (the sandbox prints it as a link). */
export function createSignInCode(options: Omit<DashboardSessionOptions, 'isHttps'>, role: AdminRole): Promise<string> {
  return options.sessions.createCode({ role, fingerprint: tokensFingerprint(options) });
}

export interface DashboardSessionAuth {
  /** The role of the request's session cookie, looked up once per request. */
  role(request: FastifyRequest): Promise<AdminRole | undefined>;
  /** The role `role()` found for this request already (undefined if never asked). */
  knownRole(request: FastifyRequest): AdminRole | undefined;
  /** Starts a session for `role` and sends the browser to the dashboard. */
  signIn(request: FastifyRequest, reply: FastifyReply, role: AdminRole): Promise<FastifyReply>;
  /** Exchanges a sign-in code; false when it is unknown, used or expired. */
  redeem(request: FastifyRequest, reply: FastifyReply, code: string): Promise<FastifyReply | false>;
  /** Revokes the request's session and clears the cookie. */
  signOut(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply>;
}

export function createDashboardSessionAuth(options: DashboardSessionOptions): DashboardSessionAuth {
  const fingerprint = tokensFingerprint(options);
  const found = new WeakMap<FastifyRequest, AdminRole | undefined>();

  const cookie = (request: FastifyRequest, value: string, maxAgeSeconds: number): string[] => {
    // Browsers drop Secure cookies over plain http (except on localhost): only when we know it is https.
    const secure = options.isHttps?.(request) === true ? '; Secure' : '';
    return SESSION_PATHS.map((path) => `${DASHBOARD_COOKIE}=${value}; Path=${path}; HttpOnly; SameSite=Strict; Max-Age=${maxAgeSeconds}${secure}`);
  };

  const lookup = async (request: FastifyRequest): Promise<AdminRole | undefined> => {
    if (!options.adminToken) return undefined;
    const id = readCookie(request.headers.cookie, DASHBOARD_COOKIE);
    if (id === undefined || id === '') return undefined;
    const session = await options.sessions.find(id);
    if (session === undefined) return undefined;
    if (session.fingerprint !== fingerprint) {
      await options.sessions.revoke(id);
      return undefined;
    }
    return session.role === 'viewer' && !options.viewerToken ? undefined : session.role;
  };

  const signIn = async (request: FastifyRequest, reply: FastifyReply, role: AdminRole) => {
    const id = await options.sessions.create({ role, fingerprint });
    request.log.info({ role }, 'dashboard sign-in');
    return reply.code(303).header('set-cookie', cookie(request, id, SESSION_TTL_MS / 1_000)).header('location', '/dashboard').send();
  };

  return {
    async role(request) {
      if (found.has(request)) return found.get(request);
      const role = await lookup(request);
      found.set(request, role);
      return role;
    },
    knownRole: (request) => found.get(request),
    signIn,
    async redeem(request, reply, code) {
      const session = await options.sessions.redeemCode(code);
      if (session === undefined || session.fingerprint !== fingerprint) return false;
      return signIn(request, reply, session.role);
    },
    async signOut(request, reply) {
      const id = readCookie(request.headers.cookie, DASHBOARD_COOKIE);
      if (id) await options.sessions.revoke(id);
      request.log.info('dashboard sign-out');
      return reply.code(303).header('set-cookie', cookie(request, '', 0)).header('location', '/dashboard').send();
    },
  };
}
