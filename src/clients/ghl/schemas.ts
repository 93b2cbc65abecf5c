/**
 * Shapes of the GHL Contacts API (Version 2021-07-28, OpenAPI `apps/contacts.json`) and of the
 * location custom-field endpoints (`apps/locations.json`). Reads are loose: GHL adds and drops
 * fields, so only what we rely on is required. Writes are strict: an unknown key is our bug.
 */
import { z } from 'zod';

// ---------------------------------------------------------------------------------------------
// Read side (loose)
// ---------------------------------------------------------------------------------------------

/** GHL sends `null` for unset fields in places the spec says string; tolerate both. */
const text = z.string().nullish();
const flag = z.boolean().nullish();

/** The same schema under each of `keys`, for the long runs of alike fields in GHL's DTOs. */
function each<const K extends string, S extends z.ZodType>(keys: readonly K[], schema: S): Record<K, S> {
  return Object.fromEntries(keys.map((key) => [key, schema])) as Record<K, S>;
}

/** A custom-field value as GHL reads it back: `{ id, value }` (not `field_value`), any JSON value. */
export const CustomFieldValueSchema = z.looseObject({
  id: z.string(),
  value: z.unknown().optional(),
});
export type CustomFieldValue = z.infer<typeof CustomFieldValueSchema>;

/** `GetContectByIdSchema` (sic) and `ContactsSearchSchema`: only `id` is certain. */
export const ContactSchema = z.looseObject({
  id: z.string(),
  ...each(['locationId', 'name', 'firstName', 'lastName', 'email', 'phone', 'companyName', 'website'], text),
  ...each(['address1', 'city', 'state', 'country', 'postalCode', 'timezone'], text),
  ...each(['source', 'type', 'assignedTo', 'businessId', 'dateOfBirth', 'dateAdded', 'dateUpdated'], text),
  dnd: flag,
  tags: z.array(z.string()).nullish(),
  customFields: z.array(CustomFieldValueSchema).nullish(),
  /** POST /contacts/search: this contact's sort values, the `searchAfter` of the page after it. */
  searchAfter: z.array(z.union([z.string(), z.number()])).nullish(),
});
export type Contact = z.infer<typeof ContactSchema>;

/** `TaskSchema`. `dueDate` is an ISO string. */
export const TaskSchema = z.looseObject({
  id: z.string(),
  ...each(['title', 'body', 'assignedTo', 'dueDate', 'contactId'], text),
  completed: flag,
});
export type Task = z.infer<typeof TaskSchema>;

/** `GetNoteSchema`; `title`, `color`, `pinned` only exist since the 2026-05-01 spec. */
export const NoteSchema = z.looseObject({
  id: z.string(),
  ...each(['body', 'userId', 'dateAdded', 'contactId', 'title', 'color'], text),
  pinned: flag,
});
export type Note = z.infer<typeof NoteSchema>;

/** `GetEventSchema` (GET /contacts/{id}/appointments). */
export const AppointmentSchema = z.looseObject({
  id: z.string(),
  ...each(['calendarId', 'status', 'appointmentStatus', 'title', 'assignedUserId', 'notes', 'startTime', 'endTime'], text),
  ...each(['address', 'locationId', 'contactId', 'groupId', 'dateAdded', 'dateUpdated'], text),
});
export type Appointment = z.infer<typeof AppointmentSchema>;

/** `CustomFieldSchema` of `locations.json`: a field definition; `fieldKey` looks like `contact.pincode`. */
export const CustomFieldDefinitionSchema = z.looseObject({
  id: z.string(),
  ...each(['name', 'fieldKey', 'placeholder', 'dataType'], text),
  position: z.number().nullish(),
  picklistOptions: z.array(z.string()).nullish(),
  locationId: text,
  model: text,
});
export type CustomFieldDefinition = z.infer<typeof CustomFieldDefinitionSchema>;

// Response envelopes (the client unwraps them).

export const ContactEnvelopeSchema = z.looseObject({ contact: ContactSchema });
export const UpsertContactResponseSchema = z.looseObject({ new: z.boolean().nullish(), contact: ContactSchema });
/** GET /contacts/ and GET /contacts/business/{id}: `{ contacts, count }`, plus an undocumented `meta` in practice. */
export const ContactListResponseSchema = z.looseObject({
  contacts: z.array(ContactSchema),
  count: z.number().nullish(),
  meta: z
    .looseObject({
      total: z.number().nullish(),
      startAfterId: text,
      startAfter: z.number().nullish(),
    })
    .nullish(),
});
/**
 * POST /contacts/search: `{ contacts, total }`. GHL's search guide pages by `searchAfter` without
 * pinning where the next cursor is: each contact's own `searchAfter` (its sort values), or one
 * `searchAfter` beside the page. Both are read (ghl-client.ts says which one it used).
 */
