/** The GHL client's endpoints that answer pages of contacts: the plain list, the search and by business. */
import { checked, segment, type GhlCaller } from './ghl-call.js';
import {
  ContactListResponseSchema,
  ContactSearchResponseSchema,
  ContactsByBusinessQuerySchema,
  ListContactsQuerySchema,
  SearchContactsBodySchema,
  type Contact,
  type ContactsByBusinessQuery,
  type ListContactsQuery,
  type SearchContactsInput,
} from './schemas.js';

/** Where GET /contacts/ continues: the last contact's id and its dateAdded in epoch ms. */
export interface ContactListCursor {
  startAfterId: string;
  startAfter?: number;
}

/** GET /contacts/ page. `nextCursor` is absent on the last page (a page shorter than the limit). */
export interface ContactPage {
  items: Contact[];
  total?: number;
  nextCursor?: ContactListCursor;
}

/** Where a search page's next cursor was: on its last contact, beside the contacts, or nowhere. */
export type SearchCursorShape = 'contact' | 'response' | 'none';

/** POST /contacts/search page. `nextSearchAfter` is absent on the last page. */
export interface ContactSearchPage {
  items: Contact[];
  total?: number;
  nextSearchAfter?: (string | number)[];
  /** Which of the two cursor shapes GHL used on this page (its search guide leaves it open). */
  cursorShape: SearchCursorShape;
}

/** GET /contacts/business/{id} page (offset paging with `skip`). */
export interface ContactsByBusinessPage {
  items: Contact[];
  total?: number;
}

export interface GhlContactListsApi {
  /** GET /contacts/ (get-contacts, deprecated) with startAfterId / startAfter / limit / query. */
  listContacts(locationId: string, query?: ListContactsQuery): Promise<ContactPage>;
  /** POST /contacts/search (search-contacts-advanced). */
  searchContacts(locationId: string, input: SearchContactsInput): Promise<ContactSearchPage>;
  /** GET /contacts/business/{businessId} (get-contacts-by-businessId). */
  getContactsByBusiness(locationId: string, businessId: string, query?: ContactsByBusinessQuery): Promise<ContactsByBusinessPage>;
}

const DEFAULT_LIST_LIMIT = 20; // GET /contacts/ default page size per the spec

export function ghlContactListsApi({ call }: GhlCaller): GhlContactListsApi {
  return {
    async listContacts(locationId, query = {}) {
      const params = checked(ListContactsQuerySchema, query, 'contact list query');
      const answer = await call(locationId, { method: 'GET', path: '/contacts/', query: { locationId, ...params } }, ContactListResponseSchema);
      const items = answer.contacts;
      const total = answer.meta?.total ?? answer.count ?? undefined;
      const last = items.at(-1);
      // A short page is the last one; the meta block (undocumented) is preferred when present.
      if (last === undefined || items.length < (params.limit ?? DEFAULT_LIST_LIMIT)) return { items, total };
      const startAfterId = answer.meta?.startAfterId ?? last.id;
      const startAfter = answer.meta?.startAfter ?? epochMs(last.dateAdded);
      return { items, total, nextCursor: startAfter === undefined ? { startAfterId } : { startAfterId, startAfter } };
    },

    async searchContacts(locationId, input) {
      const body = checked(SearchContactsBodySchema, { ...input, locationId }, 'contact search');
      const answer = await call(locationId, { method: 'POST', path: '/contacts/search', json: body }, ContactSearchResponseSchema);
      const items = answer.contacts;
      const total = answer.total ?? undefined;
      const onContact = items.at(-1)?.searchAfter ?? undefined;
      const beside = answer.searchAfter ?? undefined;
      const cursorShape: SearchCursorShape = onContact !== undefined ? 'contact' : beside !== undefined ? 'response' : 'none';
      // A short page is the last one, whatever cursor came with it.
      const nextSearchAfter = items.length < body.pageLimit ? undefined : (onContact ?? beside);
      return nextSearchAfter === undefined ? { items, total, cursorShape } : { items, total, nextSearchAfter, cursorShape };
    },

    async getContactsByBusiness(locationId, businessId, query = {}) {
      const params = checked(ContactsByBusinessQuerySchema, query, 'contacts-by-business query');
      const answer = await call(
        locationId,
        { method: 'GET', path: `/contacts/business/${segment(businessId)}`, query: { locationId, ...params } },
        ContactListResponseSchema,
      );
      return { items: answer.contacts, total: answer.count ?? undefined };
    },
  };
}

function epochMs(date: string | null | undefined): number | undefined {
  if (date === undefined || date === null) return undefined;
  const ms = Date.parse(date);
  return Number.isNaN(ms) ? undefined : ms;
}
