/**
 * Contacts API 2021-07-28 (apps/contacts.json): contact CRUD, upsert, tags and appointments.
 */
import type { FastifyInstance } from 'fastify';
import { requireContact, requireLocation } from './access.js';
import { contactWriteFromBody } from './contact-input.js';
import { ghlErrors } from './errors.js';
import type { Mutations } from './mutations.js';
import {
  CreateContactBodySchema,
  TagsBodySchema,
  UpdateContactBodySchema,
  UpsertContactBodySchema,
} from './schemas.js';
import type { GhlStore } from './store.js';
import { parseOrThrow } from './validation.js';

export interface ContactRouteDeps {
  store: GhlStore;
  mutations: Mutations;
}

interface ContactParams {
  Params: { contactId: string };
}

export function registerContactRoutes(app: FastifyInstance, deps: ContactRouteDeps): void {
  const { store, mutations } = deps;

  app.get<ContactParams>('/contacts/:contactId', async (request) => ({
    contact: requireContact(store, request, request.params.contactId),
  }));

  app.put<ContactParams>('/contacts/:contactId', async (request) => {
    const current = requireContact(store, request, request.params.contactId);
    const body = parseOrThrow(UpdateContactBodySchema, request.body);
    const write = contactWriteFromBody(store, current.locationId, body, current.id);
    // GHL answers 200 and emits ContactUpdate even when the PUT changes nothing.
    const contact = mutations.updateContact(current.id, write);
    return { succeded: true, contact };
  });

  app.delete<ContactParams>('/contacts/:contactId', async (request) => {
    const current = requireContact(store, request, request.params.contactId);
    mutations.deleteContact(current.id);
    return { succeded: true };
  });

  for (const path of ['/contacts/', '/contacts']) {
    app.post(path, async (request, reply) => {
      const body = parseOrThrow(CreateContactBodySchema, request.body);
      requireLocation(request, body.locationId);
      // Locations refuse duplicates by default ("Allow Duplicate Contact" off): email first, then phone.
      const duplicate = store.findDuplicate(body.locationId, body.email, body.phone);
      if (duplicate) {
        throw ghlErrors.badRequest('This location does not allow duplicated contacts.', {
          meta: {
            contactName: duplicate.contact.name ?? null,
            contactId: duplicate.contact.id,
            matchingField: duplicate.matchingField,
          },
        });
      }
      const contact = mutations.createContact(body.locationId, contactWriteFromBody(store, body.locationId, body));
      return reply.code(201).send({ contact });
    });
  }

  // Upsert ignores createNewIfDuplicateAllowed: simulated locations do not allow duplicates.
  app.post('/contacts/upsert', async (request) => {
    const body = parseOrThrow(UpsertContactBodySchema, request.body);
    requireLocation(request, body.locationId);
    const match = store.findDuplicate(body.locationId, body.email, body.phone);
    if (match) {
      const write = contactWriteFromBody(store, body.locationId, body, match.contact.id);
      return { new: false, contact: mutations.updateContact(match.contact.id, write) };
    }
    return { new: true, contact: mutations.createContact(body.locationId, contactWriteFromBody(store, body.locationId, body)) };
  });

  app.get<ContactParams>('/contacts/:contactId/appointments', async (request) => {
    requireContact(store, request, request.params.contactId);
    return { events: [] };
  });

  app.post<ContactParams>('/contacts/:contactId/tags', async (request, reply) => {
    const current = requireContact(store, request, request.params.contactId);
    const { tags } = parseOrThrow(TagsBodySchema, request.body);
    const { contact } = mutations.addTags(current.id, tags);
    return reply.code(201).send({ tags: contact.tags });
  });

  app.delete<ContactParams>('/contacts/:contactId/tags', async (request) => {
    const current = requireContact(store, request, request.params.contactId);
    const { tags } = parseOrThrow(TagsBodySchema, request.body);
    const { contact } = mutations.removeTags(current.id, tags);
    return { tags: contact.tags };
  });
}
