/**
 * Request bodies and queries of the simulated endpoints, from apps/contacts.json and
 * apps/locations.json (2021-07-28), as the handlers read them. Types, required properties and
 * unknown properties are checked against GHL's OpenAPI documents before a handler runs
 * (openapi-validator.ts); what these schemas still check is what the documents leave open and GHL
 * enforces: a well-formed email, a real birth date or due date, a known custom-field data type.
 */
import { z } from 'zod';
import { normalizeBirthDate } from './birth-date.js';
import { CUSTOM_FIELD_DATA_TYPES } from './model.js';

const text = z.string().nullable().optional();

/**
 * One custom-field write. The v2 spec documents `{ id, key?, field_value }`; v3 prefers `fieldValue`
 * and reads use `value`, so all three are accepted. Either `id` or `key` is needed.
 */
export const CustomFieldWriteSchema = z
  .looseObject({
    id: z.string().min(1).optional(),
    key: z.string().min(1).optional(),
    field_value: z.unknown().optional(),
    fieldValue: z.unknown().optional(),
    value: z.unknown().optional(),
  })
  .refine((item) => item.id !== undefined || item.key !== undefined, {
    message: 'customFields.id or customFields.key should not be empty',
  });
export type CustomFieldWrite = z.infer<typeof CustomFieldWriteSchema>;

const DndChannelSchema = z.looseObject({
  status: z.enum(['active', 'inactive', 'permanent']),
  message: z.string().optional(),
  code: z.string().optional(),
});

const contactFields = {
  firstName: text,
  lastName: text,
  name: text,
  email: z.email().nullable().optional(),
  phone: text,
  address1: text,
  city: text,
  state: text,
  postalCode: z.string().optional(),
  website: text,
  timezone: text,
  dnd: z.boolean().optional(),
  dndSettings: z.record(z.string(), DndChannelSchema).optional(),
  inboundDndSettings: z.record(z.string(), z.looseObject({ status: z.enum(['active', 'inactive']) })).optional(),
  tags: z.array(z.string()).optional(),
  customFields: z.array(CustomFieldWriteSchema).optional(),
  source: text,
  dateOfBirth: z
    .string()
    .refine((value) => normalizeBirthDate(value) !== undefined, { message: 'dateOfBirth must be a valid date' })
    .nullable()
    .optional(),
  country: z.string().optional(),
  assignedTo: text,
};

/** UpdateContactDto: no required fields, no locationId, companyName or gender. */
export const UpdateContactBodySchema = z.object(contactFields);
export type UpdateContactBody = z.infer<typeof UpdateContactBodySchema>;

/** CreateContactDto: UpdateContactDto plus locationId*, gender, companyName. */
export const CreateContactBodySchema = z.object({
  ...contactFields,
  locationId: z.string().min(1),
  gender: z.string().optional(),
  companyName: text,
});
export type CreateContactBody = z.infer<typeof CreateContactBodySchema>;

/** UpsertContactDto: CreateContactDto plus createNewIfDuplicateAllowed. */
export const UpsertContactBodySchema = CreateContactBodySchema.extend({ createNewIfDuplicateAllowed: z.boolean().optional() });
export type UpsertContactBody = z.infer<typeof UpsertContactBodySchema>;

export const TagsBodySchema = z.object({ tags: z.array(z.string()) });

const isoDate = z.string().refine((value) => !Number.isNaN(Date.parse(value)), {
  message: 'dueDate must be a valid ISO 8601 date string',
});

export const CreateTaskBodySchema = z.object({
  title: z.string(),
  body: z.string().optional(),
  dueDate: isoDate,
  completed: z.boolean(),
  assignedTo: z.string().optional(),
});

export const UpdateTaskBodySchema = z.object({
  title: z.string().optional(),
  body: z.string().optional(),
  dueDate: isoDate.optional(),
  completed: z.boolean().optional(),
  assignedTo: z.string().optional(),
});

export const TaskCompletedBodySchema = z.object({ completed: z.boolean() });

const noteFields = {
  userId: z.string().optional(),
  title: z.string().optional(),
  color: z.string().optional(),
  pinned: z.boolean().optional(),
};
export const CreateNoteBodySchema = z.object({ ...noteFields, body: z.string() });
export const UpdateNoteBodySchema = z.object({ ...noteFields, body: z.string().optional() });

/** CreateCustomFieldsDTO; `dataType` is open in the document, GHL takes the Custom Fields V2 types. */
export const CreateCustomFieldBodySchema = z.object({
  name: z.string().min(1),
  dataType: z.enum(CUSTOM_FIELD_DATA_TYPES),
  placeholder: z.string().optional(),
  acceptedFormat: z.array(z.string()).optional(),
  isMultipleFile: z.boolean().optional(),
  maxNumberOfFiles: z.number().optional(),
  textBoxListOptions: z.array(z.unknown()).optional(),
  position: z.number().optional(),
  model: z.enum(['contact', 'opportunity']).optional(),
});

export const UpdateCustomFieldBodySchema = CreateCustomFieldBodySchema.omit({ dataType: true, model: true });

export const CustomFieldsQuerySchema = z.looseObject({
  model: z.enum(['contact', 'opportunity', 'all']).optional(),
});

const intFromQuery = z.coerce.number<string>().int();

/** GET /contacts/ (deprecated): "limit: maximum up to 100 and default will be 20". */
export const ListContactsQuerySchema = z.looseObject({
  locationId: z.string().min(1),
  startAfterId: z.string().optional(),
  startAfter: intFromQuery.optional(),
  query: z.string().optional(),
  limit: intFromQuery.min(1).max(100).optional(),
});

export const BusinessContactsQuerySchema = z.looseObject({
  locationId: z.string().min(1),
  limit: intFromQuery.min(1).max(100).optional(),
  skip: intFromQuery.min(0).optional(),
  query: z.string().optional(),
});

export const DuplicateQuerySchema = z.looseObject({
  locationId: z.string().min(1),
  number: z.string().optional(),
  email: z.string().optional(),
});

export const LocationIdBodySchema = z.looseObject({ locationId: z.string().min(1) });
