/**
 * GET /dashboard: one server-rendered page (no front-end build, no script) for operators: queue
 * depths and throughput, recent syncs, failures with a retry button, dead letters, rate budgets,
 * circuits, recent alerts and dry-run plans.
 *
 * Sign-in: a browser cannot send a bearer token, so the admin or viewer token is posted once with the
 * sign-in form (never in a URL, where proxies and history would keep it) for a server-side session
 * (plugins/dashboard-session.ts); a single-use code from `/dashboard/sign-in?code=` does the same for
 * the sandbox's printed link. `Authorization: Bearer` works too.
 * Roles as in plugins/admin-auth.ts: the viewer reads, only the admin sees and may press "Retry".
 *
 * CSRF: every POST here needs the session cookie, which SameSite=Strict keeps off cross-site
 * requests, and an Origin (or `Sec-Fetch-Site: same-origin`) showing the form came from this host.
 * The retry form is handled here and forwarded to the existing POST /admin/jobs/:id/retry with the
 * admin token, so there is one retry implementation.
 */
import type { Job, Queue } from 'bullmq';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { GhlBudgetUsage } from '../../clients/ghl/ghl-budget.js';
import { DEFAULT_MAPPING, type Mapping } from '../../config/mapping.js';
import { ALL_QUEUES, SOURCE_QUEUES, type QueueName } from '../../queue/catalog.js';
import type { DeadLetters } from '../../queue/dead-letters.js';
import type { RecentAlert } from '../../state/alert-throttle.js';
import type { CircuitStatus, CircuitSystem } from '../../state/circuit-breaker.js';
import type { SyncRecord } from '../../state/contact-facts.js';
import type { PlannedWrites } from '../../state/planned-writes.js';
import type { DashboardSessions } from '../../state/dashboard-sessions.js';
import type { FlowSeries, SeriesRange } from '../../state/flow-series.js';
import { decideAdminAccess, type AdminRole } from '../plugins/admin-auth.js';
import { QueueNameSchema } from './admin-shared.js';
import { registerContactRoutes, type ContactPageDeps } from './dashboard-contacts.js';
import type { DashboardPageContext } from './dashboard-page-context.js';
import { registerConnectionRoutes, type MaskedConnectionsReader } from './dashboard-connections.js';
import { createDashboardSessionAuth, type DashboardSessionAuth } from '../plugins/dashboard-session.js';
import { DASHBOARD_CSS, renderDashboard, renderLogin, renderMessage, type DashboardView, type FailedJobRow, type QueueRow } from '../views/dashboard-page.js';

/** What the dashboard reads of a BullMQ queue. */
export type DashboardQueue = Pick<Queue, 'name' | 'getJobCounts' | 'getJobs'>;

export interface DashboardDeps {
  adminToken: string | undefined;
  viewerToken: string | undefined;
  /** Where sign-in sessions and single-use sign-in codes live. */
  sessions: DashboardSessions;
  queues: Record<QueueName, DashboardQueue>;
  deadLetters: Pick<DeadLetters, 'count' | 'list'>;
  planned: Pick<PlannedWrites, 'list'>;
  recentSyncs(limit: number): Promise<SyncRecord[]>;
  /** The locations this bridge served at start-up, for their rate budgets. */
  locations: readonly string[];
  /** The locations served now (installs after start-up included); absent: `locations`. */
  servedLocations?(): Promise<readonly string[]>;
  budgetUsage(locationId: string): Promise<GhlBudgetUsage>;
  /** The upstreams configured, for their circuit states. */
  circuitSystems: readonly CircuitSystem[];
  circuitState(system: CircuitSystem): Promise<CircuitStatus>;
  recentAlerts(limit: number): Promise<RecentAlert[]>;
  /** Contact pages and search; absent: neither is offered. */
  contacts?: ContactPageDeps;
  /** The per-minute series behind the charts; absent: no charts. */
  series?: Pick<FlowSeries, 'read'>;
  /** The connections a location's events go through (the environment's or its own), for the locations overview. */
  connectionsOf?(locationId: string): Promise<string[]>;
  /** Each location's own connections, masked, for the admin's connections page; absent: connections cannot be stored (no ENCRYPTION_KEY). */
  locationConnections?: MaskedConnectionsReader;
  /** Seconds between automatic reloads (0: off). Default 30. */
  refreshSeconds?: number;
  now?: () => number;
}

const RECENT_SYNCS = 200;
const LIST_LIMIT = 50;
const THROUGHPUT_SAMPLE = 500;
const MINUTE_MS = 60_000;

