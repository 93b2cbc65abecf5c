/**
 * Typed client for the GHL Contacts API (Version 2021-07-28) and location custom fields: one object
 * composed of the endpoint groups (contacts, contact lists, tasks, notes, custom fields), all built
 * on one caller (ghl-call.ts) and so on one transport, one token provider and one call budget.
 */
import { createGhlCaller, type GhlClientOptions } from './ghl-call.js';
import { ghlContactListsApi, type GhlContactListsApi } from './ghl-contact-lists.js';
import { ghlContactsApi, type GhlContactsApi } from './ghl-contacts.js';
import { ghlCustomFieldsApi, type GhlCustomFieldsApi } from './ghl-custom-fields.js';
import { ghlNotesApi, type GhlNotesApi } from './ghl-notes.js';
import { ghlTasksApi, type GhlTasksApi } from './ghl-tasks.js';

// The client's option, page and result types, importable from here.
export type { GhlCallBudget, GhlClientOptions, ItemList } from './ghl-call.js';
export type { ContactListCursor, ContactPage, ContactSearchPage, ContactsByBusinessPage, SearchCursorShape } from './ghl-contact-lists.js';
export type { ContactFieldValue, UpsertContactResult } from './ghl-contacts.js';

export interface GhlClient extends GhlContactsApi, GhlContactListsApi, GhlTasksApi, GhlNotesApi, GhlCustomFieldsApi {
  close(): Promise<void>;
}

export function createGhlClient(options: GhlClientOptions): GhlClient {
  const caller = createGhlCaller(options);
  return {
    ...ghlContactsApi(caller),
    ...ghlContactListsApi(caller),
    ...ghlTasksApi(caller),
    ...ghlNotesApi(caller),
    ...ghlCustomFieldsApi(caller),
    close: () => caller.close(),
  };
}
