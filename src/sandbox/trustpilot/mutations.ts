/**
 * What consumers and the company do on Trustpilot's side, each emitting its review event:
 * a new review → service-review-created; an edit or a company reply → service-review-updated;
 * a deletion → service-review-deleted with `{ id }` only. Seeding a business unit emits nothing.
 */
import type { z } from 'zod';
import { parseIsoDate } from './dates.js';
import { orNotFound, tpErrors } from './errors.js';
import { newTrustpilotId } from './ids.js';
import {
  BusinessUnitInputSchema,
  ReplyInputSchema,
  ReviewInputSchema,
  ReviewPatchSchema,
  type BusinessUnitInput,
  type ReviewInput,
} from './inputs.js';
import type { BusinessUnitRecord, ReviewRecord } from './model.js';
import type { Presenters } from './presenters.js';
import { normalizeDomain, type TrustpilotStore } from './store.js';
import type { ReviewEvent } from './webhook-emitter.js';

export interface Mutations {
  addBusinessUnit(input: BusinessUnitInput): BusinessUnitRecord;
  addReview(input: ReviewInput): ReviewRecord;
  /** Stars are checked at run time (1–5), as the control API does. */
  updateReview(reviewId: string, patch: Partial<{ stars: number; title: string; text: string }>): ReviewRecord;
  replyToReview(reviewId: string, text: string): ReviewRecord;
  deleteReview(reviewId: string): void;
}

export interface MutationDeps {
  store: TrustpilotStore;
  presenters: Presenters;
  emit(event: ReviewEvent): void;
  ownBusinessUnitId: string;
  /** The business user who writes company replies. */
  businessUserId: string;
  now?: () => number;
}

/** Validates like the control API does, so in-process callers get the same 400s. */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown): z.infer<S> {
  const result = schema.safeParse(input ?? {});
  if (result.success) return result.data;
  const details = result.error.issues.map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message }));
  const first = details[0];
  throw tpErrors.badRequest(first === undefined ? 'Invalid input' : `${first.path || 'body'}: ${first.message}`, details);
}

/** A consumer's new review as stored: not yet edited or answered; verified when invited. */
function newReview(
  input: z.output<typeof ReviewInputSchema>,
  ids: { id: string; businessUnitId: string; consumerId: string },
  now: () => number,
): ReviewRecord {
  const { id, businessUnitId, consumerId } = ids;
  const referenceId = input.referenceId ?? null;
  const referralEmail = input.referralEmail ?? null;
  const review: ReviewRecord = {
    id,
    businessUnitId,
    consumerId,
    stars: input.stars,
    title: input.title,
    text: input.text,
    language: input.language ?? 'en',
    referenceId,
    referralEmail,
    createdAt: input.createdAt === undefined ? now() : (parseIsoDate(input.createdAt) ?? now()),
    updatedAt: null,
    companyReply: null,
    // Invited reviews (the ones that carry a reference or an email) are the verified ones.
    isVerified: referenceId !== null || referralEmail !== null,
  };
  return review;
}

export function createMutations(deps: MutationDeps): Mutations {
  const { store, presenters } = deps;
  const now = deps.now ?? Date.now;

  const reviewOrThrow = (reviewId: string): ReviewRecord => {
    const review = orNotFound(store.getReview(reviewId), 'Review not found');
    return review;
  };

  // A later write always gets a later timestamp, so updatedAt moves even within one millisecond.
  const after = (previous: number | null, floor: number): number => Math.max(now(), (previous ?? floor) + 1, floor + 1);

  const updated = (review: ReviewRecord): ReviewRecord => {
    deps.emit({ eventName: 'service-review-updated', reviewId: review.id, businessUnitId: review.businessUnitId, eventData: presenters.webhookEventData(review) });
    return review;
  };

  return {
    addBusinessUnit(raw) {
      const input = parseInput(BusinessUnitInputSchema, raw);
      const domain = normalizeDomain(input.domain);
      const id = input.id ?? newTrustpilotId();
      const clash = store.findBusinessUnit(domain);
      if (clash && clash.id !== id) throw tpErrors.badRequest(`domain ${domain} already belongs to business unit ${clash.id}`);
      const unit: BusinessUnitRecord = {
        id,
        domain,
        displayName: input.displayName ?? domain,
        trustScore: input.trustScore,
        stars: input.stars,
        seededReviews: input.totalReviews,
        country: input.country ?? 'US',
      };
      store.putBusinessUnit(unit);
      return unit;
    },

    addReview(raw) {
      const input = parseInput(ReviewInputSchema, raw);
      const businessUnitId = input.businessUnitId ?? deps.ownBusinessUnitId;
      if (!store.getBusinessUnit(businessUnitId)) throw tpErrors.notFound('Business unit not found');
      const id = input.id ?? newTrustpilotId();
      if (store.getReview(id)) throw tpErrors.badRequest(`review ${id} already exists`);
      const consumerId = input.consumerId ?? newTrustpilotId();
      if (!store.getConsumer(consumerId)) store.putConsumer({ id: consumerId, displayName: input.consumerName ?? 'Sandbox Consumer' });
      const review = newReview(input, { id, businessUnitId, consumerId }, now);
      store.putReview(review);
      deps.emit({ eventName: 'service-review-created', reviewId: id, businessUnitId, eventData: presenters.webhookEventData(review) });
      return review;
    },

    updateReview(reviewId, raw) {
      const review = reviewOrThrow(reviewId);
      const patch = parseInput(ReviewPatchSchema, raw);
      if (patch.stars !== undefined) review.stars = patch.stars;
      if (patch.title !== undefined) review.title = patch.title;
      if (patch.text !== undefined) review.text = patch.text;
      review.updatedAt = after(review.updatedAt, review.createdAt);
      return updated(review);
    },

    replyToReview(reviewId, text) {
      const review = reviewOrThrow(reviewId);
      const input = parseInput(ReplyInputSchema, { text });
      const current = review.companyReply;
      review.companyReply =
        current === null
          ? { text: input.text, authorBusinessUserId: deps.businessUserId, createdAt: now(), updatedAt: null }
          : { ...current, text: input.text, updatedAt: after(current.updatedAt, current.createdAt) };
      return updated(review);
    },

    deleteReview(reviewId) {
      const { businessUnitId } = reviewOrThrow(reviewId);
      store.removeReview(reviewId);
      deps.emit({ eventName: 'service-review-deleted', reviewId, businessUnitId, eventData: { id: reviewId } });
    },
  };
}
