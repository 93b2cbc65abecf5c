/**
 * Bull Board at /admin/queues: BullMQ's own UI over the bridge's queues, for the admin only.
 *
 * Bull Board can retry, clean, promote, pause and add jobs (PUT/POST under its base path) and shows
 * job payloads, so the viewer token gets 403 on every method, reads included. Two ways in:
 * - `Authorization: Bearer <ADMIN_TOKEN>` (scripts, curl);
 * - the dashboard's admin session cookie (a browser cannot send a bearer header), looked up in the
 *   dashboard's own session store (plugins/dashboard-session.ts); a change sent with it must also
 *   come from this host (Origin or `Sec-Fetch-Site: same-origin`), like the dashboard's forms.
 * Without ADMIN_TOKEN every path answers 404 `ADMIN_DISABLED`, as the admin API does.
 *
 * Its page loads scripts, styles, images and fonts from its own static path, so this scope sends a
 * CSP allowing 'self' instead of the strict default. Routes are hidden from the OpenAPI document.
 */
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import type { Queue } from 'bullmq';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { DashboardSessions } from '../../state/dashboard-sessions.js';
import { decideAdminAccess, denyAdminAccess, type AdminAuthDecision, type AdminAuthOptions, type AdminRole } from '../plugins/admin-auth.js';
import { createDashboardSessionAuth } from '../plugins/dashboard-session.js';
import { selfOnlyCsp } from '../plugins/security-headers.js';
import { isSameOrigin } from './dashboard.js';

export const BULL_BOARD_PATH = '/admin/queues';

export interface BullBoardDeps extends AdminAuthOptions {
  queues: readonly Queue[];
  /** The dashboard's sign-in sessions; absent: bearer token only. */
  sessions?: DashboardSessions;
  /** Shown in the page's header. Default "ghl-bridge queues". */
  title?: string;
}

/**
 * The page's own scripts and styles only; inline styles are allowed because its loading screen
 * and UI components set `style` attributes (no inline script is allowed). Fonts from Google are
 * not loaded, the UI falls back to system fonts.
 */
export const BULL_BOARD_CSP = selfOnlyCsp({ inlineStyles: true });

const READ_METHODS = new Set(['GET', 'HEAD']);

/** Admin only, on every method; pure over the request's headers and its session's role, so it is easy to test. */
export function decideBullBoardAccess(options: AdminAuthOptions, method: string, headers: FastifyRequest['headers'], sessionRole: AdminRole | undefined): AdminAuthDecision {
  if (!options.adminToken) return { outcome: 'disabled' };
  if (sessionRole === 'admin') {
    // The cookie rides along on cross-site requests SameSite cannot stop (same site, other origin).
    return READ_METHODS.has(method.toUpperCase()) || isSameOrigin(headers) ? { outcome: 'allowed', role: 'admin' } : { outcome: 'forbidden', role: 'admin' };
  }
  // Judged as a write whatever the method: the viewer token may not even read job payloads here.
  const decision = decideAdminAccess(options, 'POST', headers.authorization);
  if (decision.outcome === 'missing' && sessionRole === 'viewer') return { outcome: 'forbidden', role: 'viewer' };
  return decision;
}

function deny(reply: FastifyReply, decision: Exclude<AdminAuthDecision, { outcome: 'allowed' }>): FastifyReply {
  return denyAdminAccess(reply, decision, {
    disabled: 'the admin API is disabled: set ADMIN_TOKEN to enable it',
    missing: 'send the admin token as `Authorization: Bearer <token>`, or sign in to /dashboard with it',
    forbidden: decision.outcome === 'forbidden' && decision.role !== 'viewer' ? 'this change must be sent from the Bull Board page itself' : 'Bull Board needs the admin token',
  });
}

/** Register with `app.register(registerBullBoardRoutes, { deps })`: its hooks stay in this scope. */
export async function registerBullBoardRoutes(app: FastifyInstance, options: { deps: BullBoardDeps }): Promise<void> {
  const { deps } = options;
  const auth: AdminAuthOptions = { adminToken: deps.adminToken, viewerToken: deps.viewerToken };
  const session = deps.sessions ? createDashboardSessionAuth({ ...auth, sessions: deps.sessions }) : undefined;

  app.addHook('onRequest', async (request, reply) => {
    // Set before any answer, so the root security-headers hook keeps it instead of the strict default.
    reply.header('content-security-policy', BULL_BOARD_CSP);
    reply.header('cache-control', 'no-store');
    const decision = decideBullBoardAccess(auth, request.method, request.headers, await session?.role(request));
    if (decision.outcome === 'allowed') return undefined;
    return deny(reply, decision);
  });

  const serverAdapter = new FastifyAdapter();
  serverAdapter.setBasePath(BULL_BOARD_PATH);
  createBullBoard({
    queues: deps.queues.map((queue) => new BullMQAdapter(queue)),
    serverAdapter,
    options: { uiConfig: { boardTitle: deps.title ?? 'ghl-bridge queues' } },
  });
  await app.register(serverAdapter.registerPlugin(), { prefix: BULL_BOARD_PATH });
}
