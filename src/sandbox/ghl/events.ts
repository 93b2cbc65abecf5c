/**
 * Webhook payloads as GHL sends them: flat JSON, `type` = event name, fields and order as in the
 * examples of GHL's webhook-event documentation (copied to
 * test/fixtures/ghl/*.example.json). The emitter adds webhookId, timestamp, appId, versionId.
 */
import type { Contact, Note, Task } from './model.js';

export const CONTACT_EVENT_TYPES = ['ContactCreate', 'ContactUpdate', 'ContactDelete', 'ContactTagUpdate'] as const;
export const NOTE_EVENT_TYPES = ['NoteCreate', 'NoteUpdate', 'NoteDelete'] as const;
// GHL has no TaskUpdate event: edits other than completion are silent.
export const TASK_EVENT_TYPES = ['TaskCreate', 'TaskComplete', 'TaskDelete'] as const;

export type ContactEventType = (typeof CONTACT_EVENT_TYPES)[number];
export type NoteEventType = (typeof NOTE_EVENT_TYPES)[number];
export type TaskEventType = (typeof TASK_EVENT_TYPES)[number];
export type GhlEventType = ContactEventType | NoteEventType | TaskEventType;

export interface GhlEvent {
  type: GhlEventType;
  /** Deliveries about one contact keep their order. */
  orderingKey: string;
  payload: Record<string, unknown>;
}

type OptionalText = { [K in keyof Contact]-?: Contact[K] extends string | null | undefined ? (undefined extends Contact[K] ? K : never) : never }[keyof Contact];

/** These fields of the contact, unset ones as `undefined` (JSON leaves them out). */
function texts(contact: Contact, keys: readonly OptionalText[]): Record<string, string | undefined> {
  return Object.fromEntries(keys.map((key) => [key, contact[key] ?? undefined]));
}

export function contactEvent(type: ContactEventType, contact: Contact): GhlEvent {
  return {
    type,
    orderingKey: contact.id,
    payload: {
      type,
      locationId: contact.locationId,
      id: contact.id,
      ...texts(contact, ['address1', 'city', 'state', 'companyName', 'country', 'source']),
      dateAdded: contact.dateAdded,
      dateOfBirth: contact.dateOfBirth ?? undefined,
      dnd: contact.dnd ?? false,
      ...texts(contact, ['email', 'name', 'firstName', 'lastName', 'phone', 'postalCode']),
      tags: contact.tags,
      website: contact.website ?? undefined,
      attachments: [],
      assignedTo: contact.assignedTo ?? undefined,
      customFields: contact.customFields,
    },
  };
}

export function noteEvent(type: NoteEventType, locationId: string, note: Note): GhlEvent {
  return {
    type,
    orderingKey: note.contactId,
    payload: {
      type,
      locationId,
      id: note.id,
      body: note.body,
      contactId: note.contactId,
      dateAdded: note.dateAdded,
    },
  };
}

export function taskEvent(type: TaskEventType, locationId: string, task: Task): GhlEvent {
  return {
    type,
    orderingKey: task.contactId,
    payload: {
      type,
      locationId,
      id: task.id,
      assignedTo: task.assignedTo,
      body: task.body,
      contactId: task.contactId,
      title: task.title,
      dateAdded: task.dateAdded,
      dueDate: task.dueDate,
    },
  };
}
