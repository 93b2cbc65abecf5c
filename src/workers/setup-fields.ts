/**
 * `setup-fields`: creates the custom fields the mapping writes to that the location lacks. Missing
 * fields are never created at start-up: an operator runs this on purpose.
 */
import type { GhlClient } from '../clients/ghl/ghl-client.js';
import type { CreateCustomFieldInput } from '../clients/ghl/schemas.js';
import type { Mapping } from '../config/mapping.js';

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

export async function setupFields(ghl: Pick<GhlClient, 'listCustomFields' | 'createCustomField'>, locationId: string, mapping: Mapping): Promise<FieldSetupResult> {
  const existing = new Set((await ghl.listCustomFields(locationId, 'contact')).items.map((field) => field.fieldKey));
  const result: FieldSetupResult = { created: [], existing: [] };
  for (const [name, key] of [...Object.entries(mapping.trustpilot.fields), ...Object.entries(mapping.opinionStage.fields)]) {
    if (key === null) continue;
    if (existing.has(key)) {
      result.existing.push(key);
      continue;
    }
    await ghl.createCustomField(locationId, { name: fieldName(key), dataType: DATA_TYPES[name] ?? 'TEXT', model: 'contact' });
    result.created.push(key);
  }
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
