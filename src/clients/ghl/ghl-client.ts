/**
 * Typed client for the GHL Contacts API (Version 2021-07-28) and location custom fields, built on
 * the shared transport. Every call names its location: that picks the token and the rate budget.
 * One refresh-and-retry on 401 lives here; every other retry is BullMQ's.
 */
import type { Dispatcher } from 'undici';
import type { z } from 'zod';
import { createHttpTransport, retryAfterMs, type HttpRequest, type HttpResponse, type ResponseObserver } from '../http/transport.js';
import { UpstreamError } from '../http/upstream-error.js';
import { GhlApiError, saysNotFound } from './ghl-api-error.js';
import { GhlClientError } from './ghl-client-error.js';
import { readRateLimitHeaders, type GhlRateLimitHeaders } from './rate-limit-headers.js';
import {
  AppointmentListResponseSchema,
  CompleteTaskBodySchema,
  ContactEnvelopeSchema,
  ContactListResponseSchema,
  ContactSearchResponseSchema,
  ContactsByBusinessQuerySchema,
  CreateContactBodySchema,
  CreateCustomFieldBodySchema,
  CreateNoteBodySchema,
  CreateTaskBodySchema,
  CustomFieldEnvelopeSchema,
  CustomFieldListResponseSchema,
  DeleteResponseSchema,
  ListContactsQuerySchema,
  NoteEnvelopeSchema,
  NoteListResponseSchema,
  SearchContactsBodySchema,
  TagsBodySchema,
  TagsResponseSchema,
  TaskEnvelopeSchema,
  TaskListResponseSchema,
  UpdateContactBodySchema,
  UpdateNoteBodySchema,
  UpdateTaskBodySchema,
  UpsertContactBodySchema,
  UpsertContactResponseSchema,
  type Appointment,
  type Contact,
  type ContactsByBusinessQuery,
  type CreateContactInput,
  type CreateCustomFieldInput,
  type CreateNoteBody,
  type CreateTaskInput,
  type CustomFieldDefinition,
  type CustomFieldModel,
  type ListContactsQuery,
  type Note,
  type SearchContactsInput,
  type Task,
  type UpdateContactBody,
  type UpdateNoteBody,
  type UpdateTaskBody,
  type UpsertContactInput,
} from './schemas.js';
import type { GhlTokenProvider } from './token-provider.js';

export interface GhlClientOptions {
  /** e.g. https://services.leadconnectorhq.com */
  baseUrl: string;
  /** `Version` header, e.g. 2021-07-28. */
  version: string;
  timeoutMs: number;
  tokens: GhlTokenProvider;
  dispatcher?: Dispatcher;
  observe?: ResponseObserver;
  /** Called after each response that carries X-RateLimit-* headers (errors included). Must not throw. */
  onRateLimitHeaders?: (locationId: string, info: GhlRateLimitHeaders) => void;
  /** The per-location call budget shared by every worker (ghl-budget.ts); none: calls are not limited here. */
  budget?: GhlCallBudget;
}

/** What the client asks of a call budget; ghl-budget.ts builds the shared Redis one. */
export interface GhlCallBudget {
  /**
   * Before every request, the retry after a token refresh included: resolves when a call is granted,
   * possibly with a function to call once the answer is in (or the call failed); throws
   * RateBudgetExceededError when the location's budget is spent (passed on unchanged).
   */
  take(locationId: string): Promise<(() => Promise<void>) | void>;
  /** After every other response that carries X-RateLimit-* headers. Must not reject. */
  onHeaders(locationId: string, info: GhlRateLimitHeaders): Promise<void>;
  /**
   * After a 429, with or without headers (GHL does not document them): no call for the location for
   * `waitMs` (Retry-After, else GHL's interval header; undefined when GHL sent neither). Must not reject.
   */
  onRateLimited(locationId: string, waitMs: number | undefined, info: GhlRateLimitHeaders | undefined): Promise<void>;
}

/** A plain list answer (tasks, notes, appointments, custom fields): GHL does not page these. */
export interface ItemList<T> {
  items: T[];
}

/** Where GET /contacts/ continues: the last contact's id and its dateAdded in epoch ms. */
export interface ContactListCursor {
  startAfterId: string;
  startAfter?: number;
}

/** GET /contacts/ page. `nextCursor` is absent on the last page (a page shorter than the limit). */
export interface ContactPage {
  items: Contact[];
  total?: number;
  nextCursor?: ContactListCursor;
}