/** Only styles from this origin, forms only to this origin, no script, no framing. */
export const DASHBOARD_CSP = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

const RetryFormSchema = z.object({ id: z.string().min(1).max(300), queue: z.enum(SOURCE_QUEUES) });
const LoginFormSchema = z.object({ token: z.string().min(1).max(1_000) });
const RetryReplySchema = z.looseObject({ message: z.string().optional(), deadLetterRemoved: z.boolean().optional() });
const NoticeQuerySchema = z.object({
  retried: z.string().max(300).optional(),
  error: z.string().max(300).optional(),
  range: z.enum(['hour', 'day']).optional(),
});

/** The role a token grants for reading (the admin or the viewer token), else undefined. */
function roleOfToken(options: Pick<DashboardDeps, 'adminToken' | 'viewerToken'>, authorization: string | undefined): AdminRole | undefined {
  const decision = decideAdminAccess(options, 'GET', authorization);
  return decision.outcome === 'allowed' ? decision.role : undefined;
}

/**
 * The form came from a page of this host: its Origin names this host, or (a browser that sends no
 * Origin) Fetch Metadata says same-origin. Host, not scheme: behind a TLS proxy the scheme differs.
 */
export function isSameOrigin(headers: FastifyRequest['headers']): boolean {
  const origin = headers.origin;
  const host = headers.host;
  if (typeof origin === 'string' && origin !== 'null') {
    try {
      return host !== undefined && new URL(origin).host === host;
    } catch {
      return false;
    }
  }
  return headers['sec-fetch-site'] === 'same-origin';
}

function sendHtml(reply: FastifyReply, status: number, html: string): FastifyReply {
  return reply
    .code(status)
    .header('content-type', 'text/html; charset=utf-8')
    .header('content-security-policy', DASHBOARD_CSP)
    .header('cache-control', 'no-store')
    .send(html);
}

const SignInCodeQuerySchema = z.object({ code: z.string().max(100) });

export interface DashboardRouteOptions {
  deps: DashboardDeps;
  /** The request came over TLS (directly or via a trusted proxy): the session cookie gets `Secure`. */
  isHttps?: (request: FastifyRequest) => boolean;
}

