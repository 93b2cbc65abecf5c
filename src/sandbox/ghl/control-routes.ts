/**
 * The sandbox control API under /__sandbox (no auth; the simulator listens on loopback only) for
 * out-of-process users such as the demo command and chaos tests. The routes and their bodies are below.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { resolveCustomFieldWrites } from './contact-input.js';
import { ghlErrors } from './errors.js';
import { FaultRuleInputSchema, type FaultRegistry } from '../shared/faults.js';
import { registerCommonControlRoutes } from '../shared/control-routes.js';
import type { Contact } from './model.js';
import { MissingEntityStatusSchema, type MissingEntitySwitch } from './missing-entity.js';
import { CONTROL_PREFIX, type RecordedCall } from './request-pipeline.js';
import { CustomFieldWriteSchema } from './schemas.js';
import type { GhlStore } from './store.js';
import { parseOrThrow } from './validation.js';
import type { WebhookDelivery } from './webhook-emitter.js';

export interface ControlDeps {
  store: GhlStore;
  calls: RecordedCall[];
  undocumented: RecordedCall[];
  deliveries: WebhookDelivery[];
  faults: FaultRegistry;
  setWebhookUrl(url: string | undefined): void;
  missingEntity: MissingEntitySwitch;
  userCreateContact(locationId: string, input: Partial<Contact>): Contact;
  userUpdateContact(locationId: string, contactId: string, patch: Partial<Contact>): Contact;
  userDeleteContact(locationId: string, contactId: string): void;
}

const text = z.string().nullable().optional();

/** What a UI user can type into a contact; custom fields by id or key, like the API. */
const ControlContactSchema = z.strictObject({
  firstName: text,
  lastName: text,
  name: text,
  email: text,
  phone: text,
  companyName: text,
  website: text,
  address1: text,
  city: text,
  state: text,
  postalCode: text,
  country: text,
  timezone: text,
  source: text,
  assignedTo: text,
  gender: text,
  dateOfBirth: text,
  businessId: text,
  dnd: z.boolean().optional(),
  tags: z.array(z.string()).optional(),
  customFields: z.array(CustomFieldWriteSchema).optional(),
});

const MissingEntityBodySchema = z.strictObject({ status: MissingEntityStatusSchema });

const WebhookUrlBodySchema = z.strictObject({ url: z.url().nullable().optional() });

export function registerControlRoutes(app: FastifyInstance, deps: ControlDeps): void {
  const known = (locationId: string): string => {
    if (!deps.store.hasLocation(locationId)) throw ghlErrors.notFound('Location not found');
    return locationId;
  };

  const toPatch = (locationId: string, body: unknown, contactId?: string): Partial<Contact> => {
    const { customFields, ...rest } = parseOrThrow(ControlContactSchema, body);
    if (customFields === undefined) return rest;
    return { ...rest, customFields: resolveCustomFieldWrites(deps.store, locationId, customFields, contactId) };
  };

  app.post<{ Params: { locationId: string } }>(`${CONTROL_PREFIX}/locations/:locationId/contacts`, async (request, reply) => {
    const locationId = known(request.params.locationId);
    const contact = deps.userCreateContact(locationId, toPatch(locationId, request.body));
    return reply.code(201).send({ contact });
  });

  app.put<{ Params: { locationId: string; contactId: string } }>(
    `${CONTROL_PREFIX}/locations/:locationId/contacts/:contactId`,
    async (request) => {
      const { locationId, contactId } = request.params;
      known(locationId);
      return { contact: deps.userUpdateContact(locationId, contactId, toPatch(locationId, request.body, contactId)) };
    },
  );

  app.delete<{ Params: { locationId: string; contactId: string } }>(
    `${CONTROL_PREFIX}/locations/:locationId/contacts/:contactId`,
    async (request) => {
      const { locationId, contactId } = request.params;
      deps.userDeleteContact(known(locationId), contactId);
      return { succeded: true };
    },
  );

  registerCommonControlRoutes(app, CONTROL_PREFIX, deps, {
    parseRule: (body) => parseOrThrow(FaultRuleInputSchema, body),
    invalidPath: () => ghlErrors.unprocessable(['path must be a valid regular expression']),
    faultNotFound: () => ghlErrors.notFound('Fault not found'),
    createdStatus: 200,
  });

  // Requests GHL's OpenAPI documents do not describe (answered 404 or 422, or refused for a header).
  app.get(`${CONTROL_PREFIX}/undocumented`, async () => ({ requests: deps.undocumented }));
  app.delete(`${CONTROL_PREFIX}/undocumented`, async () => {
    deps.undocumented.length = 0;
    return { cleared: true };
  });

  // How API calls answer a missing contact, note or task: 404, 400 or 422 (GHL answers each in places).
  app.put(`${CONTROL_PREFIX}/missing-entity-status`, async (request) => {
    const { status } = parseOrThrow(MissingEntityBodySchema, request.body);
    deps.missingEntity.status = status;
    return { status };
  });

  app.put(`${CONTROL_PREFIX}/webhook-url`, async (request) => {
    const { url } = parseOrThrow(WebhookUrlBodySchema, request.body);
    deps.setWebhookUrl(url ?? undefined);
    return { url: url ?? null };
  });

  app.get(`${CONTROL_PREFIX}/state`, async () => ({ locations: deps.store.snapshot() }));
}