/** Where a search page's next cursor was: on its last contact, beside the contacts, or nowhere. */
export type SearchCursorShape = 'contact' | 'response' | 'none';

/** POST /contacts/search page. `nextSearchAfter` is absent on the last page. */
export interface ContactSearchPage {
  items: Contact[];
  total?: number;
  nextSearchAfter?: (string | number)[];
  /** Which of the two cursor shapes GHL used on this page (its search guide leaves it open). */
  cursorShape: SearchCursorShape;
}

/** GET /contacts/business/{id} page (offset paging with `skip`). */
export interface ContactsByBusinessPage {
  items: Contact[];
  total?: number;
}

export interface UpsertContactResult {
  contact: Contact;
  /** GHL's `new`: true when the upsert created the contact. */
  created: boolean;
}

/** A custom-field value to write: text/select → string, numeric → number, checkbox/multi-select → string[]. */
export interface ContactFieldValue {
  id: string;
  value: string | number | string[];
}

export interface GhlClient {
  /** GET /contacts/{contactId} (get-contact). */
  getContact(locationId: string, contactId: string): Promise<Contact>;
  /** PUT /contacts/{contactId} (update-contact); `tags` in the body replaces all tags. */
  updateContact(locationId: string, contactId: string, patch: UpdateContactBody): Promise<Contact>;
  /** PUT /contacts/{contactId} with `{ customFields: [{ id, field_value }] }` (update-contact, v2 custom-field shape). */
  updateContactFields(locationId: string, contactId: string, fields: ContactFieldValue[]): Promise<Contact>;
  /** DELETE /contacts/{contactId} (delete-contact); resolves to GHL's `succeded`. */
  deleteContact(locationId: string, contactId: string): Promise<boolean>;
  /** GET /contacts/ (get-contacts, deprecated) with startAfterId / startAfter / limit / query. */
  listContacts(locationId: string, query?: ListContactsQuery): Promise<ContactPage>;
  /** POST /contacts/ (create-contact). */
  createContact(locationId: string, input: CreateContactInput): Promise<Contact>;
  /** POST /contacts/upsert (upsert-contact); duplicate matching follows the location's settings. */
  upsertContact(locationId: string, input: UpsertContactInput): Promise<UpsertContactResult>;
  /** POST /contacts/search (search-contacts-advanced). */
  searchContacts(locationId: string, input: SearchContactsInput): Promise<ContactSearchPage>;
  /** GET /contacts/business/{businessId} (get-contacts-by-businessId). */
  getContactsByBusiness(locationId: string, businessId: string, query?: ContactsByBusinessQuery): Promise<ContactsByBusinessPage>;
  /** GET /contacts/{contactId}/tasks (get-all-tasks). */
  listTasks(locationId: string, contactId: string): Promise<ItemList<Task>>;
  /** POST /contacts/{contactId}/tasks (create-task); `completed` defaults to false. */
  createTask(locationId: string, contactId: string, input: CreateTaskInput): Promise<Task>;
  /** GET /contacts/{contactId}/tasks/{taskId} (get-task). */
  getTask(locationId: string, contactId: string, taskId: string): Promise<Task>;
  /** PUT /contacts/{contactId}/tasks/{taskId} (update-task). */
  updateTask(locationId: string, contactId: string, taskId: string, patch: UpdateTaskBody): Promise<Task>;
  /** PUT /contacts/{contactId}/tasks/{taskId}/completed (update-task-completed). */
  completeTask(locationId: string, contactId: string, taskId: string, completed?: boolean): Promise<Task>;
  /** DELETE /contacts/{contactId}/tasks/{taskId} (delete-task); resolves to GHL's `succeded`. */
  deleteTask(locationId: string, contactId: string, taskId: string): Promise<boolean>;
  /** GET /contacts/{contactId}/notes (get-all-notes). */
  listNotes(locationId: string, contactId: string): Promise<ItemList<Note>>;
  /** GET /contacts/{contactId}/notes/{id} (get-note). */
  getNote(locationId: string, contactId: string, noteId: string): Promise<Note>;
  /** POST /contacts/{contactId}/notes (create-note). */
  createNote(locationId: string, contactId: string, input: CreateNoteBody): Promise<Note>;
  /** PUT /contacts/{contactId}/notes/{id} (update-note). */
  updateNote(locationId: string, contactId: string, noteId: string, patch: UpdateNoteBody): Promise<Note>;
  /** DELETE /contacts/{contactId}/notes/{id} (delete-note); resolves to GHL's `succeded`. */
  deleteNote(locationId: string, contactId: string, noteId: string): Promise<boolean>;
  /** GET /contacts/{contactId}/appointments (get-appointments-for-contact). */
  listAppointments(locationId: string, contactId: string): Promise<ItemList<Appointment>>;
  /** POST /contacts/{contactId}/tags (add-tags); resolves to the tags GHL reports. */
  addTags(locationId: string, contactId: string, tags: string[]): Promise<string[]>;
  /** DELETE /contacts/{contactId}/tags with a JSON body (remove-tags); resolves to the tags GHL reports. */
  removeTags(locationId: string, contactId: string, tags: string[]): Promise<string[]>;
  /** GET /locations/{locationId}/customFields?model=contact (locations.json). */
  listCustomFields(locationId: string, model?: CustomFieldModel | 'all'): Promise<ItemList<CustomFieldDefinition>>;
  /** POST /locations/{locationId}/customFields (locations.json). */
  createCustomField(locationId: string, input: CreateCustomFieldInput): Promise<CustomFieldDefinition>;
  close(): Promise<void>;
}

