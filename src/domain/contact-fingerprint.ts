/**
 * A fingerprint of the contact inputs the bridge's flows depend on (email, names, website, the mapped
 * fields it writes, its managed tags). Equal fingerprints mean nothing the flows read has changed:
 * an event carrying the fingerprint of the bridge's own last write is its echo.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { Mapping } from '../config/mapping.js';
import type { ContactShape } from './contact-snapshot.js';

/** The parts of a contact the fingerprint reads. */
export type FingerprintInput = Omit<ContactShape, 'id' | 'assignedTo'>;

const nullableText = z.string().nullish();
/** The fingerprint's inputs as a contact event's payload carries them. */
export const FingerprintInputSchema = z.looseObject({
  email: nullableText, firstName: nullableText, lastName: nullableText, name: nullableText, website: nullableText,
  tags: z.array(z.string()).nullish(),
  customFields: z.array(z.looseObject({ id: z.string(), value: z.unknown() })).nullish(),
});

export interface FingerprintScope {
  /** Ids of the custom fields the flows read or write. */
  fieldIds: readonly string[];
  /** Tags the flows manage (lower case). */
  managedTags: readonly string[];
}

export function contactFingerprint(contact: FingerprintInput, scope: FingerprintScope): string {
  const fields = new Map((contact.customFields ?? []).map((field) => [field.id, normalise(field.value)]));
  const tags = new Set((contact.tags ?? []).map((tag) => tag.toLowerCase()));
  const material = {
    email: (contact.email ?? '').trim().toLowerCase(),
    // Names go into the personal survey link.
    name: [contact.firstName, contact.lastName, contact.name].map((part) => (part ?? '').trim()).join('\u0000'),
    website: (contact.website ?? '').trim().toLowerCase(),
    fields: [...scope.fieldIds].sort().map((id) => [id, fields.get(id) ?? '']),
    tags: [...scope.managedTags].sort().filter((tag) => tags.has(tag)),
  };
  return createHash('sha256').update(JSON.stringify(material)).digest('hex').slice(0, 32);
}

function normalise(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (Array.isArray(value)) return value.map(String).sort().join('\u0000');
  return String(value);
}

/** What the sync depends on, so an event that changes none of it can be skipped. */
export function fingerprintScope(mapping: Mapping, fieldIds: Record<string, string>): FingerprintScope {
  const tp = mapping.trustpilot;
  const keys = [...Object.values(tp.fields), mapping.opinionStage.fields.surveyLink].filter((key): key is string => key !== null);
  const tags = [tp.tags.reviewer, ...Object.values(tp.tags.byStars)].filter((tag): tag is string => tag !== null);
  return {
    fieldIds: keys.map((key) => fieldIds[key]).filter((id): id is string => id !== undefined),
    managedTags: [...new Set(tags.map((tag) => tag.toLowerCase()))],
  };
}
