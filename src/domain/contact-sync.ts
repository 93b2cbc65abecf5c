/**
 * The pure steps of a contact sync: what the contact already holds, the fingerprints its echoes will
 * carry, and the account of what a run read.
 */
import type { TrustpilotMapping } from '../config/mapping.js';
import { contactFingerprint, type FingerprintScope } from './contact-fingerprint.js';
import { statesAfterEachWrite } from './contact-snapshot.js';
import type { ContactSnapshot, Plan } from './plan.js';

/** The Trustpilot review id the contact's mapped field holds, if any. */
export function storedReviewId(contact: ContactSnapshot, fieldIds: Readonly<Record<string, string>>, mapping: TrustpilotMapping): string | undefined {
  const reviewIdField = mapping.fields.reviewId ? fieldIds[mapping.fields.reviewId] : undefined;
  const value = contact.customFields.find((field) => field.id === reviewIdField)?.value;
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

/**
 * The fingerprints GHL's echoes of a plan's writes will carry: `final` after the last write (the
 * contact itself when the plan changes nothing), `intermediate` after each earlier one.
 */
export function echoFingerprints(contact: ContactSnapshot, plan: Plan, scope: FingerprintScope): { final: string; intermediate: string[] } {
  const states = statesAfterEachWrite(contact, plan).map((state) => contactFingerprint(state, scope));
  return { final: states.at(-1) ?? contactFingerprint(contact, scope), intermediate: states.slice(0, -1) };
}

/** What a sync run read, for the contact's sync record. */
export function syncReads(snapshotSource: string | undefined, review: unknown, company: unknown): string[] {
  return [
    snapshotSource === undefined ? 'ghl contact' : `ghl contact (${snapshotSource} snapshot)`,
    ...(review !== undefined ? ['trustpilot review'] : []),
    ...(company !== undefined ? ['trustpilot company'] : []),
  ];
}
