/**
 * The body a GHL workflow "Webhook" / "Custom Webhook" action sends to /webhooks/ghl/workflow:
 * unsigned, no `webhookId` or `timestamp`, contact fields at the top level in snake_case, custom field values
 * keyed by their names, `location: {id, name, ...}`, optional `workflow: {id, name}`, `triggerData`, `customData`.
 *
 * Field names checked against public captures of real deliveries (code corpus): a typed handler
 * (`GHLWorkflowData`: contact_id, first_name, last_name, full_name, phone, tags as a comma string, country,
 * date_created, full_address, contact_type, location{name,address,city,state,country,postalCode,fullAddress,id},
 * workflow{id,name}, triggerData, customData) and a Supabase edge function logging live payloads (adds email,
 * timezone, contact_source, user{...}, contact{attributionSource}). GHL fills unset merge fields with "", so
 * blank strings are read as absent. Only GHL's own docs could settle the full list: unknown keys are kept.
 */
import { z } from 'zod';
import { GhlIdSchema, MAX_CUSTOM_FIELDS, MAX_SHORT_TEXT_CHARS, MAX_TAGS, MAX_TEXT_CHARS, requiredMessage, toIssues, isPlainObject, type ValidationIssue } from './ghl-events.js';

/** Blank ("") and null are absent: an unset merge field in a GHL workflow body arrives as "". */
function blankable<T extends z.ZodType>(schema: T) {
  return z.preprocess((value) => (value === '' || value === null ? undefined : value), schema.optional());
}

const ShortTextSchema = z.string().max(MAX_SHORT_TEXT_CHARS);
const text = () => blankable(ShortTextSchema);

const TagListSchema = z.array(ShortTextSchema.trim()).max(MAX_TAGS);
const TagsSchema = z
  .union([z.string().max(MAX_TEXT_CHARS), TagListSchema])
  .transform((tags) => (typeof tags === 'string' ? tags.split(',') : tags).map((tag) => tag.trim()).filter((tag) => tag !== ''))
  .pipe(z.array(ShortTextSchema).max(MAX_TAGS));

const KNOWN_KEYS = [
  'contact_id', 'contactId', 'locationId', 'first_name', 'last_name', 'full_name', 'email', 'phone', 'tags', 'country',
  'timezone', 'date_created', 'date_of_birth', 'contact_source', 'contact_type', 'full_address', 'company_name',
  'address1', 'city', 'state', 'postal_code', 'website', 'location', 'workflow', 'triggerData', 'customData', 'user',
  'contact', 'type',
] as const;
const KNOWN_KEY_SET: ReadonlySet<string> = new Set(KNOWN_KEYS);

export const GhlWorkflowPayloadSchema = z.looseObject({
  contact_id: blankable(GhlIdSchema),
  contactId: blankable(GhlIdSchema),
  locationId: blankable(GhlIdSchema),
  first_name: text(),
  last_name: text(),
  full_name: text(),
  email: text(),
  phone: text(),
  tags: blankable(TagsSchema),
  country: text(),
  timezone: text(),
  date_created: text(),
  date_of_birth: text(),
  contact_source: text(),
  contact_type: text(),
  full_address: text(),
  company_name: text(),
  address1: text(),
  city: text(),
  state: text(),
  postal_code: text(),
  website: text(),
  location: blankable(z.looseObject({ id: blankable(GhlIdSchema), name: text() })),
  workflow: blankable(z.looseObject({ id: blankable(z.string().max(MAX_SHORT_TEXT_CHARS)), name: text() })),
  triggerData: blankable(z.record(z.string(), z.unknown())),
  customData: blankable(
    z.looseObject({ contactId: blankable(GhlIdSchema), contact_id: blankable(GhlIdSchema), locationId: blankable(GhlIdSchema) }),
  ),
});
export type GhlWorkflowPayload = z.infer<typeof GhlWorkflowPayloadSchema>;

