/**
 * Trustpilot lookups for one contact, cache first: a found review costs no call, and "nothing found"
 * is cached too, with the moment it was true, because a Trustpilot plan's yearly allowance is small.
 * A cached "nothing found" answers only events received before that moment: a customer may review us
 * a minute before their contact changes. Then the shared index of our unit's reviews answers when it
 * can; only then a per-contact lookup. Review events refresh the cache for the contact they concern,
 * and the index.
 */
import { z } from 'zod';
import type { PrivateReview, BusinessUnit } from '../clients/trustpilot/schemas.js';
import type { TrustpilotClient } from '../clients/trustpilot/trustpilot-client.js';
import type { TrustpilotMapping } from '../config/mapping.js';
import { companyDomain } from '../domain/company-domain.js';
import type { ContactSnapshot } from '../domain/plan.js';
import type { CompanyFacts, ReviewFacts } from '../domain/trustpilot-plan.js';
import { reviewFacts } from '../domain/trustpilot-review-facts.js';
import type { LookupCache } from '../state/lookup-cache.js';
import { ReviewFactsSchema, type ReviewKey } from '../state/review-index.js';
import type { OwnReviewIndex } from './own-review-index.js';

const CompanyFactsSchema = z.object({ businessUnitId: z.string(), trustScore: z.number(), stars: z.number(), totalReviews: z.number() });
/** A contact's review as cached: the review or null, and when that answer was read (ms). */
const CachedReviewSchema = z.object({ review: ReviewFactsSchema.nullable(), at: z.number() });

export interface TrustpilotLookupDeps {
  client: TrustpilotClient;
  cache: LookupCache;
  /** Our own business unit: reviews of us. */
  businessUnitId: string | undefined;
  ttlMs: number;
  mapping: TrustpilotMapping;
  /** Our unit's reviews from one shared listing; absent = a per-contact lookup on every cache miss. */
  index?: OwnReviewIndex;
  /** Whether our unit's reviews are matched in this location (TRUSTPILOT_LOCATIONS); absent: in every one. */
  matchesIn?(locationId: string): Promise<boolean>;
  now?: () => number;
}

export interface TrustpilotLookup {
  /**
   * The contact's newest review of us; null when none existed at `asOf` (when the triggering event
   * was received; a run without one passes its start); undefined when private reviews cannot be read.
   */
  review(contact: ContactSnapshot, storedReviewId: string | undefined, asOf: number): Promise<ReviewFacts | null | undefined>;
  /** The TrustScore of the contact's company; null when not on Trustpilot; undefined when no domain. */
  company(contact: ContactSnapshot): Promise<CompanyFacts | null | undefined>;
  /** A review event: the fresh review replaces whatever was cached for that contact. */
  remember(locationId: string, contactId: string, review: ReviewFacts | null): Promise<void>;
  /** A review of us re-fetched after a notification: the shared index takes it as it is now. */
  observe(review: PrivateReview): Promise<void>;
  /** A review of us was deleted: the shared index drops it. */
  forget(reviewId: string): Promise<void>;
}

const reviewCacheKey = (locationId: string, contactId: string) => `${locationId}:${contactId}`;

export function createTrustpilotLookup(deps: TrustpilotLookupDeps): TrustpilotLookup {
  const { client, cache, mapping } = deps;
  const now = deps.now ?? Date.now;
  const rememberReview = (key: string, review: ReviewFacts | null, at: number) => cache.set('tp-review', key, { review, at }, deps.ttlMs);
  const companiesInFlight = new Map<string, Promise<CompanyFacts | null>>();
  return {
    async review(contact, storedReviewId, asOf) {
      const businessUnitId = deps.businessUnitId;
      if (!mapping.ownReview.enabled || !businessUnitId || !client.canReadPrivateReviews) return undefined;
      // Another location's reviews are not this one's to know: answered like "cannot be read".
      if (deps.matchesIn && !(await deps.matchesIn(contact.locationId))) return undefined;
      const key = reviewCacheKey(contact.locationId, contact.id);
      const cached = await cache.get('tp-review', key, CachedReviewSchema);
      // A found review stays the answer; "none" only for events received before it was read.
      if (cached.hit && cached.value && (cached.value.review !== null || cached.value.at >= asOf)) return cached.value.review;
      if (deps.index) {
        const keys: { kind: ReviewKey; value: string }[] = [];
        for (const method of mapping.ownReview.matchBy) {
          if (method === 'reviewId' && storedReviewId) keys.push({ kind: 'reviewId', value: storedReviewId });
          if (method === 'referenceId') keys.push({ kind: 'referenceId', value: contact.id });
          if (method === 'email' && contact.email) keys.push({ kind: 'email', value: contact.email });
        }
        const answer = await deps.index.find(keys, asOf);
        if (answer.kind === 'found') {
          await rememberReview(key, answer.review, now());
          return answer.review;
        }
        if (answer.kind === 'none') {
          await rememberReview(key, null, answer.at);
          return null;
        }
      }
      const lookedUpAt = now();
      let found: PrivateReview | undefined;
      for (const method of mapping.ownReview.matchBy) {
        if (method === 'reviewId' && storedReviewId) found = await client.getPrivateReview(storedReviewId);
        if (method === 'referenceId') found = (await client.listPrivateReviews(businessUnitId, { referenceId: contact.id, perPage: 20, orderBy: 'createdat.desc' })).reviews[0];
        if (method === 'email' && contact.email) found = (await client.listPrivateReviews(businessUnitId, { referralEmail: contact.email, perPage: 20, orderBy: 'createdat.desc' })).reviews[0];
        if (found) break;
      }
      const facts = found ? reviewFacts(found) : null;
      await rememberReview(key, facts, lookedUpAt);
      return facts;
    },
    async company(contact) {
      if (!mapping.companyScore.enabled) return undefined;
      const domain = companyDomain(contact, mapping.companyScore.skipDomains);
      if (!domain) return undefined;
      const cached = await cache.get('tp-business-unit', domain, CompanyFactsSchema);
      if (cached.hit) return cached.value;
      // Colleagues from one company arrive together: one call for all of them in this process.
      let lookup = companiesInFlight.get(domain);
      if (!lookup) {
        lookup = (async () => {
          const unit = await client.findBusinessUnit(domain);
          const facts = unit ? companyFacts(unit) : null;
          await cache.set('tp-business-unit', domain, facts, deps.ttlMs);
          return facts;
        })().finally(() => companiesInFlight.delete(domain));
        companiesInFlight.set(domain, lookup);
      }
      return lookup;
    },
    async remember(locationId, contactId, review) {
      await rememberReview(reviewCacheKey(locationId, contactId), review, now());
    },
    async observe(review) {
      if (mapping.ownReview.enabled) await deps.index?.observe(review);
    },
    async forget(reviewId) {
      await deps.index?.forget(reviewId);
    },
  };
}

function companyFacts(unit: BusinessUnit): CompanyFacts {
  return {
    businessUnitId: unit.id,
    trustScore: unit.score?.trustScore ?? 0,
    stars: unit.score?.stars ?? 0,
    totalReviews: unit.numberOfReviews?.total ?? 0,
  };
}
