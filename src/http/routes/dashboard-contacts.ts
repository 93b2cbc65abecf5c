/**
 * The dashboard's contact pages: search (the bridge's own sync records first; for an admin, when they
 * have no match, one GHL search call in one served location, taken from that location's budget),
 * one contact's page (HTML, or JSON with `Accept: application/json`),
 * and its admin actions: "sync now", "plan a dry run" and replaying a dead letter. The actions are
 * forwarded to the admin API with the admin token, so each has one implementation.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { GhlClient } from '../../clients/ghl/ghl-client.js';
import { mappedFieldKeys, type Mapping } from '../../config/mapping.js';
import type { DeadLetters } from '../../queue/dead-letters.js';
import type { ContactHistory } from '../../state/contact-history.js';
import type { CustomFieldIds } from '../../state/custom-field-ids.js';
import type { WriteLedger } from '../../state/write-ledger.js';
import type { AdminRole } from '../plugins/admin-auth.js';
import { renderContactPage, renderSearch, type ContactNow, type ContactPageView, type SearchView, type SyncResult } from '../views/contact-page.js';
import { contactHref } from '../views/html.js';
import type { DashboardPageContext } from './dashboard-page-context.js';

export interface ContactPageDeps {
  history: Pick<ContactHistory, 'syncs' | 'search'>;
  ledger: Pick<WriteLedger, 'view'>;
  ghl: Pick<GhlClient, 'getContact' | 'listNotes' | 'searchContacts'>;
  fieldIds: Pick<CustomFieldIds, 'cached'>;
  mapping: Mapping;
  /** GHL's web app, for "open in GHL" links. */
  ghlAppUrl?: string;
}

export interface ContactRouteContext extends DashboardPageContext {
  deps: ContactPageDeps;
  deadLetters: Pick<DeadLetters, 'list'>;
}

const GhlIdSchema = z.string().regex(/^[A-Za-z0-9_-]{1,128}$/, 'expected a GHL id');
const ContactParamsSchema = z.object({ contactId: GhlIdSchema });
const ContactQuerySchema = z.object({
  locationId: GhlIdSchema,
  replayed: z.string().max(300).optional(),
  error: z.string().max(300).optional(),
});
const SearchQuerySchema = z.object({ q: z.string().trim().min(1).max(200), locationId: GhlIdSchema.optional() });
const SyncFormSchema = z.object({ locationId: GhlIdSchema, dryRun: z.enum(['true', 'false']).default('false') });
const ReplayFormSchema = z.object({ locationId: GhlIdSchema, id: z.string().min(1).max(300) });
const SyncAnswerSchema = z.looseObject({
  outcome: z.string().optional(),
  writes: z.number().optional(),
  plan: z.array(z.looseObject({ kind: z.string(), reason: z.string() })).optional(),
  message: z.string().optional(),
});
const DEFAULT_GHL_APP = 'https://app.gohighlevel.com';
const DEAD_LETTER_SCAN = 500;
const GHL_SEARCH_LIMIT = 10;

function stringOf(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** The contact as GHL holds it now (one call), with the mapped fields by key. */
async function readContact(deps: ContactPageDeps, locationId: string, contactId: string): Promise<ContactNow | { error: string }> {
  try {
    const [contact, ids] = await Promise.all([deps.ghl.getContact(locationId, contactId), deps.fieldIds.cached(locationId)]);
    const values = new Map((contact.customFields ?? []).map((field) => [field.id, field.value]));
    const name = stringOf(contact.name) ?? ([contact.firstName, contact.lastName].filter(Boolean).join(' ') || undefined);
    return {
      ...(name ? { name } : {}),
      ...(stringOf(contact.email) ? { email: String(contact.email) } : {}),
      ...(stringOf(contact.phone) ? { phone: String(contact.phone) } : {}),
      tags: contact.tags ?? [],
      fields: mappedFieldKeys(deps.mapping).map((key) => {
        const id = ids?.[key];
        return { key, value: id === undefined ? undefined : values.get(id) };
      }),
    };
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) };
  }
}

/** The notes the ledger names, with their text in GHL now (one call); undefined text: not found there. */
async function readNotes(deps: ContactPageDeps, locationId: string, contactId: string, ledger: Record<string, { noteId: string }>): Promise<ContactPageView['notes']> {
  const entries = Object.entries(ledger);
  if (entries.length === 0) return [];
  let bodies: Map<string, string> | undefined;
  try {
    bodies = new Map((await deps.ghl.listNotes(locationId, contactId)).items.map((note) => [note.id, note.body ?? '']));
  } catch {
    bodies = undefined;
  }
  return entries.map(([sourceKey, entry]) => ({ sourceKey, noteId: entry.noteId, body: bodies ? bodies.get(entry.noteId) : '(GHL could not be read)' }));
}

