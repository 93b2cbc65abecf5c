/**
 * GET /dashboard/connections and its forms (admin only; the viewer gets 403): connect a location to
 * its own Trustpilot business unit or Opinion Stage account, or disconnect it. A page of its own, not
 * a form on the overview, because the overview reloads itself every 30 s and would wipe a half-typed
 * form. The forms are forwarded to PUT and DELETE /admin/locations/:id/trustpilot|opinionstage with
 * the admin token (admin-connections.ts), so validation, storage and logging have one implementation.
 * Secrets go into password fields, are never pre-filled or shown again (the page lists connections
 * masked), and are scrubbed from any error text sent back. CSRF as for every dashboard form
 * (dashboard.ts): the session cookie (SameSite=Strict) and an Origin of this host.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { CONNECTION_KINDS, ConnectionLocationIdSchema, type ConnectionKind, type MaskedOpinionStageConnection, type MaskedTrustpilotConnection } from '../../state/location-connections.js';
import { renderConnectionsPage, type ConnectionRow } from '../views/connections-page.js';
import type { DashboardPageContext } from './dashboard-page-context.js';

/** A location's own connections, secrets masked (null: it uses the environment's). */
export interface MaskedConnectionsReader {
  masked(locationId: string): Promise<{ trustpilot: MaskedTrustpilotConnection | null; opinionstage: MaskedOpinionStageConnection | null }>;
}

export interface ConnectionRouteContext extends DashboardPageContext {
  /** Undefined without ENCRYPTION_KEY: the page says so and offers no form. */
  connections: MaskedConnectionsReader | undefined;
}

const ONLY_ADMIN = 'Only the admin token may see and change location connections.';
const PAGE = '/dashboard/connections';
const KIND_LABEL: Record<ConnectionKind, string> = { trustpilot: 'Trustpilot', opinionstage: 'Opinion Stage' };

const PageQuerySchema = z.object({ locationId: z.string().max(128).optional(), ok: z.string().max(300).optional(), error: z.string().max(300).optional() });
const field = z.string().max(2_000).default('');
const TrustpilotFormSchema = z.object({ locationId: field, businessUnitId: field, apiKey: field, apiSecret: field, username: field, password: field, webhookSecret: field });
const OpinionStageFormSchema = z.object({ locationId: field, apiKey: field, itemIds: field, webhookSecret: field });
const RemoveFormSchema = z.object({ locationId: field, kind: z.enum(CONNECTION_KINDS) });
const AdminAnswerSchema = z.looseObject({ message: z.string().optional(), fields: z.array(z.looseObject({ path: z.string(), message: z.string() })).optional() });

