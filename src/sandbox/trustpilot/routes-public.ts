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

  /** GET `url`: the record `find` returns for the `:param` in the path, presented, or Trustpilot's 404 with `missing`. */
  function getById<T>(url: string, param: string, find: (id: string) => T | undefined, missing: string, present: (record: T) => unknown): void {
    app.get<{ Params: Record<string, string> }>(url, async (request) => present(orNotFound(find(request.params[param] ?? ''), missing)));
  }

  getById('/v1/business-units/:businessUnitId', 'businessUnitId', (id) => store.getBusinessUnit(id), 'Business unit not found', presenters.businessUnit);
  getById('/v1/reviews/:reviewId', 'reviewId', (id) => store.getReview(id), 'Review not found', presenters.publicReview);
  getById('/v1/consumers/:consumerId/profile', 'consumerId', (id) => store.getConsumer(id), 'Consumer not found', presenters.consumerProfile);
  getById('/v1/consumers/:consumerId', 'consumerId', (id) => store.getConsumer(id), 'Consumer not found', presenters.consumerWithReviews);
}
