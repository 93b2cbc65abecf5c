/**
 * A Trustpilot review notification, or a review the scheduled listing found new or edited: re-fetch
 * the review (a notification is only a hint; a listed review is used as read), find the
 * GHL contact it belongs to, only in the locations of the review's business unit (the contact it was
 * found for before, else referenceId = GHL contact id, else the review's referral email through a
 * contact search), refresh the cached review for that
 * contact and schedule its sync. A contact read or found here is handed to the sync as its snapshot,
 * so the sync does not read it again.
 */
import type { Job } from 'bullmq';
import type { GhlClient } from '../clients/ghl/ghl-client.js';
import { PrivateReviewSchema } from '../clients/trustpilot/schemas.js';
import type { TrustpilotClient } from '../clients/trustpilot/trustpilot-client.js';
import { isGhlNotFound } from '../clients/ghl/ghl-api-error.js';
import { UpstreamError } from '../clients/http/upstream-error.js';
import type { ReviewFacts } from '../domain/trustpilot-plan.js';
import { reviewFacts } from '../domain/trustpilot-review-facts.js';
import { toSnapshot } from '../domain/contact-snapshot.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { TrustpilotEventJobSchema, type ContactSyncJob, type TrustpilotEventJob } from '../queue/catalog.js';
import type { ContactFacts } from '../state/contact-facts.js';
import type { ContactSnapshots } from '../state/contact-snapshots.js';
import type { LookupCache } from '../state/lookup-cache.js';
import type { TrustpilotLookup } from './trustpilot-lookup.js';
import { z } from 'zod';

export interface TrustpilotEventDeps {
  trustpilot: TrustpilotClient;
  lookup: TrustpilotLookup;
  ghl: Pick<GhlClient, 'getContact' | 'searchContacts'>;
  /** Remembers which contact a review belongs to, so an edit or a deletion finds it without a search. */
  owners: LookupCache;
  /** Where a contact read or found here waits for its sync. */
  snapshots?: Pick<ContactSnapshots, 'put'>;
  /** A remembered owner that was deleted since is looked for again. */
  facts?: Pick<ContactFacts, 'isDeleted'>;
  now?: () => number;
  servedLocations(): Promise<string[]>;
  /** The locations a business unit's reviews may be matched in (src/domain/location-routing.ts). */
  locationsFor(businessUnitId: string | undefined, served: readonly string[]): Promise<readonly string[]>;
  scheduleContactSync(job: ContactSyncJob): Promise<void>;
  metrics: Metrics;
  logger: Logger;
}

export type TrustpilotEventOutcome = { outcome: 'synced' | 'skipped'; reason?: string; contactId?: string };

const OwnerSchema = z.object({ locationId: z.string(), contactId: z.string() });
const OWNER_TTL_MS = 400 * 86_400_000;

/** The notification's own data, when private reviews cannot be read (no business-user credentials). */
const NotificationReviewSchema = z.looseObject({
  id: z.string(),
  stars: z.number().int().min(1).max(5),
  title: z.string().nullish(),
  text: z.string().nullish(),
  createdAt: z.string().nullish(),
  updatedAt: z.string().nullish(),
  referenceId: z.string().nullish(),
  consumer: z.looseObject({ id: z.string().nullish(), name: z.string().nullish() }).nullish(),
  businessUnit: z.looseObject({ id: z.string().nullish() }).nullish(),
});

export function createTrustpilotEventProcessor(deps: TrustpilotEventDeps) {
  return async (job: Job): Promise<TrustpilotEventOutcome> => {
    const data = TrustpilotEventJobSchema.parse(job.data);
    if (data.eventName === 'service-review-deleted') return reviewDeleted(deps, data.reviewId);
    const read = deps.trustpilot.canReadPrivateReviews ? await readPrivateReview(deps, data) : notifiedReview(data);
    if (typeof read === 'string') return skipped(deps, read);
    const { review } = read;
    const locations = await deps.locationsFor(read.businessUnitId, await deps.servedLocations());
    if (locations.length === 0) return skipped(deps, 'no-location-for-business-unit');
    const owner = (await knownOwner(deps, review.id, locations)) ?? (await findContact(deps, locations, read.referenceId, read.referralEmail));
    if (!owner) return skipped(deps, 'no-matching-contact');
    await deps.lookup.remember(owner.locationId, owner.contactId, review);
    await deps.owners.set('tp-review-owner', review.id, owner, OWNER_TTL_MS);
    await deps.scheduleContactSync({ ...owner, reason: 'trustpilot', triggeredAt: data.receivedAt, eventType: data.eventName });
    return { outcome: 'synced', contactId: owner.contactId };
  };
}

/** The review and the ways to its contact; a string says why there is none. */
type ReadReview = { review: ReviewFacts; businessUnitId?: string | undefined; referenceId?: string | undefined; referralEmail?: string | undefined };
type ContactRef = { locationId: string; contactId: string };