export async function registerDashboardRoutes(app: FastifyInstance, options: DashboardRouteOptions): Promise<void> {
  const { deps } = options;
  const now = deps.now ?? Date.now;
  const auth = { adminToken: deps.adminToken, viewerToken: deps.viewerToken };
  const session = createDashboardSessionAuth({ ...auth, sessions: deps.sessions, ...(options.isHttps ? { isHttps: options.isHttps } : {}) });

  // Forms post urlencoded bodies; only this scope reads them.
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 4_096 }, (_request, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(typeof body === 'string' ? body : body.toString('utf8'))));
  });

  app.addHook('onRequest', async (request, reply) => {
    if (!deps.adminToken) return sendHtml(reply, 404, renderMessage('Dashboard disabled', 'Set ADMIN_TOKEN (and optionally VIEWER_TOKEN) to enable the dashboard.'));
    if (request.method === 'POST' && !isSameOrigin(request.headers)) {
      return sendHtml(reply, 403, renderMessage('Forbidden', 'This form must be sent from the dashboard page itself.'));
    }
    // Looked up once here, so the routes below read it synchronously.
    await session.role(request);
    return undefined;
  });

  const roleOf = (request: FastifyRequest) => session.knownRole(request) ?? roleOfToken(auth, request.headers.authorization);

  app.get('/dashboard/style.css', { schema: { hide: true } }, async (_request, reply) =>
    reply.header('content-type', 'text/css; charset=utf-8').header('cache-control', 'public, max-age=3600').send(DASHBOARD_CSS),
  );

  app.get('/dashboard', { schema: { hide: true } }, async (request, reply) => {
    const query = NoticeQuerySchema.safeParse(request.query);
    const params = query.success ? query.data : {};
    const role = roleOf(request);
    if (role === undefined) return sendHtml(reply, 401, renderLogin(undefined));
    const view = await collectView(deps, role, now(), params.range ?? 'hour');
    if (params.retried !== undefined) view.notice = { kind: 'ok', text: `Job ${params.retried} is queued again.` };
    else if (params.error !== undefined) view.notice = { kind: 'error', text: params.error };
    return sendHtml(reply, 200, renderDashboard(view));
  });

  app.post('/dashboard/login', { schema: { hide: true } }, async (request, reply) => {
    const form = LoginFormSchema.safeParse(request.body);
    if (!form.success) return sendHtml(reply, 400, renderLogin('Enter a token.'));
    const role = roleOfToken(auth, `Bearer ${form.data.token}`);
    if (role === undefined) return sendHtml(reply, 401, renderLogin('That token is not valid.'));
    return session.signIn(request, reply, role);
  });

  app.get('/dashboard/sign-in', { schema: { hide: true } }, async (request, reply) => {
    const query = SignInCodeQuerySchema.safeParse(request.query);
    const signedIn = query.success ? await session.redeem(request, reply, query.data.code) : false;
    return signedIn === false ? sendHtml(reply, 401, renderLogin('That sign-in link was used already or has expired.')) : signedIn;
  });

  app.post('/dashboard/logout', { schema: { hide: true } }, async (request, reply) => session.signOut(request, reply));

  const pages = pageContext(deps, now, roleOf, session);
  if (deps.contacts) registerContactRoutes(app, { ...pages, deps: deps.contacts, deadLetters: deps.deadLetters });
  registerConnectionRoutes(app, { ...pages, connections: deps.locationConnections });

  app.post('/dashboard/retry', { schema: { hide: true } }, async (request, reply) => {
    const role = session.knownRole(request);
    if (role === undefined) return sendHtml(reply, 401, renderLogin('Sign in again.'));
    if (role !== 'admin' || !deps.adminToken) return sendHtml(reply, 403, renderMessage('Forbidden', 'Only the admin token may retry jobs.'));
    const form = RetryFormSchema.safeParse(request.body);
    if (!form.success) return sendHtml(reply, 400, renderMessage('Bad request', 'The retry form names no known queue and job.'));
    const { id, queue } = form.data;
    const answer = await app.inject({
      method: 'POST',
      url: `/admin/jobs/${encodeURIComponent(id)}/retry?queue=${encodeURIComponent(queue)}`,
      headers: { authorization: `Bearer ${deps.adminToken}` },
    });
    const location =
      answer.statusCode === 200
        ? `/dashboard?retried=${encodeURIComponent(id)}`
        : `/dashboard?error=${encodeURIComponent(`Retry of job ${id} failed: ${retryError(answer.body, answer.statusCode)}`.slice(0, 300))}`;
    request.log.info({ queue, jobId: id, status: answer.statusCode }, 'dashboard retry');
    return reply.code(303).header('location', location).send();
  });
}

function pageContext(deps: DashboardDeps, now: () => number, roleOf: (request: FastifyRequest) => AdminRole | undefined, session: DashboardSessionAuth): DashboardPageContext {
  return {
    locations: deps.servedLocations ?? (async () => deps.locations),
    adminToken: deps.adminToken,
    now,
    roleOf,
    sessionRoleOf: (request) => session.knownRole(request),
    sendHtml,
    unauthorized: (reply) => sendHtml(reply, 401, renderLogin(undefined)),
    forbidden: (reply, message) => sendHtml(reply, 403, renderMessage('Forbidden', message)),
    badRequest: (reply, message) => sendHtml(reply, 400, renderMessage('Bad request', message)),
  };
}

function retryError(body: string, status: number): string {
  try {
    const parsed = RetryReplySchema.safeParse(JSON.parse(body));
    if (parsed.success && parsed.data.message) return parsed.data.message;
  } catch {
    // Not JSON: say the status only.
  }
  return `HTTP ${status}`;
}

