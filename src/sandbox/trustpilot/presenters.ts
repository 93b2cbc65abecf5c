/**
 * The JSON Trustpilot answers with, built from the stored records. Field names and order follow
 * the examples in Trustpilot's API documentation and Airbyte's `private_reviews` schema; empty
 * values are null, never omitted ("Empty values are included as null rather than omitted", Trustpilot's docs).
 * `links` point at this simulator so a client can follow them; the public page of a review is
 * `https://www.trustpilot.com/reviews/<id>`.
 */
import { iso } from './dates.js';
import type { BusinessUnitRecord, ConsumerRecord, ReviewRecord } from './model.js';
import { referringNames, type TrustpilotStore } from './store.js';

export interface Link {
  href: string;
  method: 'GET';
  rel: string;
}

export interface NumberOfReviews {
  total: number;
  usedForTrustScoreCalculation: number;
  oneStar: number;
  twoStars: number;
  threeStars: number;
  fourStars: number;
  fiveStars: number;
}

/** GET /v1/business-units/find and /v1/business-units/{id} (Trustpilot's published example answer). */
export interface BusinessUnit {
  links: Link[];
  id: string;
  displayName: string;
  name: { identifying: string; referring: string[] };
  websiteUrl: string;
  country: string;
  numberOfReviews: NumberOfReviews;
  status: 'active';
  score: { trustScore: number; stars: number };
  badFit: boolean;
}

export interface ReviewConsumer {
  displayLocation: string | null;
  numberOfReviews: number;
  displayName: string;
  id: string;
}

export interface CompanyReply {
  text: string;
  authorBusinessUserId: string;
  createdAt: string;
  updatedAt: string | null;
}

export interface ReviewBusinessUnit {
  id: string;
  identifyingName: string;
  displayName: string;
}

/** GET /v1/reviews/{id} (Trustpilot's published example answer, plus links and businessUnit). */
export interface PublicReview {
  id: string;
  stars: number;
  title: string;
  text: string;
  language: string;
  createdAt: string;
  updatedAt: string | null;
  numberOfLikes: number;
  isVerified: boolean;
  companyReply: Omit<CompanyReply, 'authorBusinessUserId'> | null;
  consumer: ReviewConsumer;
  links: Link[];
  businessUnit: ReviewBusinessUnit & { links: Link[] };
  complianceLabels: string[];
}

/** The private review (Airbyte `private_reviews` schema): adds referenceId, referralEmail and more. */
export interface PrivateReview {
  links: Link[];
  id: string;
  consumer: ReviewConsumer;
  businessUnit: ReviewBusinessUnit;
  stars: number;
  title: string;
  text: string;
  language: string;
  location: null;
  createdAt: string;
  updatedAt: string | null;
  experiencedAt: string | null;
  referralEmail: string | null;
  referenceId: string | null;
  source: string;
  companyReply: CompanyReply | null;
  tags: { group: string; value: string }[];
  findReviewer: { isEligible: boolean; requests: unknown[] };
  isVerified: boolean;
  numberOfLikes: number;
  status: 'active';
  reportData: null;
  complianceLabels: string[];
  countsTowardsTrustScore: boolean;
  countsTowardsLocationTrustScore: boolean | null;
  invitation: { businessUnitId: string } | null;
  businessUnitHistory: unknown[];
  reviewVerificationLevel: 'invited' | 'not-verified';
}

interface ProfileImage {
  url: string | null;
  width: number;
  height: number;
}

/** GET /v1/consumers/{id}/profile (Trustpilot's published example answer; an unknown consumer gets an empty profile). */
export interface ConsumerProfile {
  city: string;
  about: string;
  displayName: string;
  locale: string;
  gender: string;
  country: string;
  id: string;
  createdAt: string | null;
  hasImage: boolean;
  birthYear: number;
  profileImage: Record<'image24x24' | 'image35x35' | 'image64x64' | 'image73x73', ProfileImage>;
}

/** GET /v1/consumers/{id}: the profile "with number of reviews and web links" (shape assumed). */
export interface ConsumerWithReviews {
  links: Link[];
  id: string;
  displayName: string;
  displayLocation: string | null;
  numberOfReviews: number;
  hasImage: boolean;
}

