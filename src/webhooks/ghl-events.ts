/**
 * The GHL marketplace webhook events the bridge accepts, as GHL's webhook-events reference describes them:
 * flat JSON with `type` and `locationId` at the top level beside the entity's own fields.
 *
 * GHL's own schemas mark no field as required, so we require only what an event is useless without:
 * `type`, `locationId` and the entity `id` (note events also `contactId`); install events need `locationId`
 * or `companyId` (agency installs carry no location). Everything else is optional, `null` is read as absent,
 * and unknown fields are kept (GHL adds fields: `appId`, `versionId`, `dndSettings.RCS`...).
 * Bounds on strings and arrays keep a hostile body from costing much.
 */
import { z } from 'zod';
import { acceptsAsIs } from './ghl-event-fast-path.js';

export const GHL_EVENT_TYPES = [
  'ContactCreate',
  'ContactUpdate',
  'ContactDelete',
  'ContactTagUpdate',
  'ContactDndUpdate',
  'NoteCreate',
  'NoteUpdate',
  'NoteDelete',
  'TaskCreate',
  'TaskComplete',
  'TaskDelete',
  'AppInstall',
  'AppUninstall',
] as const;
export type GhlEventType = (typeof GHL_EVENT_TYPES)[number];

export const GHL_CONTACT_EVENT_TYPES = ['ContactCreate', 'ContactUpdate', 'ContactDelete', 'ContactTagUpdate', 'ContactDndUpdate'] as const;
export const GHL_NOTE_EVENT_TYPES = ['NoteCreate', 'NoteUpdate', 'NoteDelete'] as const;
export const GHL_TASK_EVENT_TYPES = ['TaskCreate', 'TaskComplete', 'TaskDelete'] as const;
export const GHL_APP_EVENT_TYPES = ['AppInstall', 'AppUninstall'] as const;

/** On the wire install events say INSTALL/UNINSTALL in `type`, not their event names AppInstall/AppUninstall. */
const WIRE_TYPE_ALIASES: Readonly<Record<string, GhlEventType>> = { INSTALL: 'AppInstall', UNINSTALL: 'AppUninstall' };

export const MAX_ID_CHARS = 128;
export const MAX_TEXT_CHARS = 100_000;
export const MAX_SHORT_TEXT_CHARS = 2_048;
export const MAX_TAGS = 1_000;
export const MAX_CUSTOM_FIELDS = 1_000;
/** A `timestamp` more than 5 minutes in the future is refused (401 `TIMESTAMP_IN_FUTURE`). */
export const MAX_FUTURE_SKEW_MS = 5 * 60_000;
const MAX_ISSUES = 50;

/**
 * Ids end up in Redis keys and in upstream URL paths (`/contacts/{id}`), so only GHL's id alphabet is allowed.
 * GHL ids are 20-24 letters and digits; `_` and `-` leave room for uuids and sandbox ids.
 */
export const GhlIdSchema = z.string().regex(/^[A-Za-z0-9_-]{1,128}$/, `expected an id (1-${MAX_ID_CHARS} letters, digits, "_" or "-")`);
/** References we only carry (user, plan, app ids): bounded, not charset-checked. */
const RefSchema = z.string().max(MAX_ID_CHARS);
const ShortTextSchema = z.string().max(MAX_SHORT_TEXT_CHARS);
const TextSchema = z.string().max(MAX_TEXT_CHARS);
const DateTextSchema = z.string().max(64);

/** Optional and tolerant of `null` (read as absent). */
function optional<T extends z.ZodType>(schema: T) {
  return schema
    .nullish()
    .transform((value) => value ?? undefined)
    .optional();
}

const envelopeShape = {
  webhookId: optional(z.string().min(1).max(256)),
  timestamp: optional(DateTextSchema),
  appId: optional(RefSchema),
  versionId: optional(RefSchema),
};

export const GhlCustomFieldValueSchema = z.looseObject({
  id: GhlIdSchema,
  value: optional(
    z.union([
      TextSchema,
      z.number(),
      z.boolean(),
      z.array(z.unknown()).max(MAX_CUSTOM_FIELDS),
      z.record(z.string(), z.unknown()),
    ]),
  ),
});
export type GhlCustomFieldValue = z.infer<typeof GhlCustomFieldValueSchema>;