export async function collectContactView(ctx: ContactRouteContext, role: AdminRole, locationId: string, contactId: string): Promise<ContactPageView> {
  const { deps } = ctx;
  const [contact, ledger, syncs, deadLetters] = await Promise.all([
    readContact(deps, locationId, contactId),
    deps.ledger.view(locationId, contactId),
    deps.history.syncs(locationId, contactId),
    ctx.deadLetters.list(DEAD_LETTER_SCAN),
  ]);
  const ref = z.looseObject({ locationId: z.string(), contactId: z.string() });
  return {
    role,
    generatedAt: ctx.now(),
    locationId,
    contactId,
    contact,
    ghlUrl: `${deps.ghlAppUrl ?? DEFAULT_GHL_APP}/v2/location/${encodeURIComponent(locationId)}/contacts/detail/${encodeURIComponent(contactId)}`,
    notes: await readNotes(deps, locationId, contactId, ledger.notes),
    tasks: Object.entries(ledger.tasks).map(([sourceKey, task]) => ({ sourceKey, ...task })),
    syncs,
    deadLetters: deadLetters
      .filter((entry) => {
        const data = ref.safeParse(entry.data);
        return data.success && data.data.contactId === contactId && data.data.locationId === locationId;
      })
      .map((entry) => ({ id: entry.id, queue: entry.queue, jobId: entry.jobId, name: entry.name, failedReason: entry.failedReason, attemptsMade: entry.attemptsMade, failedAt: entry.failedAt })),
  };
}

/**
 * The bridge's own records first; an admin whose search they cannot answer (a contact created since
 * its last sync, or never synced) gets one GHL search call, in the asked-for served location or the
 * first one, with links to search another. Asking for a location searches GHL even after a match.
 */
async function collectSearch(ctx: ContactRouteContext, role: AdminRole, query: string, asked: string | undefined): Promise<SearchView> {
  const [known, locations] = await Promise.all([ctx.deps.history.search(query), ctx.locations()]);
  const base = { role, generatedAt: ctx.now(), query, known };
  if (known.length > 0 && asked === undefined) return { ...base, ghl: { note: 'Found in the bridge\'s own records, so GHL was not searched.' }, otherLocations: role === 'admin' ? locations.slice(0, 20) : [] };
  if (role !== 'admin') return { ...base, ghl: { note: 'GHL is searched for the admin only.' }, otherLocations: [] };
  const locationId = asked ?? locations[0];
  if (locationId === undefined) return { ...base, ghl: { note: 'No location is served yet, so GHL cannot be searched.' }, otherLocations: [] };
  const otherLocations = locations.filter((other) => other !== locationId).slice(0, 20);
  if (!locations.includes(locationId)) return { ...base, ghl: { note: `Location ${locationId} is not served by this bridge.` }, otherLocations };
  try {
    const page = await ctx.deps.ghl.searchContacts(locationId, { query, pageLimit: GHL_SEARCH_LIMIT });
    const found = page.items.map((contact) => {
      const name = stringOf(contact.name) ?? ([contact.firstName, contact.lastName].filter(Boolean).join(' ') || undefined);
      return {
        contactId: contact.id,
        ...(name ? { name } : {}),
        ...(stringOf(contact.email) ? { email: String(contact.email) } : {}),
        ...(stringOf(contact.phone) ? { phone: String(contact.phone) } : {}),
      };
    });
    return { ...base, ghl: { locationId, found }, otherLocations };
  } catch (error) {
    return { ...base, ghl: { note: `GHL could not be searched in location ${locationId}: ${error instanceof Error ? error.message : String(error)}` }, otherLocations };
  }
}

const wantsJson = (request: FastifyRequest) => {
  const accept = request.headers.accept ?? '';
  return accept.includes('application/json') && !accept.includes('text/html');
};

