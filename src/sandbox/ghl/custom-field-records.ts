/**
 * A location's custom fields: listed by position, found by id or field key, created with GHL's
 * defaults. The field key and model are fixed at creation: renaming a field keeps its key.
 */
import { newGhlId } from './ids.js';
import type { CustomField, CustomFieldInput } from './model.js';

export function fieldKeyFromName(name: string, model: 'contact' | 'opportunity' = 'contact'): string {
  const slug = name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
  return `${model}.${slug}`;
}

function buildCustomField(locationId: string, id: string, input: CustomFieldInput): CustomField {
  const model = input.model ?? 'contact';
  return {
    id,
    name: input.name,
    fieldKey: fieldKeyFromName(input.name, model),
    placeholder: input.placeholder ?? '',
    dataType: input.dataType,
    position: input.position ?? 0,
    picklistOptions: input.picklistOptions ?? [],
    picklistImageOptions: [],
    isAllowedCustomOption: false,
    isMultiFileAllowed: input.isMultipleFile ?? false,
    maxFileLimit: input.maxNumberOfFiles ?? 0,
    locationId,
    model,
  };
}

export interface CustomFieldRecords {
  listCustomFields(locationId: string, model?: 'contact' | 'opportunity' | 'all'): CustomField[];
  findCustomField(locationId: string, idOrKey: string): CustomField | undefined;
  insertCustomField(locationId: string, input: CustomFieldInput): CustomField;
  patchCustomField(locationId: string, fieldId: string, input: Partial<CustomFieldInput>): CustomField | undefined;
  removeCustomField(locationId: string, fieldId: string): CustomField | undefined;
}

/** `fieldsOf` returns the location's live map and throws for an unknown location. */
export function customFieldRecords(fieldsOf: (locationId: string) => Map<string, CustomField>): CustomFieldRecords {
  return {
    listCustomFields(locationId, model = 'all') {
      return [...fieldsOf(locationId).values()]
        .filter((field) => model === 'all' || field.model === model)
        .sort((a, b) => a.position - b.position)
        .map((field) => structuredClone(field));
    },
    findCustomField(locationId, idOrKey) {
      const fields = [...fieldsOf(locationId).values()];
      const found =
        fields.find((field) => field.id === idOrKey) ??
        fields.find((field) => field.fieldKey === idOrKey) ??
        fields.find((field) => field.model === 'contact' && field.fieldKey === `contact.${idOrKey}`);
      return found && structuredClone(found);
    },
    insertCustomField(locationId, input) {
      const field = buildCustomField(locationId, newGhlId(), input);
      fieldsOf(locationId).set(field.id, field);
      return structuredClone(field);
    },
    patchCustomField(locationId, fieldId, input) {
      const field = fieldsOf(locationId).get(fieldId);
      if (!field) return undefined;
      const updated: CustomField = {
        ...field,
        name: input.name ?? field.name,
        placeholder: input.placeholder ?? field.placeholder,
        position: input.position ?? field.position,
        picklistOptions: input.picklistOptions ?? field.picklistOptions,
        isMultiFileAllowed: input.isMultipleFile ?? field.isMultiFileAllowed,
        maxFileLimit: input.maxNumberOfFiles ?? field.maxFileLimit,
      };
      fieldsOf(locationId).set(fieldId, updated);
      return structuredClone(updated);
    },
    removeCustomField(locationId, fieldId) {
      const fields = fieldsOf(locationId);
      const field = fields.get(fieldId);
      if (!field) return undefined;
      fields.delete(fieldId);
      return field;
    },
  };
}