export interface Presenters {
  businessUnit(unit: BusinessUnitRecord): BusinessUnit;
  privateReview(review: ReviewRecord): PrivateReview;
  publicReview(review: ReviewRecord): PublicReview;
  consumerProfile(consumer: ConsumerRecord): ConsumerProfile;
  consumerWithReviews(consumer: ConsumerRecord): ConsumerWithReviews;
  /** `eventData` of service-review-created/-updated (Trustpilot's published example event). */
  webhookEventData(review: ReviewRecord): Record<string, unknown>;
}

const STAR_KEYS = ['oneStar', 'twoStars', 'threeStars', 'fourStars', 'fiveStars'] as const;

export const PUBLIC_SITE = 'https://www.trustpilot.com';

interface PresenterContext {
  store: TrustpilotStore;
  /** An absolute URL of this simulator's API, for `links`. */
  api(path: string): string;
}

const link = (href: string, rel: string): Link => ({ href, method: 'GET', rel });

const numberOfReviews = (store: TrustpilotStore, unit: BusinessUnitRecord): NumberOfReviews => {
  const counts = [0, 0, 0, 0, 0];
  // Seeded reviews are counted in the bucket of the unit's star rating; live ones in their own.
  const seededBucket = Math.min(4, Math.max(0, Math.round(unit.stars) - 1));
  counts[seededBucket] = unit.seededReviews;
  for (const review of store.reviewsOf(unit.id)) counts[review.stars - 1] = (counts[review.stars - 1] ?? 0) + 1;
  const total = counts.reduce((sum, n) => sum + n, 0);
  const result: NumberOfReviews = {
    total,
    usedForTrustScoreCalculation: total,
    oneStar: 0,
    twoStars: 0,
    threeStars: 0,
    fourStars: 0,
    fiveStars: 0,
  };
  STAR_KEYS.forEach((key, index) => {
    result[key] = counts[index] ?? 0;
  });
  return result;
};

const unitOf = (store: TrustpilotStore, review: ReviewRecord): ReviewBusinessUnit => {
  const unit = store.getBusinessUnit(review.businessUnitId);
  return {
    id: review.businessUnitId,
    identifyingName: unit?.domain ?? '',
    displayName: unit?.displayName ?? '',
  };
};

const consumerOf = (store: TrustpilotStore, review: ReviewRecord): ReviewConsumer => ({
  displayLocation: null,
  numberOfReviews: store.consumerReviewCount(review.consumerId),
  displayName: store.getConsumer(review.consumerId)?.displayName ?? '',
  id: review.consumerId,
});

const reviewLinks = (api: (path: string) => string, review: ReviewRecord): Link[] => [
  link(api(`/reviews/${review.id}`), 'reviews'),
  link(`${PUBLIC_SITE}/reviews/${review.id}`, 'reviews-web'),
];

const isInvited = (review: ReviewRecord): boolean => review.referenceId !== null || review.referralEmail !== null;

function businessUnit(ctx: PresenterContext, unit: BusinessUnitRecord): BusinessUnit {
  return {
    links: [link(ctx.api(`/business-units/${unit.id}`), 'business-units')],
    id: unit.id,
    displayName: unit.displayName,
    name: { identifying: unit.domain, referring: referringNames(unit.domain) },
    websiteUrl: `http://www.${unit.domain}`,
    country: unit.country,
    numberOfReviews: numberOfReviews(ctx.store, unit),
    status: 'active',
    score: { trustScore: unit.trustScore, stars: unit.stars },
    badFit: false,
  };
}

