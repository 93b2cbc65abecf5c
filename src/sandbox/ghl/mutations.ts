/**
 * Every change to simulated data, paired with the webhook GHL would send for it. Used by the API
 * routes (so the bridge's own writes echo back, as on the real platform) and by the user* methods.
 */
import { contactEvent, noteEvent, taskEvent, type GhlEvent } from './events.js';
import { ghlErrors } from './errors.js';
import type { Contact, ContactWrite, Note, NoteWrite, Task, TaskWrite } from './model.js';
import type { GhlStore } from './store.js';

export interface Mutations {
  createContact(locationId: string, write: ContactWrite): Contact;
  /** Always emits ContactUpdate, even when nothing changed (GHL does); plus ContactTagUpdate when tags changed. */
  updateContact(contactId: string, write: ContactWrite): Contact;
  deleteContact(contactId: string): Contact;
  /** Returns the contact and whether the tag set changed (only then ContactTagUpdate is emitted). */
  addTags(contactId: string, tags: string[]): { contact: Contact; changed: boolean };
  removeTags(contactId: string, tags: string[]): { contact: Contact; changed: boolean };

  createNote(contactId: string, write: NoteWrite & { body: string }): Note;
  updateNote(contactId: string, noteId: string, write: NoteWrite): Note;
  deleteNote(contactId: string, noteId: string): Note;

  createTask(contactId: string, write: TaskWrite & { title: string; dueDate: string; completed: boolean }): Task;
  /** Emits TaskComplete on a false → true change only; any other edit is silent (no TaskUpdate in GHL). */
  updateTask(contactId: string, taskId: string, write: TaskWrite): Task;
  deleteTask(contactId: string, taskId: string): Task;
}

function sameTagSet(a: readonly string[], b: readonly string[]): boolean {
  const left = new Set(a.map((tag) => tag.toLowerCase()));
  const right = new Set(b.map((tag) => tag.toLowerCase()));
  return left.size === right.size && [...left].every((tag) => right.has(tag));
}

type Emit = (event: GhlEvent) => void;

function contactOrThrow(store: GhlStore, contactId: string): Contact {
  const contact = store.getContact(contactId);
  if (!contact) throw ghlErrors.missing('Contact');
  return contact;
}

type ContactMutations = Pick<Mutations, 'createContact' | 'updateContact' | 'deleteContact' | 'addTags' | 'removeTags'>;

function contactMutations(store: GhlStore, emit: Emit): ContactMutations {
  function setTags(contactId: string, tags: string[]): { contact: Contact; changed: boolean } {
    const before = contactOrThrow(store, contactId);
    if (sameTagSet(before.tags, tags)) return { contact: before, changed: false };
    const contact = store.patchContact(contactId, { tags });
    if (!contact) throw ghlErrors.missing('Contact');
    emit(contactEvent('ContactTagUpdate', contact));
    return { contact, changed: true };
  }

  return {
    createContact(locationId, write) {
      const contact = store.insertContact(locationId, write);
      emit(contactEvent('ContactCreate', contact));
      return contact;
    },
    updateContact(contactId, write) {
      const before = contactOrThrow(store, contactId);
      const contact = store.patchContact(contactId, write);
      if (!contact) throw ghlErrors.missing('Contact');
      emit(contactEvent('ContactUpdate', contact));
      if (!sameTagSet(before.tags, contact.tags)) emit(contactEvent('ContactTagUpdate', contact));
      return contact;
    },
    deleteContact(contactId) {
      const contact = store.removeContact(contactId);
      if (!contact) throw ghlErrors.missing('Contact');
      emit(contactEvent('ContactDelete', contact));
      return contact;
    },
    addTags(contactId, tags) {
      const current = contactOrThrow(store, contactId).tags;
      const known = new Set(current.map((tag) => tag.toLowerCase()));
      const added = tags.map((tag) => tag.trim()).filter((tag) => tag !== '' && !known.has(tag.toLowerCase()));
      return setTags(contactId, [...current, ...new Set(added)]);
    },
    removeTags(contactId, tags) {
      const removed = new Set(tags.map((tag) => tag.trim().toLowerCase()));
      const current = contactOrThrow(store, contactId).tags;
      return setTags(
        contactId,
        current.filter((tag) => !removed.has(tag.toLowerCase())),
      );
    },
  };
}

function noteMutations(store: GhlStore, emit: Emit): Pick<Mutations, 'createNote' | 'updateNote' | 'deleteNote'> {
  return {
    createNote(contactId, write) {
      const contact = contactOrThrow(store, contactId);
      const note = store.insertNote(contactId, write);
      emit(noteEvent('NoteCreate', contact.locationId, note));
      return note;
    },
    updateNote(contactId, noteId, write) {
      const contact = contactOrThrow(store, contactId);
      const note = store.patchNote(contactId, noteId, write);
      if (!note) throw ghlErrors.missing('Note');
      emit(noteEvent('NoteUpdate', contact.locationId, note));
      return note;
    },
    deleteNote(contactId, noteId) {
      const contact = contactOrThrow(store, contactId);
      const note = store.removeNote(contactId, noteId);
      if (!note) throw ghlErrors.missing('Note');
      emit(noteEvent('NoteDelete', contact.locationId, note));
      return note;
    },
  };
}

function taskMutations(store: GhlStore, emit: Emit): Pick<Mutations, 'createTask' | 'updateTask' | 'deleteTask'> {
  return {
    createTask(contactId, write) {
      const contact = contactOrThrow(store, contactId);
      const task = store.insertTask(contactId, write);
      emit(taskEvent('TaskCreate', contact.locationId, task));
      return task;
    },
    updateTask(contactId, taskId, write) {
      const contact = contactOrThrow(store, contactId);
      const before = store.getTask(contactId, taskId);
      if (!before) throw ghlErrors.missing('Task');
      const task = store.patchTask(contactId, taskId, write);
      if (!task) throw ghlErrors.missing('Task');
      if (!before.completed && task.completed) emit(taskEvent('TaskComplete', contact.locationId, task));
      return task;
    },
    deleteTask(contactId, taskId) {
      const contact = contactOrThrow(store, contactId);
      const task = store.removeTask(contactId, taskId);
      if (!task) throw ghlErrors.missing('Task');
      emit(taskEvent('TaskDelete', contact.locationId, task));
      return task;
    },
  };
}

export function createMutations(store: GhlStore, emit: Emit): Mutations {
  return { ...contactMutations(store, emit), ...noteMutations(store, emit), ...taskMutations(store, emit) };
}
