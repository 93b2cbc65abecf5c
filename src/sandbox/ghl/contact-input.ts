/**
 * Turns contact request bodies into store writes: custom-field references resolved to ids (by id, or by
 * key `contact.x` / `x`), values taken from `field_value`, `fieldValue` or `value` in that order.
 * References to unknown fields are dropped, as GHL does, and recorded in the store for tests.
 */
import type { Contact, ContactWrite, CustomFieldValue } from './model.js';
import type { CustomFieldWrite, UpdateContactBody } from './schemas.js';
import type { GhlStore } from './store.js';
import { normalizeBirthDate } from './birth-date.js';

export function resolveCustomFieldWrites(
  store: GhlStore,
  locationId: string,
  items: CustomFieldWrite[],
  contactId?: string,
): CustomFieldValue[] {
  const resolved: CustomFieldValue[] = [];
  for (const item of items) {
    const ref = item.id ?? item.key ?? '';
    const field = store.findCustomField(locationId, ref) ?? (item.key ? store.findCustomField(locationId, item.key) : undefined);
    if (!field || field.model !== 'contact') {
      store.ignoredCustomFieldWrites.push({ locationId, ref, ...(contactId === undefined ? {} : { contactId }) });
      continue;
    }
    const value = item.field_value !== undefined ? item.field_value : item.fieldValue !== undefined ? item.fieldValue : item.value;
    resolved.push({ id: field.id, value: value ?? null });
  }
  return resolved;
}

type ContactBody = UpdateContactBody & {
  locationId?: string;
  companyName?: string | null;
  gender?: string;
  createNewIfDuplicateAllowed?: boolean;
};

/** The body minus what is not contact data (locationId, the upsert switch). */
export function contactWriteFromBody(
  store: GhlStore,
  locationId: string,
  body: ContactBody,
  contactId?: string,
): ContactWrite {
  const { customFields, locationId: _locationId, createNewIfDuplicateAllowed: _switch, ...rest } = body;
  const write: ContactWrite = { ...rest };
  if (typeof rest.dateOfBirth === 'string') write.dateOfBirth = normalizeBirthDate(rest.dateOfBirth) ?? rest.dateOfBirth;
  if (customFields !== undefined) write.customFields = resolveCustomFieldWrites(store, locationId, customFields, contactId);
  return write;
}

/** What a simulated UI user may change: any contact data, never identity, timestamps or derived copies. */
export function contactWriteFromPatch(patch: Partial<Contact>): ContactWrite {
  const {
    id: _id,
    locationId: _locationId,
    type: _type,
    dateAdded: _dateAdded,
    dateUpdated: _dateUpdated,
    emailLowerCase: _email,
    firstNameLowerCase: _first,
    lastNameLowerCase: _last,
    fullNameLowerCase: _full,
    attachments: _attachments,
    ...write
  } = patch;
  return write;
}
