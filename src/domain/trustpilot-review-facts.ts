/**
 * A Trustpilot private review as the planner needs it: defaults for the fields Trustpilot may omit,
 * and the public page of the review.
 */
import type { PrivateReview } from '../clients/trustpilot/schemas.js';
import type { ReviewFacts } from './trustpilot-plan.js';

export function reviewFacts(review: PrivateReview): ReviewFacts {
  const createdAt = review.createdAt ?? new Date(0).toISOString();
  return {
    id: review.id,
    stars: review.stars ?? 0,
    title: review.title ?? '',
    text: review.text ?? '',
    createdAt,
    ...(review.updatedAt ? { updatedAt: review.updatedAt } : {}),
    ...(review.consumer?.id ? { consumerId: review.consumer.id } : {}),
    ...(review.consumer?.displayName ? { consumerName: review.consumer.displayName } : {}),
    ...(typeof review.consumer?.numberOfReviews === 'number' ? { consumerReviewCount: review.consumer.numberOfReviews } : {}),
    ...(review.companyReply?.text ? { companyReply: review.companyReply.text } : {}),
    // The public page of a review; the API's own links point at the API, not at the page.
    url: `https://www.trustpilot.com/reviews/${review.id}`,
  };
}
