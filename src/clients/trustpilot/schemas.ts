/**
 * Shapes of the Trustpilot API (api.trustpilot.com/v1) as far as the facts go: official examples
 * (business unit, review, consumer profile), the official Bruno collection (paths and parameters)
 * and Airbyte's `private_reviews` schema auto-imported from real responses. Reads are loose:
 * Trustpilot sends `null` for empty values and adds fields, so only ids are required. What we send
 * (the private-review filter) is strict: an unknown key is our bug.
 */
import { z } from 'zod';
import { normalizeTrustpilotDate, trustpilotDateMs } from './dates.js';

// ---------------------------------------------------------------------------------------------
// Read side (loose)
// ---------------------------------------------------------------------------------------------

/** "Empty values are included as null rather than omitted" (schema-data-cache page). */
const text = z.string().nullish();
const flag = z.boolean().nullish();
const count = z.number().nullish();
/** A timestamp with or without zone, normalised to `…Z`; an unreadable one becomes null rather than failing the read. */
const date = z
  .string()
  .nullish()
  .transform((value) => (value === null || value === undefined ? value : (normalizeTrustpilotDate(value) ?? null)));

/** `links[]` on most resources: `{ href, method, rel }`. */
export const LinkSchema = z.looseObject({ href: text, method: text, rel: text });
export type Link = z.infer<typeof LinkSchema>;
const links = z.array(LinkSchema).nullish();

/** GET /v1/business-units/find and /v1/business-units/{id} (examples/business-unit-find.example.json). */
export const BusinessUnitSchema = z.looseObject({
  id: z.string(),
  displayName: text,
  name: z.looseObject({ identifying: text, referring: z.array(z.string()).nullish() }).nullish(),
  websiteUrl: text,
  country: text,
  status: text,
  badFit: flag,
  score: z.looseObject({ trustScore: count, stars: count }).nullish(),
  numberOfReviews: z
    .looseObject({
      total: count,
      usedForTrustScoreCalculation: count,
      oneStar: count,
      twoStars: count,
      threeStars: count,
      fourStars: count,
      fiveStars: count,
    })
    .nullish(),
  links,
});
export type BusinessUnit = z.infer<typeof BusinessUnitSchema>;

/** The reviewer as embedded in a review. */
export const ReviewConsumerSchema = z.looseObject({
  id: text,
  displayName: text,
  displayLocation: text,
  numberOfReviews: count,
});
export type ReviewConsumer = z.infer<typeof ReviewConsumerSchema>;

const reviewBusinessUnit = z.looseObject({ id: text, identifyingName: text, displayName: text, links }).nullish();
const tags = z.array(z.looseObject({ group: text, value: text })).nullish();
const reportData = z
  .looseObject({ source: text, publicComment: text, createdAt: date, reasons: z.array(z.unknown()).nullish(), reason: text, reviewVisibility: text })
  .nullish();

/** GET /v1/reviews/{reviewId} (examples/review-get.example.json plus the developers-site fields). */
export const PublicReviewSchema = z.looseObject({
  id: z.string(),
  stars: count,
  title: text,
  text: text,
  language: text,
  status: text,
  createdAt: date,
  updatedAt: date,
  experiencedAt: date,
  isVerified: flag,
  numberOfLikes: count,
  countsTowardsTrustScore: flag,
  companyReply: z.looseObject({ text: text, createdAt: date, updatedAt: date }).nullish(),
  consumer: ReviewConsumerSchema.nullish(),
  businessUnit: reviewBusinessUnit,
  complianceLabels: z.array(z.string()).nullish(),
  reportData,
  links,
});
export type PublicReview = z.infer<typeof PublicReviewSchema>;

/**
 * One entry of GET /v1/private/business-units/{id}/reviews, and GET /v1/private/reviews/{id}
 * (Airbyte `private_reviews`). `referralEmail` and `referenceId` are what ties a review to a contact.
 */