/** What a workflow delivery becomes: a ContactUpdate-like event; the worker re-reads the contact anyway. */
export const GhlWorkflowEventSchema = z.object({
  type: z.literal('ContactUpdate'),
  /** Where the event came from (the marketplace events have no such field). */
  origin: z.literal('workflow'),
  locationId: GhlIdSchema,
  id: GhlIdSchema,
  email: z.string().optional(),
  firstName: z.string().optional(),
  lastName: z.string().optional(),
  name: z.string().optional(),
  phone: z.string().optional(),
  tags: z.array(z.string()).optional(),
  country: z.string().optional(),
  timezone: z.string().optional(),
  companyName: z.string().optional(),
  address1: z.string().optional(),
  city: z.string().optional(),
  state: z.string().optional(),
  postalCode: z.string().optional(),
  website: z.string().optional(),
  dateOfBirth: z.string().optional(),
  dateAdded: z.string().optional(),
  /** GHL's `contact_source`: the contact's own source, as `source` on a ContactUpdate. */
  source: z.string().optional(),
  contactType: z.string().optional(),
  locationName: z.string().optional(),
  workflow: z.object({ id: z.string().optional(), name: z.string().optional() }).optional(),
  /** Top-level keys GHL did not define: custom field values keyed by field name. */
  customFieldsByName: z.record(z.string(), z.unknown()).optional(),
  customData: z.record(z.string(), z.unknown()).optional(),
  triggerData: z.record(z.string(), z.unknown()).optional(),
});
export type GhlWorkflowEvent = z.infer<typeof GhlWorkflowEventSchema>;

export type WorkflowParseResult = { kind: 'event'; event: GhlWorkflowEvent } | { kind: 'invalid'; issues: ValidationIssue[] };

export function parseGhlWorkflowPayload(body: unknown): WorkflowParseResult {
  if (!isPlainObject(body)) return { kind: 'invalid', issues: [{ path: '', message: 'expected a JSON object' }] };
  const extraKeys = Object.keys(body).filter((key) => !KNOWN_KEY_SET.has(key));
  if (extraKeys.length > MAX_CUSTOM_FIELDS) {
    return { kind: 'invalid', issues: [{ path: '', message: `too many fields (at most ${MAX_CUSTOM_FIELDS} custom values)` }] };
  }
  const parsed = GhlWorkflowPayloadSchema.safeParse(body, { error: requiredMessage });
  if (!parsed.success) return { kind: 'invalid', issues: toIssues(parsed.error) };
  const payload = parsed.data;

  const issues: ValidationIssue[] = [];
  const locationId = payload.location?.id ?? payload.locationId ?? payload.customData?.locationId;
  if (locationId === undefined) issues.push({ path: 'location.id', message: 'is required' });
  const contactId = payload.contact_id ?? payload.contactId ?? payload.customData?.contactId ?? payload.customData?.contact_id;
  if (contactId === undefined) issues.push({ path: 'contact_id', message: 'is required (or contactId, or customData.contactId)' });
  if (locationId === undefined || contactId === undefined) return { kind: 'invalid', issues };

  const customFieldsByName: Record<string, unknown> = {};
  for (const key of extraKeys) customFieldsByName[key] = body[key];
  const workflow = payload.workflow ? dropUndefined({ id: payload.workflow.id, name: payload.workflow.name }) : undefined;

  const event: GhlWorkflowEvent = {
    type: 'ContactUpdate',
    origin: 'workflow',
    locationId,
    id: contactId,
    email: payload.email,
    firstName: payload.first_name,
    lastName: payload.last_name,
    name: payload.full_name,
    phone: payload.phone,
    tags: payload.tags,
    country: payload.country,
    timezone: payload.timezone,
    companyName: payload.company_name,
    address1: payload.address1,
    city: payload.city,
    state: payload.state,
    postalCode: payload.postal_code,
    website: payload.website,
    dateOfBirth: payload.date_of_birth,
    dateAdded: payload.date_created,
    source: payload.contact_source,
    contactType: payload.contact_type,
    locationName: payload.location?.name,
    workflow,
    customFieldsByName: extraKeys.length > 0 ? customFieldsByName : undefined,
    customData: payload.customData,
    triggerData: payload.triggerData,
  };
  return { kind: 'event', event: dropUndefined(event) };
}

/** Keeps job data small and its JSON stable (the same delivery always yields the same object). */
function dropUndefined<T extends object>(value: T): T {
  for (const key of Object.keys(value) as (keyof T)[]) {
    if (value[key] === undefined) delete value[key];
  }
  return value;
}
