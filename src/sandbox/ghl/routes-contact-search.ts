/**
 * Reading many contacts: GET /contacts/ (deprecated, cursor by startAfter/startAfterId), POST
 * /contacts/search, GET /contacts/search/duplicate and GET /contacts/business/{businessId}.
 */
import type { FastifyInstance } from 'fastify';
import { requireLocation } from './access.js';
import { listContacts, searchContacts, SearchBodySchema } from './contact-search.js';
import { BusinessContactsQuerySchema, DuplicateQuerySchema, ListContactsQuerySchema } from './schemas.js';
import type { GhlStore } from './store.js';
import { parseOrThrow } from './validation.js';

export interface SearchRouteDeps {
  store: GhlStore;
  /** The simulator's base URL, for meta.nextPageUrl. */
  baseUrl(): string;
}

export function registerContactSearchRoutes(app: FastifyInstance, deps: SearchRouteDeps): void {
  const { store } = deps;

  for (const path of ['/contacts/', '/contacts']) {
    app.get(path, async (request) => {
      const query = parseOrThrow(ListContactsQuerySchema, request.query);
      const locationId = requireLocation(request, query.locationId);
      return listContacts(store.listContacts(locationId), query, deps.baseUrl(), locationId);
    });
  }

  app.post('/contacts/search', async (request) => {
    const body = parseOrThrow(SearchBodySchema, request.body);
    const locationId = requireLocation(request, body.locationId);
    return searchContacts(store.listContacts(locationId), body);
  });

  app.get('/contacts/search/duplicate', async (request) => {
    const query = parseOrThrow(DuplicateQuerySchema, request.query);
    const locationId = requireLocation(request, query.locationId);
    const match = store.findDuplicate(locationId, query.email, query.number);
    return { contact: match?.contact ?? null };
  });

  app.get<{ Params: { businessId: string } }>('/contacts/business/:businessId', async (request) => {
    const query = parseOrThrow(BusinessContactsQuerySchema, request.query);
    const locationId = requireLocation(request, query.locationId);
    const needle = query.query?.toLowerCase();
    const matching = store
      .listContacts(locationId)
      .filter((contact) => contact.businessId === request.params.businessId)
      .filter((contact) => needle === undefined || (contact.name ?? '').toLowerCase().includes(needle))
      .sort((a, b) => a.dateAdded.localeCompare(b.dateAdded));
    const skip = query.skip ?? 0;
    const contacts = matching.slice(skip, skip + (query.limit ?? 20));
    return { contacts, count: matching.length };
  });
}
