/**
 * `setup-fields`: creates the custom fields the mapping writes to that the location lacks. Missing
 * fields are never created at start-up: an operator runs this on purpose.
 */
import type { GhlClient } from '../clients/ghl/ghl-client.js';
import type { CreateCustomFieldInput } from '../clients/ghl/schemas.js';
import type { Mapping } from '../config/mapping.js';
import type { CustomFieldIds } from '../state/custom-field-ids.js';

/** The GHL data type for each mapped value (numbers stay numeric so GHL can filter on them). */
const DATA_TYPES: Record<string, CreateCustomFieldInput['dataType']> = {
  reviewStars: 'NUMERICAL',
  consumerReviewCount: 'NUMERICAL',
  companyTrustScore: 'NUMERICAL',
  companyStars: 'NUMERICAL',
  companyReviewCount: 'NUMERICAL',
  reviewExcerpt: 'LARGE_TEXT',
  lastScore: 'NUMERICAL',
};

export interface FieldSetupResult {
  created: string[];
  existing: string[];
}

export interface FieldSpec {
  key: string;
  name: string;
  dataType: CreateCustomFieldInput['dataType'];
}

/** Every custom field the mapping writes to, with the name and type it is created with. */
export function mappedFieldSpecs(mapping: Mapping): FieldSpec[] {
  return [...Object.entries(mapping.trustpilot.fields), ...Object.entries(mapping.opinionStage.fields)].flatMap(([value, key]) =>
    key === null ? [] : [{ key, name: fieldName(key), dataType: DATA_TYPES[value] ?? 'TEXT' }],
  );
}

/** Creates the missing fields; `fieldIds`, when given, drops the cached key → id map so the bridge sees them at once. */
export async function setupFields(
  ghl: Pick<GhlClient, 'listCustomFields' | 'createCustomField'>,
  locationId: string,
  mapping: Mapping,
  fieldIds?: Pick<CustomFieldIds, 'forget'>,
): Promise<FieldSetupResult> {
  const existing = new Set((await ghl.listCustomFields(locationId, 'contact')).items.map((field) => field.fieldKey));
  const result: FieldSetupResult = { created: [], existing: [] };
  for (const spec of mappedFieldSpecs(mapping)) {
    if (existing.has(spec.key)) {
      result.existing.push(spec.key);
      continue;
    }
    await ghl.createCustomField(locationId, { name: spec.name, dataType: spec.dataType, model: 'contact' });
    result.created.push(spec.key);
  }
  if (result.created.length > 0) await fieldIds?.forget(locationId);
  return result;
}

/** `contact.trustpilot_review_stars` → `Trustpilot Review Stars`; GHL derives the key back from the name. */
export function fieldName(key: string): string {
  return key
    .replace(/^contact\./, '')
    .split('_')
    .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
    .join(' ');
}