async function readPrivateReview(deps: TrustpilotEventDeps, data: TrustpilotEventJob): Promise<ReadReview | string> {
  // A review the scheduled listing just read is as fresh as a re-fetch would be.
  const listed = data.source === 'poll' ? PrivateReviewSchema.safeParse(data.eventData) : undefined;
  const fresh = listed?.success && listed.data.id === data.reviewId ? listed.data : await deps.trustpilot.getPrivateReview(data.reviewId);
  if (!fresh) {
    await deps.lookup.forget(data.reviewId);
    return 'review-not-found';
  }
  await deps.lookup.observe(fresh);
  return { review: reviewFacts(fresh), businessUnitId: fresh.businessUnit?.id ?? undefined, referenceId: fresh.referenceId ?? undefined, referralEmail: fresh.referralEmail ?? undefined };
}

/** Without business-user credentials: the notification's own data stands for the review. */
function notifiedReview(data: TrustpilotEventJob): ReadReview | string {
  const hinted = NotificationReviewSchema.safeParse(data.eventData);
  if (!hinted.success) return 'notification-without-review-data';
  const review: ReviewFacts = {
    id: hinted.data.id,
    stars: hinted.data.stars,
    title: hinted.data.title ?? '',
    text: hinted.data.text ?? '',
    createdAt: hinted.data.createdAt ?? new Date(data.receivedAt).toISOString(),
    ...(hinted.data.updatedAt ? { updatedAt: hinted.data.updatedAt } : {}),
    ...(hinted.data.consumer?.id ? { consumerId: hinted.data.consumer.id } : {}),
    ...(hinted.data.consumer?.name ? { consumerName: hinted.data.consumer.name } : {}),
    url: `https://www.trustpilot.com/reviews/${hinted.data.id}`,
  };
  return { review, businessUnitId: hinted.data.businessUnit?.id ?? undefined, referenceId: hinted.data.referenceId ?? undefined };
}

async function reviewDeleted(deps: TrustpilotEventDeps, reviewId: string): Promise<TrustpilotEventOutcome> {
  await deps.lookup.forget(reviewId);
  const owner = await deps.owners.get('tp-review-owner', reviewId, OwnerSchema);
  if (!owner.hit || !owner.value) return skipped(deps, 'unknown-review');
  // The review is gone: forget it for this contact; the note stays as the record of what was said.
  await deps.lookup.remember(owner.value.locationId, owner.value.contactId, null);
  return { outcome: 'synced', contactId: owner.value.contactId };
}

/** The contact an earlier notification of this review was matched to: an edit costs no search. */
async function knownOwner(deps: TrustpilotEventDeps, reviewId: string, locations: readonly string[]): Promise<ContactRef | undefined> {
  const owner = await deps.owners.get('tp-review-owner', reviewId, OwnerSchema);
  if (!owner.hit || !owner.value) return undefined;
  if (!locations.includes(owner.value.locationId)) return undefined;
  if (deps.facts && (await deps.facts.isDeleted(owner.value.locationId, owner.value.contactId))) return undefined;
  return owner.value;
}

/** Only in the business unit's own locations: a contact of the same email elsewhere is another client's. */
async function findContact(deps: TrustpilotEventDeps, locations: readonly string[], referenceId: string | undefined, email: string | undefined): Promise<ContactRef | undefined> {
  if (referenceId && /^[A-Za-z0-9_-]{1,128}$/.test(referenceId)) {
    const found = await contactByReference(deps, locations, referenceId);
    if (found) return found;
  }
  return email ? contactByEmail(deps, locations, email) : undefined;
}

/** referenceId = the GHL contact id, in whichever served location has it. */
async function contactByReference(deps: TrustpilotEventDeps, locations: readonly string[], referenceId: string): Promise<ContactRef | undefined> {
  const now = deps.now ?? Date.now;
  for (const locationId of locations) {
    try {
      const observedAt = now();
      const contact = await deps.ghl.getContact(locationId, referenceId);
      await deps.snapshots?.put(toSnapshot(contact, locationId), observedAt, 'read');
      return { locationId, contactId: contact.id };
    } catch (error) {
      // A referenceId that is not a contact of this location: try the next way.
      if (!(isGhlNotFound(error) || (error instanceof UpstreamError && (error.status === 403 || error.status === 400)))) throw error;
    }
  }
  return undefined;
}

async function contactByEmail(deps: TrustpilotEventDeps, locations: readonly string[], email: string): Promise<ContactRef | undefined> {
  const now = deps.now ?? Date.now;
  for (const locationId of locations) {
    const observedAt = now();
    const found = await deps.ghl.searchContacts(locationId, { pageLimit: 1, filters: [{ field: 'email', operator: 'eq', value: email.toLowerCase() }] });
    const contact = found.items[0];
    if (!contact) continue;
    // A search hit is a snapshot only with its tags and custom fields: absent, "none" and "not sent" look alike.
    if (Array.isArray(contact.tags) && Array.isArray(contact.customFields)) await deps.snapshots?.put(toSnapshot(contact, locationId), observedAt, 'search');
    return { locationId, contactId: contact.id };
  }
  return undefined;
}

function skipped(deps: TrustpilotEventDeps, reason: string): TrustpilotEventOutcome {
  deps.metrics.skipped.inc({ queue: 'trustpilot-events', reason });
  deps.logger.info({ reason }, 'trustpilot event skipped');
  return { outcome: 'skipped', reason };
}