const contactShape = {
  ...envelopeShape,
  locationId: GhlIdSchema,
  id: GhlIdSchema,
  address1: optional(ShortTextSchema),
  city: optional(ShortTextSchema),
  state: optional(ShortTextSchema),
  companyName: optional(ShortTextSchema),
  country: optional(ShortTextSchema),
  source: optional(ShortTextSchema),
  dateAdded: optional(DateTextSchema),
  dateOfBirth: optional(DateTextSchema),
  dnd: optional(z.boolean()),
  email: optional(ShortTextSchema),
  name: optional(ShortTextSchema),
  firstName: optional(ShortTextSchema),
  lastName: optional(ShortTextSchema),
  phone: optional(ShortTextSchema),
  postalCode: optional(ShortTextSchema),
  tags: optional(z.array(ShortTextSchema).max(MAX_TAGS)),
  website: optional(ShortTextSchema),
  // Leftover in GHL's payload, never populated (ISSUE #324); bounded and otherwise ignored.
  attachments: optional(z.array(z.unknown()).max(MAX_TAGS)),
  assignedTo: optional(RefSchema),
  customFields: optional(z.array(GhlCustomFieldValueSchema).max(MAX_CUSTOM_FIELDS)),
};

/** One event type's schema: its fields, and `type` fixed to its name. */
function eventSchema<const T extends string, S extends z.ZodRawShape>(type: T, shape: S) {
  return z.looseObject({ ...shape, type: z.literal(type) });
}

const DndChannelSchema = z.looseObject({
  status: optional(ShortTextSchema),
  message: optional(ShortTextSchema),
  code: optional(ShortTextSchema),
});
// Real deliveries also carry channels the docs do not list (RCS, ISSUE #264): kept by the loose object.
const DndSettingsSchema = z.looseObject({
  SMS: optional(DndChannelSchema),
  Call: optional(DndChannelSchema),
  Email: optional(DndChannelSchema),
  GMB: optional(DndChannelSchema),
  FB: optional(DndChannelSchema),
  WhatsApp: optional(DndChannelSchema),
});

export const ContactCreateSchema = eventSchema('ContactCreate', contactShape);
export const ContactUpdateSchema = eventSchema('ContactUpdate', contactShape);
export const ContactDeleteSchema = eventSchema('ContactDelete', contactShape);
export const ContactTagUpdateSchema = eventSchema('ContactTagUpdate', contactShape);
export const ContactDndUpdateSchema = eventSchema('ContactDndUpdate', { ...contactShape, dndSettings: optional(DndSettingsSchema) });

const noteShape = {
  ...envelopeShape,
  locationId: GhlIdSchema,
  id: GhlIdSchema,
  contactId: GhlIdSchema,
  body: optional(TextSchema),
  dateAdded: optional(DateTextSchema),
};
export const NoteCreateSchema = eventSchema('NoteCreate', noteShape);
export const NoteUpdateSchema = eventSchema('NoteUpdate', noteShape);
export const NoteDeleteSchema = eventSchema('NoteDelete', noteShape);

const taskShape = {
  ...envelopeShape,
  locationId: GhlIdSchema,
  id: GhlIdSchema,
  // Real TaskCreate deliveries omit contactId and body (ISSUE #332): the worker finds the contact via tasks/search.
  contactId: optional(GhlIdSchema),
  assignedTo: optional(RefSchema),
  body: optional(TextSchema),
  title: optional(TextSchema),
  dateAdded: optional(DateTextSchema),
  dueDate: optional(DateTextSchema),
};
export const TaskCreateSchema = eventSchema('TaskCreate', taskShape);
export const TaskCompleteSchema = eventSchema('TaskComplete', taskShape);
export const TaskDeleteSchema = eventSchema('TaskDelete', taskShape);

function requireLocationOrCompany(value: { locationId?: string | undefined; companyId?: string | undefined }, ctx: z.RefinementCtx): void {
  if (value.locationId === undefined && value.companyId === undefined) {
    ctx.addIssue({ code: 'custom', path: ['locationId'], message: 'is required (or companyId for an agency-level install)' });
  }
}

