/**
 * What a person does in the GHL web app, as the simulator's user* methods: each acts inside one
 * location, where a contact of another location is "not found", and emits the same webhooks an API
 * write would.
 */
import { contactWriteFromPatch } from './contact-input.js';
import { ghlErrors } from './errors.js';
import type { Contact } from './model.js';
import type { Mutations } from './mutations.js';
import type { GhlStore } from './store.js';

export interface UserActions {
  userCreateContact(locationId: string, input: Partial<Contact>): Contact;
  userUpdateContact(locationId: string, contactId: string, patch: Partial<Contact>): Contact;
  userDeleteContact(locationId: string, contactId: string): void;
  userCompleteTask(locationId: string, contactId: string, taskId: string): void;
  userDeleteTask(locationId: string, contactId: string, taskId: string): void;
}

export function createUserActions(store: GhlStore, mutations: Mutations): UserActions {
  const contactIn = (locationId: string, contactId: string): Contact => {
    if (!store.hasLocation(locationId)) throw ghlErrors.notFound('Location not found');
    const contact = store.getContact(contactId);
    if (!contact || contact.locationId !== locationId) throw ghlErrors.notFound('Contact not found');
    return contact;
  };
  return {
    userCreateContact(locationId, input) {
      if (!store.hasLocation(locationId)) throw ghlErrors.notFound('Location not found');
      return mutations.createContact(locationId, contactWriteFromPatch(input));
    },
    userUpdateContact(locationId, contactId, patch) {
      return mutations.updateContact(contactIn(locationId, contactId).id, contactWriteFromPatch(patch));
    },
    userDeleteContact(locationId, contactId) {
      mutations.deleteContact(contactIn(locationId, contactId).id);
    },
    userCompleteTask(locationId, contactId, taskId) {
      contactIn(locationId, contactId);
      mutations.updateTask(contactId, taskId, { completed: true });
    },
    userDeleteTask(locationId, contactId, taskId) {
      contactIn(locationId, contactId);
      mutations.deleteTask(contactId, taskId);
    },
  };
}