/** Runs POST /admin/contacts/:id/sync for the form and returns the page with its result. */
async function syncFromForm(app: FastifyInstance, ctx: ContactRouteContext, contactId: string, locationId: string, dryRun: boolean): Promise<ContactPageView> {
  const answer = await app.inject({
    method: 'POST',
    url: `/admin/contacts/${encodeURIComponent(contactId)}/sync?locationId=${encodeURIComponent(locationId)}&dryRun=${dryRun}`,
    headers: { authorization: `Bearer ${ctx.adminToken ?? ''}` },
  });
  const parsed = SyncAnswerSchema.safeParse(parseJson(answer.body));
  const body = parsed.success ? parsed.data : {};
  const result: SyncResult =
    answer.statusCode === 200
      ? { dryRun, status: 200, ...(body.outcome ? { outcome: body.outcome } : {}), writes: body.writes ?? 0, ...(body.plan ? { plan: body.plan.map((step) => ({ kind: step.kind, reason: step.reason })) } : {}) }
      : { dryRun, status: answer.statusCode, error: body.message ?? `HTTP ${answer.statusCode}` };
  const view = await collectContactView(ctx, 'admin', locationId, contactId);
  view.result = result;
  return view;
}

export function registerContactRoutes(app: FastifyInstance, ctx: ContactRouteContext): void {
  const typed = app.withTypeProvider<ZodTypeProvider>();

  typed.get('/dashboard/search', { schema: { hide: true, querystring: SearchQuerySchema } }, async (request, reply) => {
    const role = ctx.roleOf(request);
    if (role === undefined) return ctx.unauthorized(reply);
    const view = await collectSearch(ctx, role, request.query.q, request.query.locationId);
    if (wantsJson(request)) return reply.send(view);
    return ctx.sendHtml(reply, 200, renderSearch(view));
  });

  typed.get(
    '/dashboard/contacts/:contactId',
    {
      schema: {
        tags: ['admin'],
        summary: 'One contact as the bridge knows it: fields and tags in GHL now, notes and tasks the bridge wrote, every sync, dead letters (viewer token; HTML, or JSON for `Accept: application/json`)',
        security: [{ bearerAuth: [] }],
        params: ContactParamsSchema,
        querystring: ContactQuerySchema,
      },
    },
    async (request, reply) => {
      const role = ctx.roleOf(request);
      if (role === undefined) return ctx.unauthorized(reply);
      const { locationId, replayed, error } = request.query;
      const view = await collectContactView(ctx, role, locationId, request.params.contactId);
      if (replayed !== undefined) view.notice = { kind: 'ok', text: `Dead letter ${replayed} is queued again.` };
      else if (error !== undefined) view.notice = { kind: 'error', text: error };
      if (wantsJson(request)) return reply.send(view);
      return ctx.sendHtml(reply, 200, renderContactPage(view));
    },
  );

  const adminForm = (request: FastifyRequest, reply: FastifyReply): boolean => {
    const role = ctx.sessionRoleOf(request);
    if (role === undefined) {
      ctx.unauthorized(reply);
      return false;
    }
    if (role !== 'admin' || !ctx.adminToken) {
      ctx.forbidden(reply, 'Only the admin token may sync contacts or replay dead letters.');
      return false;
    }
    return true;
  };

  typed.post('/dashboard/contacts/:contactId/sync', { schema: { hide: true, params: ContactParamsSchema } }, async (request, reply) => {
    if (!adminForm(request, reply)) return reply;
    const form = SyncFormSchema.safeParse(request.body);
    if (!form.success) return ctx.badRequest(reply, 'The form names no location.');
    const view = await syncFromForm(app, ctx, request.params.contactId, form.data.locationId, form.data.dryRun === 'true');
    request.log.info({ locationId: form.data.locationId, contactId: request.params.contactId, dryRun: form.data.dryRun, status: view.result?.status }, 'dashboard contact sync');
    return ctx.sendHtml(reply, 200, renderContactPage(view));
  });

  typed.post('/dashboard/contacts/:contactId/replay', { schema: { hide: true, params: ContactParamsSchema } }, async (request, reply) => {
    if (!adminForm(request, reply)) return reply;
    const form = ReplayFormSchema.safeParse(request.body);
    if (!form.success) return ctx.badRequest(reply, 'The form names no dead letter.');
    const { locationId, id } = form.data;
    const answer = await app.inject({ method: 'POST', url: '/admin/dead-letter/replay', headers: { authorization: `Bearer ${ctx.adminToken ?? ''}` }, payload: { ids: [id] } });
    const ok = answer.statusCode === 200 && z.looseObject({ replayed: z.number() }).safeParse(parseJson(answer.body)).data?.replayed === 1;
    const back = contactHref(locationId, request.params.contactId);
    const notice = ok ? `&replayed=${encodeURIComponent(id)}` : `&error=${encodeURIComponent(`Replay of ${id} failed (HTTP ${answer.statusCode}).`)}`;
    return reply.code(303).header('location', `${back}${notice}`).send();
  });
}