export function registerConnectionRoutes(app: FastifyInstance, ctx: ConnectionRouteContext): void {
  const typed = app.withTypeProvider<ZodTypeProvider>();

  typed.get(PAGE, { schema: { hide: true, querystring: PageQuerySchema } }, async (request, reply) => {
    const role = ctx.roleOf(request);
    if (role === undefined) return ctx.unauthorized(reply);
    if (role !== 'admin') return ctx.forbidden(reply, ONLY_ADMIN);
    const { locationId, ok, error } = request.query;
    const rows: ConnectionRow[] = await Promise.all(
      (await ctx.locations()).map(async (id) => ({ locationId: id, ...(ctx.connections ? await ctx.connections.masked(id) : { trustpilot: null, opinionstage: null }) })),
    );
    const notice = ok !== undefined ? { kind: 'ok' as const, text: ok } : error !== undefined ? { kind: 'error' as const, text: error } : undefined;
    const view = { generatedAt: ctx.now(), editable: ctx.connections !== undefined, locations: rows, ...(notice ? { notice } : {}), ...(locationId ? { locationId } : {}) };
    return ctx.sendHtml(reply, 200, renderConnectionsPage(view));
  });

  /** The form came with an admin session; otherwise the answer is sent and false returned. */
  const adminForm = (request: FastifyRequest, reply: FastifyReply): boolean => {
    const role = ctx.sessionRoleOf(request);
    if (role === undefined) ctx.unauthorized(reply);
    else if (role !== 'admin' || !ctx.adminToken) ctx.forbidden(reply, ONLY_ADMIN);
    return role === 'admin' && ctx.adminToken !== undefined;
  };

  /** Sends the change to the admin API and goes back to the page with its outcome. */
  async function forward(request: FastifyRequest, reply: FastifyReply, change: { kind: ConnectionKind; locationId: string; body?: Record<string, unknown>; secrets: string[] }) {
    const { kind, locationId, body, secrets } = change;
    const action = body === undefined ? `Disconnecting location ${locationId} from its own ${KIND_LABEL[kind]}` : `Connecting location ${locationId} to its own ${KIND_LABEL[kind]}`;
    if (!ConnectionLocationIdSchema.safeParse(locationId).success) return back(reply, { error: `${action} failed: expected a GHL location id.` });
    const answer = await app.inject({
      method: body === undefined ? 'DELETE' : 'PUT',
      url: `/admin/locations/${encodeURIComponent(locationId)}/${kind}`,
      headers: { authorization: `Bearer ${ctx.adminToken ?? ''}` },
      ...(body === undefined ? {} : { payload: body }),
    });
    request.log.info({ locationId, kind, status: answer.statusCode }, 'dashboard location connection');
    if (answer.statusCode === 200) {
      const done = body === undefined ? `Location ${locationId} now uses the environment's ${KIND_LABEL[kind]} settings.` : `Location ${locationId} now uses its own ${KIND_LABEL[kind]}; its webhook URL: /webhooks/${kind}?location=${locationId}`;
      return back(reply, { ok: done });
    }
    return back(reply, { error: `${action} failed: ${scrub(adminMessage(answer.body, answer.statusCode), secrets)}` });
  }

  typed.post(`${PAGE}/trustpilot`, { schema: { hide: true } }, async (request, reply) => {
    if (!adminForm(request, reply)) return reply;
    const form = TrustpilotFormSchema.safeParse(request.body ?? {});
    if (!form.success) return back(reply, { error: 'The Trustpilot form was not readable.' });
    const { locationId, webhookSecret, ...rest } = form.data;
    const body = { ...rest, ...(webhookSecret === '' ? {} : { webhookSecret }) };
    return forward(request, reply, { kind: 'trustpilot', locationId, body, secrets: [rest.apiKey, rest.apiSecret, rest.password, webhookSecret] });
  });

  typed.post(`${PAGE}/opinionstage`, { schema: { hide: true } }, async (request, reply) => {
    if (!adminForm(request, reply)) return reply;
    const form = OpinionStageFormSchema.safeParse(request.body ?? {});
    if (!form.success) return back(reply, { error: 'The Opinion Stage form was not readable.' });
    const { locationId, apiKey, itemIds, webhookSecret } = form.data;
    const body = { apiKey, itemIds: itemIds.split(/[\s,]+/).filter((id) => id.length > 0), webhookSecret };
    return forward(request, reply, { kind: 'opinionstage', locationId, body, secrets: [apiKey, webhookSecret] });
  });

  typed.post(`${PAGE}/remove`, { schema: { hide: true } }, async (request, reply) => {
    if (!adminForm(request, reply)) return reply;
    const form = RemoveFormSchema.safeParse(request.body ?? {});
    if (!form.success) return back(reply, { error: 'The form names no location connection.' });
    return forward(request, reply, { kind: form.data.kind, locationId: form.data.locationId, secrets: [] });
  });
}

function back(reply: FastifyReply, notice: { ok: string } | { error: string }): FastifyReply {
  const [name, text] = 'ok' in notice ? ['ok', notice.ok] : ['error', notice.error];
  return reply.code(303).header('location', `${PAGE}?${name}=${encodeURIComponent(text.slice(0, 300))}`).send();
}

function adminMessage(body: string, status: number): string {
  try {
    const parsed = AdminAnswerSchema.safeParse(JSON.parse(body));
    const fields = parsed.data?.fields ?? [];
    // A validation error names each field that failed (the values typed are never in it).
    if (fields.length > 0) return fields.map((field) => `${field.path}: ${field.message}`).join('; ');
    if (parsed.data?.message) return parsed.data.message;
  } catch {
    // Not JSON: say the status only.
  }
  return `HTTP ${status}`;
}

/** An error text never carries back a secret that was typed (long enough to be one). */
function scrub(text: string, secrets: string[]): string {
  return secrets.filter((secret) => secret.length >= 4).reduce((scrubbed, secret) => scrubbed.split(secret).join('[secret]'), text);
}
