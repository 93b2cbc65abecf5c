/**
 * In-memory records of the simulated GHL sub-accounts. Pure data: no HTTP, no webhooks (mutations.ts
 * pairs each change with its event), so tests may seed through it silently. Every read hands out a
 * copy so callers cannot alias the state.
 */
import { createChildRecords } from './child-records.js';
import { customFieldRecords } from './custom-field-records.js';
import { newGhlId } from './ids.js';
import type {
  Contact,
  ContactWrite,
  CustomField,
  CustomFieldInput,
  CustomFieldValue,
  Note,
  NoteWrite,
  Task,
  TaskWrite,
} from './model.js';

/** A custom-field reference in a write that matched no field of the location; GHL drops it silently. */
export interface IgnoredCustomFieldWrite {
  locationId: string;
  contactId?: string;
  ref: string;
}

export interface LocationSnapshot {
  id: string;
  contacts: Contact[];
  notes: Note[];
  tasks: Task[];
  customFields: CustomField[];
}

export interface GhlStore {
  hasLocation(locationId: string): boolean;
  addLocation(locationId: string): void;
  locationIds(): string[];

  listContacts(locationId: string): Contact[];
  /** Looks the id up across all locations (the caller checks the location). */
  getContact(contactId: string): Contact | undefined;
  insertContact(locationId: string, write: ContactWrite): Contact;
  patchContact(contactId: string, write: ContactWrite): Contact | undefined;
  removeContact(contactId: string): Contact | undefined;
  /** Duplicate detection as GHL does it: lower-cased email first, then phone digits. */
  findDuplicate(
    locationId: string,
    email: string | null | undefined,
    phone: string | null | undefined,
  ): { contact: Contact; matchingField: 'email' | 'phone' } | undefined;

  listNotes(contactId: string): Note[];
  getNote(contactId: string, noteId: string): Note | undefined;
  insertNote(contactId: string, write: NoteWrite & { body: string }): Note;
  patchNote(contactId: string, noteId: string, write: NoteWrite): Note | undefined;
  removeNote(contactId: string, noteId: string): Note | undefined;

  listTasks(contactId: string): Task[];
  getTask(contactId: string, taskId: string): Task | undefined;
  insertTask(contactId: string, write: TaskWrite & { title: string; dueDate: string; completed: boolean }): Task;
  patchTask(contactId: string, taskId: string, write: TaskWrite): Task | undefined;
  removeTask(contactId: string, taskId: string): Task | undefined;

  listCustomFields(locationId: string, model?: 'contact' | 'opportunity' | 'all'): CustomField[];
  /** By id or by field key (`contact.x` or `x`), as GET /locations/{id}/customFields/{id} allows. */
  findCustomField(locationId: string, idOrKey: string): CustomField | undefined;
  insertCustomField(locationId: string, input: CustomFieldInput): CustomField;
  patchCustomField(locationId: string, fieldId: string, input: Partial<CustomFieldInput>): CustomField | undefined;
  removeCustomField(locationId: string, fieldId: string): CustomField | undefined;

  /** Custom-field references that were dropped because no such field exists. */
  readonly ignoredCustomFieldWrites: IgnoredCustomFieldWrite[];
  snapshot(): LocationSnapshot[];
}

interface LocationData {
  contacts: Map<string, Contact>;
  customFields: Map<string, CustomField>;
}

/** Keeps `+` and digits so `+1 888-888-8888` and `+18888888888` are one number. */
export function normalizePhone(phone: string): string {
  const trimmed = phone.trim();
  const digits = trimmed.replace(/\D/g, '');
  return trimmed.startsWith('+') ? `+${digits}` : digits;
}

function phoneDigits(phone: string): string {
  return phone.replace(/\D/g, '');
}

function lower(value: string | null | undefined): string | null | undefined {
  return typeof value === 'string' ? value.toLowerCase() : value;
}

function isEmptyValue(value: unknown): boolean {
  return value === null || value === undefined || value === '' || (Array.isArray(value) && value.length === 0);
}

function mergeCustomFields(current: CustomFieldValue[], updates: CustomFieldValue[]): CustomFieldValue[] {
  const merged = new Map(current.map((entry) => [entry.id, entry.value] as const));
  for (const update of updates) {
    if (isEmptyValue(update.value)) merged.delete(update.id);
    else merged.set(update.id, structuredClone(update.value));
  }
  return [...merged].map(([id, value]) => ({ id, value }));
}

function applyWrite(contact: Contact, write: ContactWrite): void {
  const { customFields, tags, ...plain } = write;
  for (const [key, value] of Object.entries(plain)) {
    if (value !== undefined) Object.assign(contact, { [key]: structuredClone(value) });
  }
  if (typeof write.phone === 'string') contact.phone = normalizePhone(write.phone);
  if (tags !== undefined) contact.tags = [...new Set(tags.map((tag) => tag.trim()).filter((tag) => tag !== ''))];
  if (customFields !== undefined) contact.customFields = mergeCustomFields(contact.customFields, customFields);
  if (write.name === undefined && (write.firstName !== undefined || write.lastName !== undefined)) {
    const full = [contact.firstName, contact.lastName].filter((part) => typeof part === 'string' && part !== '');
    contact.name = full.length > 0 ? full.join(' ') : null;
  }
  contact.emailLowerCase = lower(contact.email);
  contact.firstNameLowerCase = lower(contact.firstName);
  contact.lastNameLowerCase = lower(contact.lastName);
  contact.fullNameLowerCase = lower(contact.name);
}