const DEFAULT_LIST_LIMIT = 20; // GET /contacts/ default page size per the spec

export function createGhlClient(options: GhlClientOptions): GhlClient {
  const transport = createHttpTransport({
    system: 'ghl',
    baseUrl: options.baseUrl,
    timeoutMs: options.timeoutMs,
    requestIdOf: traceIdOf,
    observe: options.observe,
    dispatcher: options.dispatcher,
  });

  const budget = options.budget;

  async function exchange(locationId: string, req: HttpRequest, token: string): Promise<HttpResponse> {
    // A refusal throws before anything is sent; the job waits for the budget, no attempt burnt.
    const settle = await budget?.take(locationId);
    let response: HttpResponse;
    try {
      response = await transport.send({
        ...req,
        headers: { authorization: `Bearer ${token}`, version: options.version },
      });
    } finally {
      await settle?.();
    }
    const rateLimit = readRateLimitHeaders(response.headers);
    if (rateLimit !== undefined) options.onRateLimitHeaders?.(locationId, rateLimit);
    // Awaited, so a block is in Redis before this job's own wait starts; advisory, so a failure here
    // never turns a done write into a retried one.
    if (response.status === 429) await budget?.onRateLimited(locationId, waitAfter429(response.headers), rateLimit).catch(() => undefined);
    else if (rateLimit !== undefined) await budget?.onHeaders(locationId, rateLimit).catch(() => undefined);
    return response;
  }

  /** One call: token, exchange, one refresh-and-retry on 401, status check, schema check. */
  async function call<T>(locationId: string, req: HttpRequest, schema: z.ZodType<T>): Promise<T> {
    const token = await options.tokens.tokenFor(locationId);
    const tokens = [token];
    let response = await exchange(locationId, req, token);
    if (response.status === 401) {
      const fresh = await options.tokens.refresh(locationId, token);
      if (fresh !== undefined) {
        tokens.push(fresh);
        response = await exchange(locationId, req, fresh);
      }
    }
    try {
      return transport.readJson(req, response, schema, { retryAfterMs: response.status === 429 ? waitAfter429 : retryAfterMs, secrets: tokens });
    } catch (error) {
      if (!(error instanceof UpstreamError) || error.code !== 'UPSTREAM_HTTP') throw error;
      throw new GhlApiError(error, saysNotFound(response.status, response.body));
    }
  }

  async function contactWrite(locationId: string, contactId: string, body: UpdateContactBody): Promise<Contact> {
    const { contact } = await call(
      locationId,
      { method: 'PUT', path: `/contacts/${segment(contactId)}`, json: checked(UpdateContactBodySchema, body, 'contact update') },
      ContactEnvelopeSchema,
    );
    return contact;
  }

  async function deleted(locationId: string, path: string): Promise<boolean> {
    const { succeded } = await call(locationId, { method: 'DELETE', path }, DeleteResponseSchema);
    return succeded ?? true;
  }

  const taskPath = (contactId: string, taskId?: string) =>
    `/contacts/${segment(contactId)}/tasks${taskId === undefined ? '' : `/${segment(taskId)}`}`;
  const notePath = (contactId: string, noteId?: string) =>
    `/contacts/${segment(contactId)}/notes${noteId === undefined ? '' : `/${segment(noteId)}`}`;

  return {
    async getContact(locationId, contactId) {
      const { contact } = await call(locationId, { method: 'GET', path: `/contacts/${segment(contactId)}` }, ContactEnvelopeSchema);
      return contact;
    },

    updateContact: contactWrite,

    async updateContactFields(locationId, contactId, fields) {
      return contactWrite(locationId, contactId, { customFields: fields.map(({ id, value }) => ({ id, field_value: value })) });
    },

    async deleteContact(locationId, contactId) {
      return deleted(locationId, `/contacts/${segment(contactId)}`);
    },

    async listContacts(locationId, query = {}) {
      const params = checked(ListContactsQuerySchema, query, 'contact list query');
      const answer = await call(locationId, { method: 'GET', path: '/contacts/', query: { locationId, ...params } }, ContactListResponseSchema);
      const items = answer.contacts;
      const total = answer.meta?.total ?? answer.count ?? undefined;
      const last = items.at(-1);
      // A short page is the last one; the meta block (undocumented) is preferred when present.
      if (last === undefined || items.length < (params.limit ?? DEFAULT_LIST_LIMIT)) return { items, total };
      const startAfterId = answer.meta?.startAfterId ?? last.id;
      const startAfter = answer.meta?.startAfter ?? epochMs(last.dateAdded);
      return { items, total, nextCursor: startAfter === undefined ? { startAfterId } : { startAfterId, startAfter } };
    },

    async createContact(locationId, input) {
      const body = checked(CreateContactBodySchema, { ...input, locationId }, 'contact create');
      const { contact } = await call(locationId, { method: 'POST', path: '/contacts/', json: body }, ContactEnvelopeSchema);
      return contact;
    },

    async upsertContact(locationId, input) {
      const body = checked(UpsertContactBodySchema, { ...input, locationId }, 'contact upsert');
      const answer = await call(locationId, { method: 'POST', path: '/contacts/upsert', json: body }, UpsertContactResponseSchema);
      return { contact: answer.contact, created: answer.new === true };
    },

    async searchContacts(locationId, input) {
      const body = checked(SearchContactsBodySchema, { ...input, locationId }, 'contact search');
      const answer = await call(locationId, { method: 'POST', path: '/contacts/search', json: body }, ContactSearchResponseSchema);
      const items = answer.contacts;
      const total = answer.total ?? undefined;
      const onContact = items.at(-1)?.searchAfter ?? undefined;
      const beside = answer.searchAfter ?? undefined;
      const cursorShape: SearchCursorShape = onContact !== undefined ? 'contact' : beside !== undefined ? 'response' : 'none';
      // A short page is the last one, whatever cursor came with it.
      const nextSearchAfter = items.length < body.pageLimit ? undefined : (onContact ?? beside);
      return nextSearchAfter === undefined ? { items, total, cursorShape } : { items, total, nextSearchAfter, cursorShape };
    },

    async getContactsByBusiness(locationId, businessId, query = {}) {
      const params = checked(ContactsByBusinessQuerySchema, query, 'contacts-by-business query');
      const answer = await call(
        locationId,
        { method: 'GET', path: `/contacts/business/${segment(businessId)}`, query: { locationId, ...params } },
        ContactListResponseSchema,
      );
      return { items: answer.contacts, total: answer.count ?? undefined };
    },

    async listTasks(locationId, contactId) {
      const { tasks } = await call(locationId, { method: 'GET', path: taskPath(contactId) }, TaskListResponseSchema);
      return { items: tasks };
    },

    async createTask(locationId, contactId, input) {
      const body = checked(CreateTaskBodySchema, input, 'task create');
      const { task } = await call(locationId, { method: 'POST', path: taskPath(contactId), json: body }, TaskEnvelopeSchema);
      return task;
    },

    async getTask(locationId, contactId, taskId) {
      const { task } = await call(locationId, { method: 'GET', path: taskPath(contactId, taskId) }, TaskEnvelopeSchema);
      return task;
    },

    async updateTask(locationId, contactId, taskId, patch) {
      const body = checked(UpdateTaskBodySchema, patch, 'task update');
      const { task } = await call(locationId, { method: 'PUT', path: taskPath(contactId, taskId), json: body }, TaskEnvelopeSchema);
      return task;
    },

    async completeTask(locationId, contactId, taskId, completed = true) {
      const body = checked(CompleteTaskBodySchema, { completed }, 'task completion');
      const path = `${taskPath(contactId, taskId)}/completed`;
      const { task } = await call(locationId, { method: 'PUT', path, json: body }, TaskEnvelopeSchema);
      return task;
    },

    async deleteTask(locationId, contactId, taskId) {
      return deleted(locationId, taskPath(contactId, taskId));
    },

    async listNotes(locationId, contactId) {
      const { notes } = await call(locationId, { method: 'GET', path: notePath(contactId) }, NoteListResponseSchema);
      return { items: notes };
    },

    async getNote(locationId, contactId, noteId) {
      const { note } = await call(locationId, { method: 'GET', path: notePath(contactId, noteId) }, NoteEnvelopeSchema);
      return note;
    },

    async createNote(locationId, contactId, input) {
      const body = checked(CreateNoteBodySchema, input, 'note create');
      const { note } = await call(locationId, { method: 'POST', path: notePath(contactId), json: body }, NoteEnvelopeSchema);
      return note;
    },

    async updateNote(locationId, contactId, noteId, patch) {
      const body = checked(UpdateNoteBodySchema, patch, 'note update');
      const { note } = await call(locationId, { method: 'PUT', path: notePath(contactId, noteId), json: body }, NoteEnvelopeSchema);
      return note;
    },

    async deleteNote(locationId, contactId, noteId) {
      return deleted(locationId, notePath(contactId, noteId));
    },

    async listAppointments(locationId, contactId) {
      const path = `/contacts/${segment(contactId)}/appointments`;
      const { events } = await call(locationId, { method: 'GET', path }, AppointmentListResponseSchema);
      return { items: events };
    },

    async addTags(locationId, contactId, tags) {
      const body = checked(TagsBodySchema, { tags }, 'tags');
      const answer = await call(locationId, { method: 'POST', path: `/contacts/${segment(contactId)}/tags`, json: body }, TagsResponseSchema);
      return answer.tags;
    },

    async removeTags(locationId, contactId, tags) {
      const body = checked(TagsBodySchema, { tags }, 'tags');
      const answer = await call(locationId, { method: 'DELETE', path: `/contacts/${segment(contactId)}/tags`, json: body }, TagsResponseSchema);
      return answer.tags;
    },

    async listCustomFields(locationId, model = 'contact') {
      const path = `/locations/${segment(locationId)}/customFields`;
      const { customFields } = await call(locationId, { method: 'GET', path, query: { model } }, CustomFieldListResponseSchema);
      return { items: customFields };
    },

    async createCustomField(locationId, input) {
      const body = checked(CreateCustomFieldBodySchema, input, 'custom field create');
      const path = `/locations/${segment(locationId)}/customFields`;
      const { customField } = await call(locationId, { method: 'POST', path, json: body }, CustomFieldEnvelopeSchema);
      return customField;
    },

    async close() {
      await transport.close();
    },
  };
}

