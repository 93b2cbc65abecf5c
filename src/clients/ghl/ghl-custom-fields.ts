/** The GHL client's custom-field definition endpoints of a location (GHL's locations API). */
import { checked, segment, type GhlCaller, type ItemList } from './ghl-call.js';
import {
  CreateCustomFieldBodySchema,
  CustomFieldEnvelopeSchema,
  CustomFieldListResponseSchema,
  type CreateCustomFieldInput,
  type CustomFieldDefinition,
  type CustomFieldModel,
} from './schemas.js';

export interface GhlCustomFieldsApi {
  /** GET /locations/{locationId}/customFields?model=contact (locations.json). */
  listCustomFields(locationId: string, model?: CustomFieldModel | 'all'): Promise<ItemList<CustomFieldDefinition>>;
  /** POST /locations/{locationId}/customFields (locations.json). */
  createCustomField(locationId: string, input: CreateCustomFieldInput): Promise<CustomFieldDefinition>;
}

export function ghlCustomFieldsApi({ call }: GhlCaller): GhlCustomFieldsApi {
  return {
    async listCustomFields(locationId, model = 'contact') {
      const path = `/locations/${segment(locationId)}/customFields`;
      const { customFields } = await call(locationId, { method: 'GET', path, query: { model } }, CustomFieldListResponseSchema);
      return { items: customFields };
    },

    async createCustomField(locationId, input) {
      const body = checked(CreateCustomFieldBodySchema, input, 'custom field create');
      const path = `/locations/${segment(locationId)}/customFields`;
      const { customField } = await call(locationId, { method: 'POST', path, json: body }, CustomFieldEnvelopeSchema);
      return customField;
    },
  };
}
