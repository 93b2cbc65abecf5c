/**
 * What the simulator stores. The JSON Trustpilot answers with is built from these by presenters.ts;
 * stored times are epoch milliseconds.
 */

export interface BusinessUnitRecord {
  id: string;
  /** Identifying name: the domain without `www.` (as in Trustpilot's published example). */
  domain: string;
  displayName: string;
  trustScore: number;
  stars: number;
  /** Reviews counted before the simulator started; the live reviews of the unit are added to it. */
  seededReviews: number;
  country: string;
}

export interface ConsumerRecord {
  id: string;
  displayName: string;
}

export interface CompanyReplyRecord {
  text: string;
  authorBusinessUserId: string;
  createdAt: number;
  updatedAt: number | null;
}

export interface ReviewRecord {
  id: string;
  businessUnitId: string;
  consumerId: string;
  stars: 1 | 2 | 3 | 4 | 5;
  title: string;
  text: string;
  language: string;
  referenceId: string | null;
  referralEmail: string | null;
  createdAt: number;
  /** Null until the consumer edits the review; a company reply does not move it. */
  updatedAt: number | null;
  companyReply: CompanyReplyRecord | null;
  isVerified: boolean;
}

export type StarRating = ReviewRecord['stars'];

export function isStarRating(value: number): value is StarRating {
  return Number.isInteger(value) && value >= 1 && value <= 5;
}