export const AppInstallSchema = z
  .looseObject({
    ...envelopeShape,
    type: z.literal('AppInstall'),
    locationId: optional(GhlIdSchema),
    companyId: optional(GhlIdSchema),
    userId: optional(RefSchema),
    planId: optional(RefSchema),
    installType: optional(ShortTextSchema),
    trial: optional(
      z.looseObject({
        onTrial: optional(z.boolean()),
        trialDuration: optional(z.number()),
        trialStartDate: optional(DateTextSchema),
      }),
    ),
    isWhitelabelCompany: optional(z.boolean()),
    whitelabelDetails: optional(z.looseObject({ domain: optional(ShortTextSchema), logoUrl: optional(ShortTextSchema) })),
    companyName: optional(ShortTextSchema),
  })
  .superRefine(requireLocationOrCompany);

export const AppUninstallSchema = z
  .looseObject({
    ...envelopeShape,
    type: z.literal('AppUninstall'),
    locationId: optional(GhlIdSchema),
    companyId: optional(GhlIdSchema),
  })
  .superRefine(requireLocationOrCompany);

export type ContactCreateEvent = z.infer<typeof ContactCreateSchema>;
export type ContactUpdateEvent = z.infer<typeof ContactUpdateSchema>;
export type ContactDeleteEvent = z.infer<typeof ContactDeleteSchema>;
export type ContactTagUpdateEvent = z.infer<typeof ContactTagUpdateSchema>;
export type ContactDndUpdateEvent = z.infer<typeof ContactDndUpdateSchema>;
export type NoteCreateEvent = z.infer<typeof NoteCreateSchema>;
export type NoteUpdateEvent = z.infer<typeof NoteUpdateSchema>;
export type NoteDeleteEvent = z.infer<typeof NoteDeleteSchema>;
export type TaskCreateEvent = z.infer<typeof TaskCreateSchema>;
export type TaskCompleteEvent = z.infer<typeof TaskCompleteSchema>;
export type TaskDeleteEvent = z.infer<typeof TaskDeleteSchema>;
export type AppInstallEvent = z.infer<typeof AppInstallSchema>;
export type AppUninstallEvent = z.infer<typeof AppUninstallSchema>;

export type GhlContactEvent = ContactCreateEvent | ContactUpdateEvent | ContactDeleteEvent | ContactTagUpdateEvent | ContactDndUpdateEvent;
export type GhlNoteEvent = NoteCreateEvent | NoteUpdateEvent | NoteDeleteEvent;
export type GhlTaskEvent = TaskCreateEvent | TaskCompleteEvent | TaskDeleteEvent;
export type GhlAppEvent = AppInstallEvent | AppUninstallEvent;
export type GhlEvent = GhlContactEvent | GhlNoteEvent | GhlTaskEvent | GhlAppEvent;

const EVENT_SCHEMAS: { readonly [K in GhlEventType]: z.ZodType<Extract<GhlEvent, { type: K }>> } = {
  ContactCreate: ContactCreateSchema,
  ContactUpdate: ContactUpdateSchema,
  ContactDelete: ContactDeleteSchema,
  ContactTagUpdate: ContactTagUpdateSchema,
  ContactDndUpdate: ContactDndUpdateSchema,
  NoteCreate: NoteCreateSchema,
  NoteUpdate: NoteUpdateSchema,
  NoteDelete: NoteDeleteSchema,
  TaskCreate: TaskCreateSchema,
  TaskComplete: TaskCompleteSchema,
  TaskDelete: TaskDeleteSchema,
  AppInstall: AppInstallSchema,
  AppUninstall: AppUninstallSchema,
};

export interface ValidationIssue {
  path: string;
  message: string;
}
export type ParseResult =
  /** `asSent`: the event is the body exactly as parsed (no alias renamed, nothing normalized), so its bytes may stand for it. */
  | { kind: 'event'; event: GhlEvent; asSent: boolean }
  | { kind: 'unknown-type'; type: string }
  | { kind: 'invalid'; issues: ValidationIssue[] };

const KNOWN_TYPES: ReadonlySet<string> = new Set(GHL_EVENT_TYPES);

export function isGhlEventType(type: string): type is GhlEventType {
  return KNOWN_TYPES.has(type);
}

