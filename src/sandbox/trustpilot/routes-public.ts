/**
 * The API-key endpoints (Trustpilot's "Business Units API (public)", "Service Reviews API/Get a review",
 * "Consumer Profile API"): find a business unit by domain, get one by id, a public review, a consumer.
 */
import type { FastifyInstance } from 'fastify';
import { orNotFound, tpErrors } from './errors.js';
import type { Presenters } from './presenters.js';
import type { TrustpilotStore } from './store.js';

export interface PublicRouteDeps {
  store: TrustpilotStore;
  presenters: Presenters;
}

export function registerPublicRoutes(app: FastifyInstance, deps: PublicRouteDeps): void {
  const { store, presenters } = deps;

  app.get('/v1/business-units/find', async (request) => {
    const name = new URL(request.url, 'http://sandbox.invalid').searchParams.get('name');
    if (name === null || name.trim() === '') throw tpErrors.badRequest('name is required');
    const unit = orNotFound(store.findBusinessUnit(name), 'Business unit not found');
    return presenters.businessUnit(unit);
  });

  app.get<{ Params: { businessUnitId: string } }>('/v1/business-units/:businessUnitId', async (request) => {
    const unit = orNotFound(store.getBusinessUnit(request.params.businessUnitId), 'Business unit not found');
    return presenters.businessUnit(unit);
  });

  app.get<{ Params: { reviewId: string } }>('/v1/reviews/:reviewId', async (request) => {
    const review = orNotFound(store.getReview(request.params.reviewId), 'Review not found');
    return presenters.publicReview(review);
  });

  app.get<{ Params: { consumerId: string } }>('/v1/consumers/:consumerId/profile', async (request) => {
    const consumer = orNotFound(store.getConsumer(request.params.consumerId), 'Consumer not found');
    return presenters.consumerProfile(consumer);
  });

  app.get<{ Params: { consumerId: string } }>('/v1/consumers/:consumerId', async (request) => {
    const consumer = orNotFound(store.getConsumer(request.params.consumerId), 'Consumer not found');
    return presenters.consumerWithReviews(consumer);
  });
}
