/** The GHL client's single-contact endpoints: read, write, delete, create, upsert, tags and appointments. */
import { checked, segment, type GhlCaller, type ItemList } from './ghl-call.js';
import {
  AppointmentListResponseSchema,
  ContactEnvelopeSchema,
  CreateContactBodySchema,
  TagsBodySchema,
  TagsResponseSchema,
  UpdateContactBodySchema,
  UpsertContactBodySchema,
  UpsertContactResponseSchema,
  type Appointment,
  type Contact,
  type CreateContactInput,
  type UpdateContactBody,
  type UpsertContactInput,
} from './schemas.js';

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

export interface GhlContactsApi {
  /** GET /contacts/{contactId} (get-contact). */
  getContact(locationId: string, contactId: string): Promise<Contact>;
  /** PUT /contacts/{contactId} (update-contact); `tags` in the body replaces all tags. */
  updateContact(locationId: string, contactId: string, patch: UpdateContactBody): Promise<Contact>;
  /** PUT /contacts/{contactId} with `{ customFields: [{ id, field_value }] }` (update-contact, v2 custom-field shape). */
  updateContactFields(locationId: string, contactId: string, fields: ContactFieldValue[]): Promise<Contact>;
  /** DELETE /contacts/{contactId} (delete-contact); resolves to GHL's `succeded`. */
  deleteContact(locationId: string, contactId: string): Promise<boolean>;
  /** POST /contacts/ (create-contact). */
  createContact(locationId: string, input: CreateContactInput): Promise<Contact>;
  /** POST /contacts/upsert (upsert-contact); duplicate matching follows the location's settings. */
  upsertContact(locationId: string, input: UpsertContactInput): Promise<UpsertContactResult>;
  /** GET /contacts/{contactId}/appointments (get-appointments-for-contact). */
  listAppointments(locationId: string, contactId: string): Promise<ItemList<Appointment>>;
  /** POST /contacts/{contactId}/tags (add-tags); resolves to the tags GHL reports. */
  addTags(locationId: string, contactId: string, tags: string[]): Promise<string[]>;
  /** DELETE /contacts/{contactId}/tags with a JSON body (remove-tags); resolves to the tags GHL reports. */
  removeTags(locationId: string, contactId: string, tags: string[]): Promise<string[]>;
}

export function ghlContactsApi({ call, deleted }: GhlCaller): GhlContactsApi {
  const contactPath = (contactId: string, below = '') => `/contacts/${segment(contactId)}${below}`;

  async function contactWrite(locationId: string, contactId: string, body: UpdateContactBody): Promise<Contact> {
    const path = contactPath(contactId);
    const { contact } = await call(locationId, { method: 'PUT', path, json: checked(UpdateContactBodySchema, body, 'contact update') }, ContactEnvelopeSchema);
    return contact;
  }

  async function tagsCall(locationId: string, contactId: string, method: 'POST' | 'DELETE', tags: string[]): Promise<string[]> {
    const json = checked(TagsBodySchema, { tags }, 'tags');
    const answer = await call(locationId, { method, path: contactPath(contactId, '/tags'), json }, TagsResponseSchema);
    return answer.tags;
  }

  return {
    async getContact(locationId, contactId) {
      const { contact } = await call(locationId, { method: 'GET', path: contactPath(contactId) }, ContactEnvelopeSchema);
      return contact;
    },

    updateContact: contactWrite,

    async updateContactFields(locationId, contactId, fields) {
      return contactWrite(locationId, contactId, { customFields: fields.map(({ id, value }) => ({ id, field_value: value })) });
    },

    async deleteContact(locationId, contactId) {
      return deleted(locationId, contactPath(contactId));
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

    async listAppointments(locationId, contactId) {
      const { events } = await call(locationId, { method: 'GET', path: contactPath(contactId, '/appointments') }, AppointmentListResponseSchema);
      return { items: events };
    },

    addTags: (locationId, contactId, tags) => tagsCall(locationId, contactId, 'POST', tags),

    removeTags: (locationId, contactId, tags) => tagsCall(locationId, contactId, 'DELETE', tags),
  };
}
