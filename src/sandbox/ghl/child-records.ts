/**
 * The records a contact owns (notes, tasks), kept per contact. Listings are oldest first; every read
 * hands out a copy. A removal returns the removed record itself, since nothing can reach it any more.
 */
import { newGhlId } from './ids.js';

type OwnedKeys = 'id' | 'contactId' | 'dateAdded';

export interface ChildRecords<T extends { id: string; contactId: string; dateAdded: string }> {
  list(contactId: string): T[];
  get(contactId: string, id: string): T | undefined;
  insert(contactId: string, write: Omit<T, OwnedKeys>): T;
  /** Sets the defined properties of `write`; the others keep their values. */
  patch(contactId: string, id: string, write: Partial<Omit<T, OwnedKeys>>): T | undefined;
  remove(contactId: string, id: string): T | undefined;
  /** Forgets every record of a deleted contact. */
  dropContact(contactId: string): void;
}

export function createChildRecords<T extends { id: string; contactId: string; dateAdded: string }>(stamp: () => string): ChildRecords<T> {
  const byContact = new Map<string, Map<string, T>>();

  function of(contactId: string): Map<string, T> {
    let found = byContact.get(contactId);
    if (!found) {
      found = new Map();
      byContact.set(contactId, found);
    }
    return found;
  }

  return {
    list: (contactId) =>
      [...(byContact.get(contactId)?.values() ?? [])]
        .sort((a, b) => a.dateAdded.localeCompare(b.dateAdded))
        .map((item) => structuredClone(item)),
    get(contactId, id) {
      const record = byContact.get(contactId)?.get(id);
      return record && structuredClone(record);
    },
    insert(contactId, write) {
      // The write carries every other property of T; TypeScript cannot see that through the spread.
      const record = { ...structuredClone(write), id: newGhlId(), contactId, dateAdded: stamp() } as T;
      of(contactId).set(record.id, record);
      return structuredClone(record);
    },
    patch(contactId, id, write) {
      const record = byContact.get(contactId)?.get(id);
      if (!record) return undefined;
      for (const [key, value] of Object.entries(write)) {
        if (value !== undefined) Object.assign(record, { [key]: value });
      }
      return structuredClone(record);
    },
    remove(contactId, id) {
      const list = byContact.get(contactId);
      const record = list?.get(id);
      if (!list || !record) return undefined;
      list.delete(id);
      return record;
    },
    dropContact(contactId) {
      byContact.delete(contactId);
    },
  };
}
