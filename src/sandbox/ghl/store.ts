/**
 * In-memory records of the simulated GHL sub-accounts. Pure data: no HTTP, no webhooks (mutations.ts
 * pairs each change with its event), so tests may seed through it silently. Every read hands out a
 * copy so callers cannot alias the state.
 */
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

export function fieldKeyFromName(name: string, model: 'contact' | 'opportunity' = 'contact'): string {
  const slug = name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
  return `${model}.${slug}`;
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

export function createGhlStore(): GhlStore {
  const locations = new Map<string, LocationData>();
  const contactLocation = new Map<string, string>();
  const notes = new Map<string, Map<string, Note>>();
  const tasks = new Map<string, Map<string, Task>>();
  const ignoredCustomFieldWrites: IgnoredCustomFieldWrite[] = [];
  let lastStamp = 0;

  // Strictly increasing timestamps: "dateUpdated changes on every write" even within one millisecond.
  function stamp(): string {
    lastStamp = Math.max(Date.now(), lastStamp + 1);
    return new Date(lastStamp).toISOString();
  }

  function location(locationId: string): LocationData {
    const data = locations.get(locationId);
    if (!data) throw new Error(`unknown location ${locationId}`);
    return data;
  }

  function liveContact(contactId: string): Contact | undefined {
    const locationId = contactLocation.get(contactId);
    return locationId === undefined ? undefined : locations.get(locationId)?.contacts.get(contactId);
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

  function children<T>(map: Map<string, Map<string, T>>, contactId: string): Map<string, T> {
    let found = map.get(contactId);
    if (!found) {
      found = new Map();
      map.set(contactId, found);
    }
    return found;
  }

  function sortedByDateAdded<T extends { dateAdded: string }>(items: Iterable<T>): T[] {
    return [...items].sort((a, b) => a.dateAdded.localeCompare(b.dateAdded)).map((item) => structuredClone(item));
  }

  function buildCustomField(locationId: string, id: string, input: CustomFieldInput): CustomField {
    const model = input.model ?? 'contact';
    return {
      id,
      name: input.name,
      fieldKey: fieldKeyFromName(input.name, model),
      placeholder: input.placeholder ?? '',
      dataType: input.dataType,
      position: input.position ?? 0,
      picklistOptions: input.picklistOptions ?? [],
      picklistImageOptions: [],
      isAllowedCustomOption: false,
      isMultiFileAllowed: input.isMultipleFile ?? false,
      maxFileLimit: input.maxNumberOfFiles ?? 0,
      locationId,
      model,
    };
  }

  const store: GhlStore = {
    ignoredCustomFieldWrites,

    hasLocation: (locationId) => locations.has(locationId),
    addLocation(locationId) {
      if (!locations.has(locationId)) locations.set(locationId, { contacts: new Map(), customFields: new Map() });
    },
    locationIds: () => [...locations.keys()],

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
      notes.delete(contactId);
      tasks.delete(contactId);
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

    listNotes: (contactId) => sortedByDateAdded(notes.get(contactId)?.values() ?? []),
    getNote(contactId, noteId) {
      const note = notes.get(contactId)?.get(noteId);
      return note && structuredClone(note);
    },
    insertNote(contactId, write) {
      const note: Note = { ...structuredClone(write), id: newGhlId(), contactId, dateAdded: stamp() };
      children(notes, contactId).set(note.id, note);
      return structuredClone(note);
    },
    patchNote(contactId, noteId, write) {
      const note = notes.get(contactId)?.get(noteId);
      if (!note) return undefined;
      for (const [key, value] of Object.entries(write)) {
        if (value !== undefined) Object.assign(note, { [key]: value });
      }
      return structuredClone(note);
    },
    removeNote(contactId, noteId) {
      const list = notes.get(contactId);
      const note = list?.get(noteId);
      if (!list || !note) return undefined;
      list.delete(noteId);
      return note;
    },

    listTasks: (contactId) => sortedByDateAdded(tasks.get(contactId)?.values() ?? []),
    getTask(contactId, taskId) {
      const task = tasks.get(contactId)?.get(taskId);
      return task && structuredClone(task);
    },
    insertTask(contactId, write) {
      const task: Task = { ...structuredClone(write), id: newGhlId(), contactId, dateAdded: stamp() };
      children(tasks, contactId).set(task.id, task);
      return structuredClone(task);
    },
    patchTask(contactId, taskId, write) {
      const task = tasks.get(contactId)?.get(taskId);
      if (!task) return undefined;
      for (const [key, value] of Object.entries(write)) {
        if (value !== undefined) Object.assign(task, { [key]: value });
      }
      return structuredClone(task);
    },
    removeTask(contactId, taskId) {
      const list = tasks.get(contactId);
      const task = list?.get(taskId);
      if (!list || !task) return undefined;
      list.delete(taskId);
      return task;
    },

    listCustomFields(locationId, model = 'all') {
      return [...location(locationId).customFields.values()]
        .filter((field) => model === 'all' || field.model === model)
        .sort((a, b) => a.position - b.position)
        .map((field) => structuredClone(field));
    },
    findCustomField(locationId, idOrKey) {
      const fields = [...location(locationId).customFields.values()];
      const found =
        fields.find((field) => field.id === idOrKey) ??
        fields.find((field) => field.fieldKey === idOrKey) ??
        fields.find((field) => field.model === 'contact' && field.fieldKey === `contact.${idOrKey}`);
      return found && structuredClone(found);
    },
    insertCustomField(locationId, input) {
      const field = buildCustomField(locationId, newGhlId(), input);
      location(locationId).customFields.set(field.id, field);
      return structuredClone(field);
    },
    patchCustomField(locationId, fieldId, input) {
      const field = location(locationId).customFields.get(fieldId);
      if (!field) return undefined;
      // The field key and model are fixed at creation: renaming a field keeps its key.
      const updated: CustomField = {
        ...field,
        name: input.name ?? field.name,
        placeholder: input.placeholder ?? field.placeholder,
        position: input.position ?? field.position,
        picklistOptions: input.picklistOptions ?? field.picklistOptions,
        isMultiFileAllowed: input.isMultipleFile ?? field.isMultiFileAllowed,
        maxFileLimit: input.maxNumberOfFiles ?? field.maxFileLimit,
      };
      location(locationId).customFields.set(fieldId, updated);
      return structuredClone(updated);
    },
    removeCustomField(locationId, fieldId) {
      const data = location(locationId);
      const field = data.customFields.get(fieldId);
      if (!field) return undefined;
      data.customFields.delete(fieldId);
      return field;
    },

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
