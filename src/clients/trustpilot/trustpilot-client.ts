/**
 * Typed client for the Trustpilot API (api.trustpilot.com/v1), built on the shared transport through
 * trustpilot-call.ts (credentials, call budget, one token renewal-and-retry on 401). Every other
 * retry is BullMQ's.
 */
import { createRequestGuards } from '../http/request-guards.js';
import { formatTrustpilotQueryDate, trustpilotDateMs } from './dates.js';
import {
  BusinessUnitSchema,
  ConsumerProfileSchema,
  PrivateReviewFilterSchema,
  PrivateReviewListResponseSchema,
  PrivateReviewSchema,
  PublicReviewSchema,
  type BusinessUnit,
  type ConsumerProfile,
  type Link,
  type PrivateReview,
  type PrivateReviewFilter,
  type PublicReview,
} from './schemas.js';
import { createTrustpilotCaller, type TrustpilotClientOptions } from './trustpilot-call.js';
import { TrustpilotClientError } from './trustpilot-client-error.js';

export type { TrustpilotClientOptions } from './trustpilot-call.js';

export interface PrivateReviewPage {
  reviews: PrivateReview[];
  /** The page to ask for next; absent on the last page. */
  nextPage?: number;
}

export interface TrustpilotClient {
  /** GET /v1/business-units/find?name={domain} (Business Units API (public)); 404 → undefined. */
  findBusinessUnit(domain: string): Promise<BusinessUnit | undefined>;
  /** GET /v1/business-units/{businessUnitId} (Business Units API (public)). */
  getBusinessUnit(id: string): Promise<BusinessUnit>;
  /** GET /v1/private/business-units/{businessUnitId}/reviews (Business Units API, Bearer). */
  listPrivateReviews(businessUnitId: string, filter: PrivateReviewFilter): Promise<PrivateReviewPage>;
  /** GET /v1/private/reviews/{reviewId} (Service Reviews API, Bearer); 404 → undefined. */
  getPrivateReview(reviewId: string): Promise<PrivateReview | undefined>;
  /** GET /v1/reviews/{reviewId} (Service Reviews API); 404 → undefined. */
  getReview(reviewId: string): Promise<PublicReview | undefined>;
  /** GET /v1/consumers/{consumerId}/profile (Consumer Profile API); 404 → undefined. */
  getConsumerProfile(consumerId: string): Promise<ConsumerProfile | undefined>;
  /** True when private calls are possible (username+password+secret configured). */
  readonly canReadPrivateReviews: boolean;
  close(): Promise<void>;
}

const DEFAULT_PER_PAGE = 20;
const NEXT_PAGE_RELS = new Set(['next-page', 'next']);

const { checked, segment } = createRequestGuards('Trustpilot', TrustpilotClientError, { invalidRequest: 'TRUSTPILOT_INVALID_REQUEST', invalidId: 'TRUSTPILOT_INVALID_ID' });

export function createTrustpilotClient(options: TrustpilotClientOptions): TrustpilotClient {
  const { get, find, canReadPrivate, close } = createTrustpilotCaller(options);

  return {
    canReadPrivateReviews: canReadPrivate,

    async findBusinessUnit(domain) {
      const name = domain.trim();
      if (name === '') throw new TrustpilotClientError('TRUSTPILOT_INVALID_REQUEST', 'findBusinessUnit needs a domain');
      return find({ method: 'GET', path: '/v1/business-units/find', query: { name } }, 'public', BusinessUnitSchema);
    },

    async getBusinessUnit(id) {
      return get({ method: 'GET', path: `/v1/business-units/${segment(id)}` }, 'public', BusinessUnitSchema);
    },

    async listPrivateReviews(businessUnitId, filter) {
      const params = checked(PrivateReviewFilterSchema, filter, 'private review filter');
      const startMs = params.startDateTime === undefined ? undefined : trustpilotDateMs(params.startDateTime);
      const path = `/v1/private/business-units/${segment(businessUnitId)}/reviews`;
      const query = { ...params, startDateTime: startMs === undefined ? undefined : formatTrustpilotQueryDate(startMs) };
      const answer = await get({ method: 'GET', path, query }, 'private', PrivateReviewListResponseSchema);
      const reviews = answer.reviews ?? [];
      const nextPage = nextPageOf(answer.links, reviews.length, params.page ?? 1, params.perPage ?? DEFAULT_PER_PAGE);
      return nextPage === undefined ? { reviews } : { reviews, nextPage };
    },

    async getPrivateReview(reviewId) {
      return find({ method: 'GET', path: `/v1/private/reviews/${segment(reviewId)}` }, 'private', PrivateReviewSchema);
    },

    async getReview(reviewId) {
      return find({ method: 'GET', path: `/v1/reviews/${segment(reviewId)}` }, 'public', PublicReviewSchema);
    },

    async getConsumerProfile(consumerId) {
      return find({ method: 'GET', path: `/v1/consumers/${segment(consumerId)}/profile` }, 'public', ConsumerProfileSchema);
    },

    close,
  };
}

/**
 * When the answer carries `links`, a `next-page` link is the word (its `page` parameter, else
 * page + 1). Without links, a full page means there may be more (Trustpilot answers an empty
 * array past the end).
 */
function nextPageOf(links: Link[] | null | undefined, received: number, page: number, perPage: number): number | undefined {
  if (links === null || links === undefined) return received >= perPage ? page + 1 : undefined;
  const next = links.find((link) => link.rel !== null && link.rel !== undefined && NEXT_PAGE_RELS.has(link.rel.toLowerCase()));
  if (next === undefined) return undefined;
  return pageParam(next.href) ?? page + 1;
}

function pageParam(href: string | null | undefined): number | undefined {
  if (href === null || href === undefined) return undefined;
  try {
    const value = new URL(href, 'https://api.trustpilot.com').searchParams.get('page');
    const page = value === null ? NaN : Number(value);
    return Number.isInteger(page) && page >= 1 ? page : undefined;
  } catch {
    return undefined;
  }
}