export const ContactSearchResponseSchema = z.looseObject({
  contacts: z.array(ContactSchema),
  total: z.number().nullish(),
  searchAfter: z.array(z.union([z.string(), z.number()])).nullish(),
});
export const TaskEnvelopeSchema = z.looseObject({ task: TaskSchema });
export const TaskListResponseSchema = z.looseObject({ tasks: z.array(TaskSchema) });
export const NoteEnvelopeSchema = z.looseObject({ note: NoteSchema });
export const NoteListResponseSchema = z.looseObject({ notes: z.array(NoteSchema) });
export const AppointmentListResponseSchema = z.looseObject({ events: z.array(AppointmentSchema) });
export const TagsResponseSchema = z.looseObject({ tags: z.array(z.string()) });
export const CustomFieldListResponseSchema = z.looseObject({ customFields: z.array(CustomFieldDefinitionSchema) });
export const CustomFieldEnvelopeSchema = z.looseObject({ customField: CustomFieldDefinitionSchema });
/** Delete answers `{ succeded }` (sic); an empty 2xx body also counts as done. */
export const DeleteResponseSchema = z.looseObject({ succeded: z.boolean().nullish() });

// ---------------------------------------------------------------------------------------------
// Write side (strict)
// ---------------------------------------------------------------------------------------------

/** `field_value` by kind: text/select/radio → string, numeric/monetary → number, checkbox/multi-select → string[]. */
export const CustomFieldWriteValueSchema = z.union([z.string(), z.number(), z.array(z.string())]);

/** One item of `customFields` on create/update/upsert, v2-documented shape (`id` + `field_value`). */
export const CustomFieldWriteSchema = z.strictObject({
  id: z.string().min(1),
  key: z.string().min(1).optional(),
  field_value: CustomFieldWriteValueSchema,
});
export type CustomFieldWrite = z.infer<typeof CustomFieldWriteSchema>;

const DndChannelSchema = z.strictObject({
  status: z.enum(['active', 'inactive', 'permanent']),
  message: z.string().optional(),
  code: z.string().optional(),
});

const DndSettingsSchema = z.strictObject(each(['Call', 'Email', 'SMS', 'WhatsApp', 'GMB', 'FB'], DndChannelSchema.optional()));

const InboundDndSettingsSchema = z.strictObject({
  all: z.strictObject({ status: z.enum(['active', 'inactive']), message: z.string().optional() }).optional(),
});

/** `UpdateContactDto`: every field optional. `tags` here replaces all tags; prefer addTags/removeTags. */
const optionalText = z.string().optional();
export const UpdateContactBodySchema = z.strictObject({
  ...each(['firstName', 'lastName', 'name', 'email', 'phone', 'website', 'timezone'], optionalText),
  ...each(['address1', 'city', 'state', 'postalCode', 'country'], optionalText),
  ...each(['source', 'dateOfBirth', 'assignedTo'], optionalText),
  dnd: z.boolean().optional(),
  dndSettings: DndSettingsSchema.optional(),
  inboundDndSettings: InboundDndSettingsSchema.optional(),
  tags: z.array(z.string()).optional(),
  customFields: z.array(CustomFieldWriteSchema).optional(),
});
export type UpdateContactBody = z.infer<typeof UpdateContactBodySchema>;

/** `CreateContactDto`: the update fields plus `locationId` (filled in by the client), `gender`, `companyName`. */
export const CreateContactBodySchema = UpdateContactBodySchema.extend({
  locationId: z.string().min(1),
  gender: z.string().optional(),
  companyName: z.string().optional(),
});
export type CreateContactBody = z.infer<typeof CreateContactBodySchema>;
export type CreateContactInput = Omit<z.input<typeof CreateContactBodySchema>, 'locationId'>;

/** `UpsertContactDto`: as create, plus `createNewIfDuplicateAllowed`. */
export const UpsertContactBodySchema = CreateContactBodySchema.extend({
  createNewIfDuplicateAllowed: z.boolean().optional(),
});
export type UpsertContactBody = z.infer<typeof UpsertContactBodySchema>;
export type UpsertContactInput = Omit<z.input<typeof UpsertContactBodySchema>, 'locationId'>;

/** Query of the deprecated GET /contacts/ (`limit` at most 100, `startAfter` in epoch ms). */
export const ListContactsQuerySchema = z.strictObject({
  startAfterId: z.string().min(1).optional(),
  startAfter: z.number().int().nonnegative().optional(),
  limit: z.number().int().min(1).max(100).optional(),
  query: z.string().optional(),
});
export type ListContactsQuery = z.infer<typeof ListContactsQuerySchema>;

/** GET /contacts/business/{businessId} query. */
export const ContactsByBusinessQuerySchema = z.strictObject({
  limit: z.number().int().min(1).max(100).optional(),
  skip: z.number().int().nonnegative().optional(),
  query: z.string().optional(),
});
export type ContactsByBusinessQuery = z.infer<typeof ContactsByBusinessQuerySchema>;

const SearchValueSchema = z.union([z.string(), z.number(), z.boolean(), z.array(z.union([z.string(), z.number()]))]);
const SearchBoundSchema = z.union([z.string(), z.number()]);

/** The operators GHL's advanced-search guide documents; comparisons go through `range`. */
export const SEARCH_OPERATORS = ['eq', 'not_eq', 'contains', 'not_contains', 'exists', 'not_exists', 'range'] as const;

