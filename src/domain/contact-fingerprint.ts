/**
 * A fingerprint of the contact inputs the bridge's flows depend on (email, names, website, the mapped
 * fields it writes, its managed tags). Equal fingerprints mean nothing the flows read has changed:
 * an event carrying the fingerprint of the bridge's own last write is its echo.
 */
import { createHash } from 'node:crypto';
import type { Mapping } from '../config/mapping.js';

export interface FingerprintInput {
  email?: string | null;
  firstName?: string | null;
  lastName?: string | null;
  name?: string | null;
  website?: string | null;
  tags?: readonly string[] | null;
  customFields?: readonly { id: string; value?: unknown }[] | null;
}

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
