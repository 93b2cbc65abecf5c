/**
 * Personal Opinion Stage survey links: the configured item link carrying the GHL contact id, its
 * location id, email and name, written into a contact field so GHL workflows can send it, and so the response comes
 * back matched to the exact contact. Pure.
 */
import type { OpinionStageMapping } from '../config/mapping.js';
import { sameFieldValue, type ContactSnapshot, type Plan } from './plan.js';

export function personalSurveyLink(surveyUrl: string, contact: ContactSnapshot): string {
  const url = new URL(surveyUrl);
  url.searchParams.set('contact_id', contact.id);
  // The response comes back to the location the link was built for (src/domain/location-routing.ts).
  url.searchParams.set('location_id', contact.locationId);
  if (contact.email) url.searchParams.set('email', contact.email);
  const name = contact.name ?? [contact.firstName, contact.lastName].filter(Boolean).join(' ');
  if (name) url.searchParams.set('name', name);
  return url.toString();
}

export function planSurveyLink(contact: ContactSnapshot, fieldIds: Record<string, string>, mapping: OpinionStageMapping, surveyUrl: string | undefined): Plan {
  const key = mapping.fields.surveyLink;
  if (!surveyUrl || key === null) return { writes: [], warnings: [] };
  const id = fieldIds[key];
  if (id === undefined) return { writes: [], warnings: [`custom field ${key} does not exist in location ${contact.locationId}; run setup-fields`] };
  const link = personalSurveyLink(surveyUrl, contact);
  const current = contact.customFields.find((field) => field.id === id)?.value;
  if (sameFieldValue(current, link)) return { writes: [], warnings: [] };
  return { writes: [{ kind: 'set-fields', fields: [{ key, id, value: link }], reason: 'personal Opinion Stage survey link' }], warnings: [] };
}