/** GHL puts a `traceId` in every JSON body; it is what their support asks for. */
function traceIdOf(_headers: Record<string, string>, body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null || !('traceId' in body)) return undefined;
  return typeof body.traceId === 'string' ? body.traceId : undefined;
}

/** Retry-After when GHL sends one, else a whole burst window (the headers give no reset time). */
function waitAfter429(headers: Record<string, string>): number | undefined {
  return retryAfterMs(headers) ?? readRateLimitHeaders(headers)?.intervalMs;
}

/** Validates what we send; a mismatch is our bug and must not reach GHL. */
function checked<S extends z.ZodType>(schema: S, value: z.input<S>, what: string): z.output<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues
    .slice(0, 5)
    .map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`)
    .join('; ');
  throw new GhlClientError('GHL_INVALID_REQUEST', `invalid GHL ${what}: ${issues}`);
}

/** Encodes one path segment; '.' and '..' would be resolved away by URL parsing, so they are refused. */
function segment(id: string): string {
  if (id === '' || id === '.' || id === '..') throw new GhlClientError('GHL_INVALID_ID', `invalid GHL id ${JSON.stringify(id)}`);
  return encodeURIComponent(id);
}

function epochMs(date: string | null | undefined): number | undefined {
  if (date === undefined || date === null) return undefined;
  const ms = Date.parse(date);
  return Number.isNaN(ms) ? undefined : ms;
}