/** Validates a parsed JSON body. Unknown `type` values are not errors: GHL sends many events we do not handle. */
export function parseGhlEvent(body: unknown): ParseResult {
  if (!isPlainObject(body) || typeof body.type !== 'string') {
    return { kind: 'invalid', issues: [{ path: 'type', message: 'expected a JSON object with a string "type"' }] };
  }
  const wireType = body.type;
  if (wireType.length === 0 || wireType.length > MAX_ID_CHARS) {
    return { kind: 'invalid', issues: [{ path: 'type', message: `expected 1-${MAX_ID_CHARS} characters` }] };
  }
  const type = WIRE_TYPE_ALIASES[wireType] ?? wireType;
  if (!isGhlEventType(type)) return { kind: 'unknown-type', type };
  // Only a renamed type needs a copy; otherwise the event is the caller's own object (a fresh JSON parse, in every caller).
  const candidate = type === wireType ? body : { ...body, type };
  // Plain contact, note and task events (nearly all traffic) are checked without zod; see ghl-event-fast-path.ts.
  if (acceptsAsIs(type, candidate)) return { kind: 'event', event: candidate as GhlEvent, asSent: type === wireType };
  const result = safeParseEvent(type, candidate);
  return result.success ? { kind: 'event', event: result.data, asSent: false } : { kind: 'invalid', issues: toIssues(result.error) };
}

function safeParseEvent(type: GhlEventType, body: Record<string, unknown>): z.ZodSafeParseResult<GhlEvent> {
  return EVENT_SCHEMAS[type].safeParse(body, { error: requiredMessage });
}

/** Turns zod's "expected string, received undefined" into the plainer "is required". */
export function requiredMessage(issue: z.core.$ZodRawIssue): string | undefined {
  return issue.code === 'invalid_type' && issue.input === undefined ? 'is required' : undefined;
}

/** Field paths as dotted strings (`customFields.0.id`), capped so a hostile body cannot make a huge reply. */
export function toIssues(error: z.ZodError): ValidationIssue[] {
  return error.issues.slice(0, MAX_ISSUES).map((issue) => ({
    path: issue.path.map((segment) => String(segment)).join('.'),
    message: issue.message,
  }));
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// ISO 8601 date-time as GHL writes it ("2025-01-28T14:35:00Z", with or without milliseconds or an offset).
const ISO_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})$/i;

/**
 * Replay guard: GHL signs a `timestamp` into marketplace events. Only the future is refused: GHL redelivers late, and old
 * redeliveries are caught by the `webhookId` dedupe. A missing timestamp is allowed (the documented examples lack it).
 */
export function checkTimestamp(timestamp: string | undefined, now: number): 'ok' | 'future' | 'unparseable' {
  if (timestamp === undefined) return 'ok';
  if (!ISO_TIMESTAMP.test(timestamp)) return 'unparseable';
  const at = Date.parse(timestamp);
  if (Number.isNaN(at)) return 'unparseable';
  return at - now > MAX_FUTURE_SKEW_MS ? 'future' : 'ok';
}

export function isContactEvent(event: GhlEvent): event is GhlContactEvent {
  return (GHL_CONTACT_EVENT_TYPES as readonly string[]).includes(event.type);
}
export function isNoteEvent(event: GhlEvent): event is GhlNoteEvent {
  return (GHL_NOTE_EVENT_TYPES as readonly string[]).includes(event.type);
}
export function isTaskEvent(event: GhlEvent): event is GhlTaskEvent {
  return (GHL_TASK_EVENT_TYPES as readonly string[]).includes(event.type);
}
export function isAppEvent(event: GhlEvent): event is GhlAppEvent {
  return (GHL_APP_EVENT_TYPES as readonly string[]).includes(event.type);
}

/** The contact an event concerns: contact events → `id`; note and task events → `contactId` (a TaskCreate may lack it). */
export function eventContactId(event: GhlEvent): string | undefined {
  if (isContactEvent(event)) return event.id;
  if (isNoteEvent(event) || isTaskEvent(event)) return event.contactId;
  return undefined;
}

/** The thing the event is about: the contact, note or task id; for install events the location (or agency) id. */
export function eventEntityId(event: GhlEvent): string {
  if (isAppEvent(event)) {
    // The schema guarantees one of them; the fallback only satisfies the type.
    return event.locationId ?? event.companyId ?? '';
  }
  return event.id;
}

/** The location an event belongs to; undefined only for agency-level install events. */
export function eventLocationId(event: GhlEvent): string | undefined {
  return event.locationId;
}
