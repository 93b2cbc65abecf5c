/**
 * The common case of GHL event validation without zod: a contact, note or task event whose known fields
 * all have plain values (no `null`, no DND settings, custom field values that are strings, numbers or
 * booleans). For those, the schemas in ghl-events.ts would return the body unchanged, so `acceptsAsIs`
 * answering true lets the caller skip the zod parse (the largest share of ingest CPU after the signature).
 *
 * It is only ever stricter than the schemas: anything it does not accept goes through zod, which decides
 * and names the offending fields. test/unit/webhooks/ghl-event-fast-path.test.ts checks, on valid, mutated
 * and random bodies, that whatever it accepts the schemas accept with the same output.
 */
type Check = (value: unknown) => boolean;

// Bounds as in ghl-events.ts (MAX_ID_CHARS, MAX_SHORT_TEXT_CHARS, MAX_TEXT_CHARS, MAX_TAGS, MAX_CUSTOM_FIELDS); kept
// literal here so this module needs nothing from the schema module at run time.
const ID = /^[A-Za-z0-9_-]{1,128}$/;
const MAX_REF = 128;
const MAX_SHORT = 2_048;
const MAX_TEXT = 100_000;
const MAX_DATE = 64;
const MAX_ITEMS = 1_000;
const MAX_WEBHOOK_ID = 256;

const isId: Check = (value) => typeof value === 'string' && ID.test(value);
const stringUpTo =
  (max: number, min = 0): Check =>
  (value) =>
    typeof value === 'string' && value.length <= max && value.length >= min;
const isBoolean: Check = (value) => typeof value === 'boolean';
const ref = stringUpTo(MAX_REF);
const short = stringUpTo(MAX_SHORT);
const text = stringUpTo(MAX_TEXT);
const date = stringUpTo(MAX_DATE);

const isTags: Check = (value) => Array.isArray(value) && value.length <= MAX_ITEMS && value.every(short);
const isBoundedArray: Check = (value) => Array.isArray(value) && value.length <= MAX_ITEMS;

function isPlainRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.getPrototypeOf(value) === Object.prototype;
}

/** `{ id, value? }` with a scalar value; arrays, objects and `null` values go to zod. */
function isSimpleCustomField(item: unknown): boolean {
  if (!isPlainRecord(item) || !isId(item.id)) return false;
  if (!('value' in item)) return true;
  const value = item.value;
  return (typeof value === 'string' && value.length <= MAX_TEXT) || (typeof value === 'number' && Number.isFinite(value)) || typeof value === 'boolean';
}
const isCustomFields: Check = (value) => Array.isArray(value) && value.length <= MAX_ITEMS && value.every(isSimpleCustomField);

interface Shape {
  required: readonly string[];
  /** Every field the schema declares (required or optional) and what a plain value of it looks like. */
  fields: Readonly<Record<string, Check>>;
}

const ENVELOPE: Record<string, Check> = { webhookId: stringUpTo(MAX_WEBHOOK_ID, 1), timestamp: date, appId: ref, versionId: ref };

const CONTACT: Shape = {
  required: ['locationId', 'id'],
  fields: {
    ...ENVELOPE,
    locationId: isId,
    id: isId,
    ...Object.fromEntries(
      ['address1', 'city', 'state', 'companyName', 'country', 'source', 'email', 'name', 'firstName', 'lastName', 'phone', 'postalCode', 'website'].map((name) => [name, short]),
    ),
    dateAdded: date,
    dateOfBirth: date,
    dnd: isBoolean,
    tags: isTags,
    attachments: isBoundedArray,
    assignedTo: ref,
    customFields: isCustomFields,
  },
};
/** DND settings are nested objects with their own schema: present, they go to zod. */
const CONTACT_DND: Shape = { required: CONTACT.required, fields: { ...CONTACT.fields, dndSettings: () => false } };

const NOTE: Shape = {
  required: ['locationId', 'id', 'contactId'],
  fields: { ...ENVELOPE, locationId: isId, id: isId, contactId: isId, body: text, dateAdded: date },
};

const TASK: Shape = {
  required: ['locationId', 'id'],
  fields: { ...ENVELOPE, locationId: isId, id: isId, contactId: isId, assignedTo: ref, body: text, title: text, dateAdded: date, dueDate: date },
};

/** Install events are rare and have a cross-field rule: always zod. */
const SHAPES: Readonly<Record<string, Shape>> = {
  ContactCreate: CONTACT,
  ContactUpdate: CONTACT,
  ContactDelete: CONTACT,
  ContactTagUpdate: CONTACT,
  ContactDndUpdate: CONTACT_DND,
  NoteCreate: NOTE,
  NoteUpdate: NOTE,
  NoteDelete: NOTE,
  TaskCreate: TASK,
  TaskComplete: TASK,
  TaskDelete: TASK,
};

/**
 * True when the event schema of `type` would accept `body` and return it unchanged (so `body` itself is
 * the parsed event); false means "ask zod", not "invalid".
 */
export function acceptsAsIs(type: string, body: Record<string, unknown>): boolean {
  const shape = Object.hasOwn(SHAPES, type) ? SHAPES[type] : undefined;
  // An own `__proto__` key (JSON.parse makes one) is left to zod.
  if (shape === undefined || !isPlainRecord(body) || Object.hasOwn(body, '__proto__')) return false;
  for (const name of shape.required) if (!(name in body)) return false;
  // for…in walks the parsed object's cached key list; Object.keys would allocate an array per webhook.
  // (A key inherited from a polluted prototype can only make a check fail, i.e. send the body to zod.)
  for (const name in body) {
    const check = Object.hasOwn(shape.fields, name) ? shape.fields[name] : undefined;
    if (check !== undefined && !check(body[name])) return false;
  }
  return true;
}