export const PrivateReviewSchema = z.looseObject({
  id: z.string(),
  consumer: ReviewConsumerSchema.nullish(),
  businessUnit: reviewBusinessUnit,
  stars: count,
  title: text,
  text: text,
  language: text,
  location: z.looseObject({ id: text, name: text, externalId: text, urlFormattedName: text }).nullish(),
  createdAt: date,
  updatedAt: date,
  experiencedAt: date,
  referralEmail: text,
  referenceId: text,
  source: text,
  companyReply: z.looseObject({ text: text, createdAt: date, updatedAt: date, authorBusinessUserId: text }).nullish(),
  tags,
  findReviewer: z
    .looseObject({
      isEligible: flag,
      requests: z
        .array(
          z.looseObject({
            id: text,
            status: text,
            created: date,
            businessUserMessage: text,
            consumerResponse: z
              .looseObject({ referenceId: text, name: text, email: text, phoneNumber: text, address: text, message: text, submittedAt: date })
              .nullish(),
          }),
        )
        .nullish(),
    })
    .nullish(),
  isVerified: flag,
  numberOfLikes: count,
  status: text,
  reportData,
  complianceLabels: z.array(z.string()).nullish(),
  countsTowardsTrustScore: flag,
  countsTowardsLocationTrustScore: flag,
  invitation: z.looseObject({ businessUnitId: text }).nullish(),
  businessUnitHistory: z
    .array(z.looseObject({ businessUnitId: text, identifyingName: text, displayName: text, changeDate: date }))
    .nullish(),
  reviewVerificationLevel: text,
  links,
});
export type PrivateReview = z.infer<typeof PrivateReviewSchema>;

/** `{ reviews, links }`; a `next-page` link is how Trustpilot says more pages exist (Airbyte legacy streams.py). */
export const PrivateReviewListResponseSchema = z.looseObject({
  reviews: z.array(PrivateReviewSchema).nullish(),
  links,
});
export type PrivateReviewListResponse = z.infer<typeof PrivateReviewListResponseSchema>;

/** The official example has placeholder strings for width/height; numbers are what a real answer carries. */
const image = z.looseObject({ url: text, width: z.union([z.number(), z.string()]).nullish(), height: z.union([z.number(), z.string()]).nullish() }).nullish();

/** GET /v1/consumers/{consumerId}/profile (examples/consumer-profile.example.json); createdAt/birthYear are obsolete. */
export const ConsumerProfileSchema = z.looseObject({
  id: z.string(),
  displayName: text,
  city: text,
  country: text,
  locale: text,
  gender: text,
  about: text,
  hasImage: flag,
  profileImage: z.looseObject({ image24x24: image, image35x35: image, image64x64: image, image73x73: image }).nullish(),
  createdAt: date,
  birthYear: count,
  numberOfReviews: count,
  links,
});
export type ConsumerProfile = z.infer<typeof ConsumerProfileSchema>;

/** `expires_in` is a string of seconds (`"359999"`); a number is accepted too. */
const seconds = z.union([
  z.number().int().nonnegative(),
  z
    .string()
    .regex(/^\s*\d+\s*$/, 'expected a whole number of seconds')
    .transform((value) => Number(value.trim())),
]);

/** POST /v1/oauth/oauth-business-users-for-applications/accesstoken and /refresh (grant-type-password page). */
export const TokenResponseSchema = z.looseObject({
  access_token: z.string().min(1),
  refresh_token: z.string().min(1).nullish(),
  expires_in: seconds,
});
export type TokenResponse = z.infer<typeof TokenResponseSchema>;

// ---------------------------------------------------------------------------------------------
// Write side (strict)
// ---------------------------------------------------------------------------------------------

/** The subset of the private-reviews query parameters we use (TP-bruno "Business unit private reviews"). */
export const PrivateReviewFilterSchema = z.strictObject({
  referenceId: z.string().min(1).optional(),
  referralEmail: z.string().min(1).optional(),
  page: z.number().int().min(1).optional(),
  perPage: z.number().int().min(1).max(100).optional(),
  orderBy: z.enum(['createdat.asc', 'createdat.desc']).optional(),
  /** Any ISO 8601 date-time (zone-less = UTC); sent in the documented zone-less UTC form. */
  startDateTime: z
    .string()
    .refine((value) => trustpilotDateMs(value) !== undefined, 'expected an ISO 8601 date-time')
    .optional(),
});
export type PrivateReviewFilter = z.infer<typeof PrivateReviewFilterSchema>;
