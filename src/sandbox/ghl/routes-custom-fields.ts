/**
 * Custom field definitions of a location (apps/locations.json): list, create, read by id or key,
 * update, delete. The field key is derived from the name at creation and never changes.
 */
import type { FastifyInstance } from 'fastify';
import { requireLocation } from './access.js';
import { ghlErrors } from './errors.js';
import {
  CreateCustomFieldBodySchema,
  CustomFieldsQuerySchema,
  UpdateCustomFieldBodySchema,
} from './schemas.js';
import { fieldKeyFromName } from './custom-field-records.js';
import type { GhlStore } from './store.js';
import { parseOrThrow } from './validation.js';

interface LocationParams {
  Params: { locationId: string };
}
interface FieldParams {
  Params: { locationId: string; id: string };
}

export function registerCustomFieldRoutes(app: FastifyInstance, deps: { store: GhlStore }): void {
  const { store } = deps;

  const existingField = (locationId: string, id: string) => {
    const field = store.findCustomField(locationId, id);
    if (!field) throw ghlErrors.notFound('Custom field not found');
    return field;
  };

  app.get<LocationParams>('/locations/:locationId/customFields', async (request) => {
    const locationId = requireLocation(request, request.params.locationId);
    const { model } = parseOrThrow(CustomFieldsQuerySchema, request.query);
    return { customFields: store.listCustomFields(locationId, model ?? 'all') };
  });

  app.post<LocationParams>('/locations/:locationId/customFields', async (request, reply) => {
    const locationId = requireLocation(request, request.params.locationId);
    const body = parseOrThrow(CreateCustomFieldBodySchema, request.body);
    const model = body.model ?? 'contact';
    const fieldKey = fieldKeyFromName(body.name, model);
    if (fieldKey === `${model}.`) throw ghlErrors.unprocessable(['name must contain letters or digits']);
    if (store.listCustomFields(locationId, model).some((field) => field.fieldKey === fieldKey)) {
      throw ghlErrors.badRequest(`A custom field with the key ${fieldKey} already exists`, { error: 'Bad Request' });
    }
    const customField = store.insertCustomField(locationId, {
      name: body.name,
      dataType: body.dataType,
      model,
      placeholder: body.placeholder,
      position: body.position,
      isMultipleFile: body.isMultipleFile,
      maxNumberOfFiles: body.maxNumberOfFiles,
      // The documents give no way to pass picklist options on this endpoint: a new field has none.
      picklistOptions: [],
    });
    return reply.code(201).send({ customField });
  });

  app.get<FieldParams>('/locations/:locationId/customFields/:id', async (request) => {
    const locationId = requireLocation(request, request.params.locationId);
    return { customField: existingField(locationId, request.params.id) };
  });

  app.put<FieldParams>('/locations/:locationId/customFields/:id', async (request) => {
    const locationId = requireLocation(request, request.params.locationId);
    const field = existingField(locationId, request.params.id);
    const body = parseOrThrow(UpdateCustomFieldBodySchema, request.body);
    const customField = store.patchCustomField(locationId, field.id, {
      name: body.name,
      placeholder: body.placeholder,
      position: body.position,
      isMultipleFile: body.isMultipleFile,
      maxNumberOfFiles: body.maxNumberOfFiles,
    });
    return { customField };
  });

  app.delete<FieldParams>('/locations/:locationId/customFields/:id', async (request) => {
    const locationId = requireLocation(request, request.params.locationId);
    store.removeCustomField(locationId, existingField(locationId, request.params.id).id);
    return { succeded: true };
  });
}
