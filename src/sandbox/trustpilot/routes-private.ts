/**
 * The Bearer-token endpoints the bridge reads (Trustpilot's "Business unit private reviews" and "Get private
 * review"). A token reaches only the business unit of the application that obtained it: another unit's
 * id, known or not, and another unit's review are a 403 (Trustpilot: "Using the wrong Business Unit ID
 * … may result in 403"; the refusal is `tpErrors.forbidden` in errors.ts).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { orNotFound, tpErrors } from './errors.js';
import type { Link, Presenters } from './presenters.js';
import { clientKeyOf } from './request-pipeline.js';
import { parsePrivateReviewQuery, selectReviews } from './review-query.js';
import type { TrustpilotStore } from './store.js';

export interface PrivateRouteDeps {
  store: TrustpilotStore;
  presenters: Presenters;
  /** The business unit whose private reviews the application with this API key may read. */
  unitOf(apiKey: string): string | undefined;
  baseUrl(): string;
}

export function registerPrivateRoutes(app: FastifyInstance, deps: PrivateRouteDeps): void {
  const { store, presenters } = deps;
  const mayRead = (request: FastifyRequest, businessUnitId: string): boolean => {
    const key = clientKeyOf(request);
    return key !== undefined && deps.unitOf(key) === businessUnitId;
  };

  app.get<{ Params: { businessUnitId: string } }>('/v1/private/business-units/:businessUnitId/reviews', async (request) => {
    const { businessUnitId } = request.params;
    if (!mayRead(request, businessUnitId)) throw tpErrors.forbidden();
    const url = new URL(request.url, deps.baseUrl());
    const query = parsePrivateReviewQuery(url.searchParams);
    const { page, hasNext } = selectReviews(store.reviewsOf(businessUnitId), query);
    const pageLink = (number: number, rel: string): Link => {
      const target = new URL(url.pathname, deps.baseUrl());
      for (const [key, value] of url.searchParams) if (key !== 'page') target.searchParams.append(key, value);
      target.searchParams.set('page', String(number));
      return { href: target.toString(), method: 'GET', rel };
    };
    const links: Link[] = [];
    if (query.page > 1) links.push(pageLink(query.page - 1, 'prev-page'));
    if (hasNext) links.push(pageLink(query.page + 1, 'next-page'));
    return { links, reviews: page.map((review) => presenters.privateReview(review)) };
  });

  app.get<{ Params: { reviewId: string } }>('/v1/private/reviews/:reviewId', async (request) => {
    const review = orNotFound(store.getReview(request.params.reviewId), 'Review not found');
    if (!mayRead(request, review.businessUnitId)) throw tpErrors.forbidden();
    return presenters.privateReview(review);
  });
}