/** Reads everything the page shows, in parallel. */
export async function collectView(deps: DashboardDeps, role: AdminRole, at: number, range: SeriesRange = 'hour'): Promise<DashboardView> {
  const queueNames = Object.keys(deps.queues).filter((name): name is QueueName => name in deps.queues);
  const locations = deps.servedLocations ? await deps.servedLocations() : deps.locations;
  const [queues, failed, deadLetterTotal, deadLetterEntries, syncs, budgets, circuits, alerts, planned, points] = await Promise.all([
    Promise.all(queueNames.map((name) => queueRow(deps.queues[name], at))),
    Promise.all(SOURCE_QUEUES.map(async (name) => (await deps.queues[name].getJobs(['failed'], 0, LIST_LIMIT - 1, false)).map((job) => failedRow(name, job)))),
    deps.deadLetters.count(),
    deps.deadLetters.list(LIST_LIMIT),
    deps.recentSyncs(RECENT_SYNCS),
    Promise.all(locations.map(async (locationId) => ({ locationId, ...(await deps.budgetUsage(locationId)) }))),
    Promise.all(deps.circuitSystems.map(async (system) => ({ system, status: await deps.circuitState(system) }))),
    deps.recentAlerts(LIST_LIMIT),
    deps.planned.list(LIST_LIMIT),
    deps.series?.read(range, at),
  ]);
  const connections = await Promise.all(locations.map(async (locationId) => (deps.connectionsOf ? deps.connectionsOf(locationId) : ['GHL'])));
  return {
    ...(points ? { charts: { range, points, deadLetters: deadLetterTotal } } : {}),
    locations: locations.map((locationId, index) => {
      const mine = syncs.filter((sync) => sync.locationId === locationId);
      return {
        locationId,
        connections: connections[index] ?? ['GHL'],
        budget: budgets.find((budget) => budget.locationId === locationId),
        lastSync: mine[0],
        failures: mine.filter((sync) => sync.outcome === 'failed').length,
      };
    }),
    role,
    generatedAt: at,
    refreshSeconds: deps.refreshSeconds ?? 30,
    queues,
    syncs,
    failed: failed.flat().sort((a, b) => (b.failedAt ?? 0) - (a.failedAt ?? 0)).slice(0, LIST_LIMIT),
    deadLetters: {
      total: deadLetterTotal,
      entries: deadLetterEntries.map((entry) => ({
        id: entry.id,
        queue: entry.queue,
        jobId: entry.jobId,
        name: entry.name,
        failedReason: entry.failedReason,
        attemptsMade: entry.attemptsMade,
        failedAt: entry.failedAt,
      })),
    },
    budgets,
    circuits,
    alerts,
    planned,
  };
}

async function queueRow(queue: DashboardQueue, at: number): Promise<QueueRow> {
  const [counts, completed] = await Promise.all([
    queue.getJobCounts('waiting', 'active', 'delayed', 'failed', 'prioritized', 'paused'),
    // Newest first; metrics would need every worker to enable them, the kept jobs are enough.
    queue.getJobs(['completed'], 0, THROUGHPUT_SAMPLE - 1, false),
  ]);
  return {
    name: queue.name,
    waiting: (counts.waiting ?? 0) + (counts.prioritized ?? 0) + (counts.paused ?? 0),
    active: counts.active ?? 0,
    delayed: counts.delayed ?? 0,
    failed: counts.failed ?? 0,
    completedLastMinute: completed.filter((job) => job.finishedOn !== undefined && job.finishedOn >= at - MINUTE_MS).length,
  };
}

const ContactRefSchema = z.looseObject({ contactId: z.string() });

function failedRow(queue: QueueName, job: Job): FailedJobRow {
  const ref = ContactRefSchema.safeParse(job.data);
  return {
    queue,
    id: String(job.id ?? ''),
    name: job.name,
    contactId: ref.success ? ref.data.contactId : null,
    attemptsMade: job.attemptsMade,
    failedReason: job.failedReason ?? '',
    failedAt: job.finishedOn ?? null,
  };
}

/** Inert dependencies, enough to register the routes for the OpenAPI document (src/http/openapi.ts). */
export function describeOnlyDashboardDeps(mapping: Mapping = DEFAULT_MAPPING): DashboardDeps {
  const unavailable = async (): Promise<never> => {
    throw new Error('describe-only dashboard dependencies');
  };
  const queue = (name: QueueName): DashboardQueue => ({ name, getJobCounts: async () => ({}), getJobs: async () => [] });
  const queues = z.record(QueueNameSchema, z.custom<DashboardQueue>()).parse(Object.fromEntries(ALL_QUEUES.map((name) => [name, queue(name)])));
  return {
    adminToken: undefined,
    viewerToken: undefined,
    sessions: { create: unavailable, find: unavailable, revoke: unavailable, createCode: unavailable, redeemCode: unavailable },
    queues,
    deadLetters: { count: async () => 0, list: async () => [] },
    planned: { list: async () => [] },
    recentSyncs: async () => [],
    locations: [],
    budgetUsage: unavailable,
    circuitSystems: [],
    circuitState: unavailable,
    recentAlerts: async () => [],
    contacts: {
      history: { syncs: async () => [], search: async () => [] },
      ledger: { view: async () => ({ notes: {}, tasks: {} }) },
      ghl: { getContact: unavailable, listNotes: unavailable, searchContacts: unavailable },
      fieldIds: { cached: async () => undefined },
      mapping,
    },
  };
}