/** A `range` filter's value: at least one bound, e.g. `{ gte: '2026-01-01T00:00:00.000Z' }`. */
export const SearchRangeSchema = z
  .strictObject({ gt: SearchBoundSchema.optional(), gte: SearchBoundSchema.optional(), lt: SearchBoundSchema.optional(), lte: SearchBoundSchema.optional() })
  .refine((range) => Object.values(range).some((bound) => bound !== undefined), { message: 'a range needs at least one bound' });

export const SearchFilterSchema = z.union([
  z.strictObject({ field: z.string().min(1), operator: z.literal('range'), value: SearchRangeSchema }),
  z.strictObject({
    field: z.string().min(1),
    operator: z.enum(SEARCH_OPERATORS).exclude(['range']),
    value: SearchValueSchema.optional(),
  }),
]);

/** POST /contacts/search body (`SearchBodyV2DTO` is empty in the spec; the shape of GHL's search guide). */
export const SearchContactsBodySchema = z.strictObject({
  locationId: z.string().min(1),
  page: z.number().int().min(1).optional(),
  pageLimit: z.number().int().min(1).max(500),
  query: z.string().optional(),
  filters: z.array(SearchFilterSchema).optional(),
  sort: z.array(z.strictObject({ field: z.string().min(1), direction: z.enum(['asc', 'desc']) })).optional(),
  searchAfter: z.array(z.union([z.string(), z.number()])).optional(),
});
export type SearchContactsBody = z.infer<typeof SearchContactsBodySchema>;
export type SearchContactsInput = Omit<z.input<typeof SearchContactsBodySchema>, 'locationId'>;

/** `CreateTaskParams`: `title`, `dueDate` and `completed` are required by GHL; we default `completed` to false. */
export const CreateTaskBodySchema = z.strictObject({
  title: z.string().min(1),
  body: z.string().optional(),
  dueDate: z.iso.datetime({ offset: true }),
  completed: z.boolean().default(false),
  assignedTo: z.string().min(1).optional(),
});
export type CreateTaskBody = z.infer<typeof CreateTaskBodySchema>;
export type CreateTaskInput = z.input<typeof CreateTaskBodySchema>;

/** `UpdateTaskBody`: every field optional. */
export const UpdateTaskBodySchema = z.strictObject({
  title: z.string().min(1).optional(),
  body: z.string().optional(),
  dueDate: z.iso.datetime({ offset: true }).optional(),
  completed: z.boolean().optional(),
  assignedTo: z.string().min(1).optional(),
});
export type UpdateTaskBody = z.infer<typeof UpdateTaskBodySchema>;

/** `UpdateTaskStatusParams`. */
export const CompleteTaskBodySchema = z.strictObject({ completed: z.boolean() });

/** `NotesDTO` (create): `body` required. */
export const CreateNoteBodySchema = z.strictObject({
  body: z.string().min(1),
  userId: z.string().min(1).optional(),
  title: z.string().optional(),
  color: z.string().optional(),
  pinned: z.boolean().optional(),
});
export type CreateNoteBody = z.infer<typeof CreateNoteBodySchema>;

/** `UpdateNoteDTO`: every field optional. */
export const UpdateNoteBodySchema = CreateNoteBodySchema.partial();
export type UpdateNoteBody = z.infer<typeof UpdateNoteBodySchema>;

/** `TagsDTO`, for both POST and DELETE /contacts/{id}/tags. */
export const TagsBodySchema = z.strictObject({ tags: z.array(z.string().min(1)).min(1) });

/** Data types enumerated by the Custom Fields V2 spec (`locations.json` leaves `dataType` open). */
export const CUSTOM_FIELD_DATA_TYPES = [
  'TEXT', 'LARGE_TEXT', 'NUMERICAL', 'PHONE', 'MONETORY', 'CHECKBOX', 'SINGLE_OPTIONS',
  'MULTIPLE_OPTIONS', 'DATE', 'TEXTBOX_LIST', 'FILE_UPLOAD', 'RADIO', 'EMAIL',
] as const;

export const CustomFieldModelSchema = z.enum(['contact', 'opportunity']);
export type CustomFieldModel = z.infer<typeof CustomFieldModelSchema>;

/** `CreateCustomFieldsDTO` (POST /locations/{id}/customFields). */
export const CreateCustomFieldBodySchema = z.strictObject({
  name: z.string().min(1),
  dataType: z.enum(CUSTOM_FIELD_DATA_TYPES),
  placeholder: z.string().optional(),
  acceptedFormat: z.array(z.string()).optional(),
  isMultipleFile: z.boolean().optional(),
  maxNumberOfFiles: z.number().int().positive().optional(),
  textBoxListOptions: z.array(z.strictObject({ label: z.string(), prefillValue: z.string().optional() })).optional(),
  position: z.number().int().nonnegative().optional(),
  model: CustomFieldModelSchema.optional(),
});
export type CreateCustomFieldBody = z.infer<typeof CreateCustomFieldBodySchema>;
export type CreateCustomFieldInput = z.input<typeof CreateCustomFieldBodySchema>;
