/**
 * Location scoping: a sub-account token reaches only its own location's records. Another location's
 * record or locationId gets GHL's 403 (measured against the live API); an id that exists nowhere gets 404.
 */
import type { FastifyRequest } from 'fastify';
import { ghlErrors } from './errors.js';
import type { Contact } from './model.js';
import { tokenLocation } from './request-pipeline.js';
import type { GhlStore } from './store.js';

export function requireLocation(request: FastifyRequest, locationId: string): string {
  if (tokenLocation(request) !== locationId) throw ghlErrors.forbiddenLocation();
  return locationId;
}

export function requireContact(store: GhlStore, request: FastifyRequest, contactId: string): Contact {
  const contact = store.getContact(contactId);
  if (!contact) throw ghlErrors.missing('Contact');
  requireLocation(request, contact.locationId);
  return contact;
}