type ContactRecords = Pick<
  GhlStore,
  'listContacts' | 'getContact' | 'insertContact' | 'patchContact' | 'removeContact' | 'findDuplicate'
>;

interface ContactDeps {
  locations: Map<string, LocationData>;
  location(locationId: string): LocationData;
  stamp(): string;
  /** Forgets what a removed contact owned. */
  onRemove(contactId: string): void;
}

function contactRecords(deps: ContactDeps): ContactRecords {
  const { location, stamp } = deps;
  const contactLocation = new Map<string, string>();
  const liveContact = (contactId: string): Contact | undefined => {
    const locationId = contactLocation.get(contactId);
    return locationId === undefined ? undefined : deps.locations.get(locationId)?.contacts.get(contactId);
  };
  return {
    listContacts: (locationId) => [...location(locationId).contacts.values()].map((c) => structuredClone(c)),
    getContact(contactId) {
      const contact = liveContact(contactId);
      return contact && structuredClone(contact);
    },
    insertContact(locationId, write) {
      const data = location(locationId);
      const now = stamp();
      const contact: Contact = {
        id: newGhlId(),
        locationId,
        type: 'lead',
        tags: [],
        customFields: [],
        attachments: [],
        dateAdded: now,
        dateUpdated: now,
      };
      applyWrite(contact, write);
      data.contacts.set(contact.id, contact);
      contactLocation.set(contact.id, locationId);
      return structuredClone(contact);
    },
    patchContact(contactId, write) {
      const contact = liveContact(contactId);
      if (!contact) return undefined;
      applyWrite(contact, write);
      contact.dateUpdated = stamp();
      return structuredClone(contact);
    },
    removeContact(contactId) {
      const contact = liveContact(contactId);
      if (!contact) return undefined;
      location(contact.locationId).contacts.delete(contactId);
      contactLocation.delete(contactId);
      deps.onRemove(contactId);
      return structuredClone(contact);
    },
    findDuplicate(locationId, email, phone) {
      const contacts = [...location(locationId).contacts.values()];
      if (typeof email === 'string' && email !== '') {
        const wanted = email.toLowerCase();
        const byEmail = contacts.find((c) => c.emailLowerCase === wanted);
        if (byEmail) return { contact: structuredClone(byEmail), matchingField: 'email' };
      }
      if (typeof phone === 'string' && phoneDigits(phone) !== '') {
        const wanted = phoneDigits(phone);
        const byPhone = contacts.find((c) => typeof c.phone === 'string' && phoneDigits(c.phone) === wanted);
        if (byPhone) return { contact: structuredClone(byPhone), matchingField: 'phone' };
      }
      return undefined;
    },
  };
}

/** Strictly increasing timestamps: "dateUpdated changes on every write" even within one millisecond. */
function createStampClock(): () => string {
  let lastStamp = 0;
  return () => {
    lastStamp = Math.max(Date.now(), lastStamp + 1);
    return new Date(lastStamp).toISOString();
  };
}

export function createGhlStore(): GhlStore {
  const locations = new Map<string, LocationData>();
  const stamp = createStampClock();
  const notes = createChildRecords<Note>(stamp);
  const tasks = createChildRecords<Task>(stamp);
  const location = (locationId: string): LocationData => {
    const data = locations.get(locationId);
    if (!data) throw new Error(`unknown location ${locationId}`);
    return data;
  };
  const contacts = contactRecords({
    locations,
    location,
    stamp,
    onRemove(contactId) {
      notes.dropContact(contactId);
      tasks.dropContact(contactId);
    },
  });

  const store: GhlStore = {
    ignoredCustomFieldWrites: [],

    hasLocation: (locationId) => locations.has(locationId),
    addLocation(locationId) {
      if (!locations.has(locationId)) locations.set(locationId, { contacts: new Map(), customFields: new Map() });
    },
    locationIds: () => [...locations.keys()],

    ...contacts,

    listNotes: (contactId) => notes.list(contactId),
    getNote: (contactId, noteId) => notes.get(contactId, noteId),
    insertNote: (contactId, write) => notes.insert(contactId, write),
    patchNote: (contactId, noteId, write) => notes.patch(contactId, noteId, write),
    removeNote: (contactId, noteId) => notes.remove(contactId, noteId),

    listTasks: (contactId) => tasks.list(contactId),
    getTask: (contactId, taskId) => tasks.get(contactId, taskId),
    insertTask: (contactId, write) => tasks.insert(contactId, write),
    patchTask: (contactId, taskId, write) => tasks.patch(contactId, taskId, write),
    removeTask: (contactId, taskId) => tasks.remove(contactId, taskId),

    ...customFieldRecords((locationId) => location(locationId).customFields),

    snapshot() {
      return [...locations.entries()].map(([id, data]) => {
        const contactIds = [...data.contacts.keys()];
        return {
          id,
          contacts: [...data.contacts.values()].map((c) => structuredClone(c)),
          notes: contactIds.flatMap((contactId) => store.listNotes(contactId)),
          tasks: contactIds.flatMap((contactId) => store.listTasks(contactId)),
          customFields: store.listCustomFields(id),
        };
      });
    },
  };
  return store;
}