function privateReview(ctx: PresenterContext, review: ReviewRecord): PrivateReview {
  return {
    links: reviewLinks(ctx.api, review),
    id: review.id,
    consumer: consumerOf(ctx.store, review),
    businessUnit: unitOf(ctx.store, review),
    stars: review.stars,
    title: review.title,
    text: review.text,
    language: review.language,
    location: null,
    createdAt: iso(review.createdAt),
    updatedAt: review.updatedAt === null ? null : iso(review.updatedAt),
    experiencedAt: iso(review.createdAt),
    referralEmail: review.referralEmail,
    referenceId: review.referenceId,
    source: isInvited(review) ? 'AFSv2' : 'Organic',
    companyReply:
      review.companyReply === null
        ? null
        : {
            text: review.companyReply.text,
            authorBusinessUserId: review.companyReply.authorBusinessUserId,
            createdAt: iso(review.companyReply.createdAt),
            updatedAt: review.companyReply.updatedAt === null ? null : iso(review.companyReply.updatedAt),
          },
    tags: [],
    findReviewer: { isEligible: !isInvited(review), requests: [] },
    isVerified: review.isVerified,
    numberOfLikes: 0,
    status: 'active',
    reportData: null,
    complianceLabels: [],
    countsTowardsTrustScore: true,
    countsTowardsLocationTrustScore: null,
    invitation: isInvited(review) ? { businessUnitId: review.businessUnitId } : null,
    businessUnitHistory: [],
    reviewVerificationLevel: isInvited(review) ? 'invited' : 'not-verified',
  };
}

function publicReview(ctx: PresenterContext, review: ReviewRecord): PublicReview {
  return {
    id: review.id,
    stars: review.stars,
    title: review.title,
    text: review.text,
    language: review.language,
    createdAt: iso(review.createdAt),
    updatedAt: review.updatedAt === null ? null : iso(review.updatedAt),
    numberOfLikes: 0,
    isVerified: review.isVerified,
    companyReply:
      review.companyReply === null
        ? null
        : {
            text: review.companyReply.text,
            createdAt: iso(review.companyReply.createdAt),
            updatedAt: review.companyReply.updatedAt === null ? null : iso(review.companyReply.updatedAt),
          },
    consumer: consumerOf(ctx.store, review),
    links: reviewLinks(ctx.api, review),
    businessUnit: { ...unitOf(ctx.store, review), links: [link(ctx.api(`/business-units/${review.businessUnitId}`), 'business-units')] },
    complianceLabels: [],
  };
}

function consumerProfile(consumer: ConsumerRecord): ConsumerProfile {
  const image: ProfileImage = { url: null, width: 0, height: 0 };
  return {
    city: '',
    about: '',
    displayName: consumer.displayName,
    locale: 'en-US',
    gender: '',
    country: 'US',
    id: consumer.id,
    createdAt: null,
    hasImage: false,
    birthYear: 0,
    profileImage: { image24x24: { ...image }, image35x35: { ...image }, image64x64: { ...image }, image73x73: { ...image } },
  };
}

function consumerWithReviews(ctx: PresenterContext, consumer: ConsumerRecord): ConsumerWithReviews {
  return {
    links: [link(ctx.api(`/consumers/${consumer.id}/profile`), 'consumers-profile')],
    id: consumer.id,
    displayName: consumer.displayName,
    displayLocation: null,
    numberOfReviews: ctx.store.consumerReviewCount(consumer.id),
    hasImage: false,
  };
}

function webhookEventData(ctx: PresenterContext, review: ReviewRecord): Record<string, unknown> {
  return {
    id: review.id,
    language: review.language,
    title: review.title,
    text: review.text,
    referenceId: review.referenceId,
    stars: review.stars,
    createdAt: iso(review.createdAt),
    isVerified: review.isVerified,
    locationId: null,
    link: ctx.api(`/reviews/${review.id}`),
    consumer: {
      id: review.consumerId,
      name: ctx.store.getConsumer(review.consumerId)?.displayName ?? '',
      link: ctx.api(`/consumers/${review.consumerId}`),
    },
    tags: [],
  };
}

export function createPresenters(store: TrustpilotStore, baseUrl: () => string): Presenters {
  const ctx: PresenterContext = { store, api: (path) => `${baseUrl()}/v1${path}` };
  return {
    businessUnit: (unit) => businessUnit(ctx, unit),
    privateReview: (review) => privateReview(ctx, review),
    publicReview: (review) => publicReview(ctx, review),
    consumerProfile: (consumer) => consumerProfile(consumer),
    consumerWithReviews: (consumer) => consumerWithReviews(ctx, consumer),
    webhookEventData: (review) => webhookEventData(ctx, review),
  };
}
