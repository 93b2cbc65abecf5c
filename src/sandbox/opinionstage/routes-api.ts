/**
 * The Public Result API's three reads: items, an item's responses and an item's questions,
 * each a paged JSON:API collection. An unknown item is a JSON:API 404. The responses' order is not
 * documented anywhere, so it is a switch (newest first by default); an item's questions can be made
 * to answer 404 while its responses are still served. A key sees only its own account's items:
 * the listing leaves the others out, and another account's item answers as an unknown one does (404),
 * so a key never learns what other accounts hold.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { osErrors } from './errors.js';
import { callerKeyOf } from './request-pipeline.js';
import type { Item } from './model.js';
import { paginate } from './pagination.js';
import { API_PREFIX, toItemResource, toQuestionResource, toResponseResource } from './resources.js';
import type { OsStore } from './store.js';

export type ResponseOrder = 'newest-first' | 'oldest-first';

export interface ApiRouteDeps {
  store: OsStore;
  baseUrl(): string;
  responseOrder(): ResponseOrder;
  questionsHidden(itemId: string): boolean;
  /** The API key of the account that owns the item. */
  ownerOf(itemId: string): string;
}

function requestTarget(request: FastifyRequest, baseUrl: string): { origin: string; path: string; search: URLSearchParams } {
  const url = new URL(request.url, baseUrl);
  return { origin: baseUrl, path: url.pathname, search: url.searchParams };
}

export function registerApiRoutes(app: FastifyInstance, deps: ApiRouteDeps): void {
  const visible = (request: FastifyRequest, item: Item): boolean => deps.ownerOf(item.id) === callerKeyOf(request);
  const itemOr404 = (request: FastifyRequest, itemId: string): Item => {
    const item = deps.store.getItem(itemId);
    if (!item || !visible(request, item)) throw osErrors.notFound(`Item ${itemId} not found`);
    return item;
  };

  app.get(`${API_PREFIX}/items`, async (request) => {
    const baseUrl = deps.baseUrl();
    return paginate(deps.store.listItems().filter((item) => visible(request, item)), (item) => toItemResource(item, baseUrl), requestTarget(request, baseUrl));
  });

  app.get<{ Params: { itemId: string } }>(`${API_PREFIX}/items/:itemId/responses`, async (request) => {
    const baseUrl = deps.baseUrl();
    const item = itemOr404(request, request.params.itemId);
    const newestFirst = deps.store.listResponses(item.id) ?? [];
    const responses = deps.responseOrder() === 'oldest-first' ? [...newestFirst].reverse() : newestFirst;
    return paginate(responses, (response) => toResponseResource(response, baseUrl), requestTarget(request, baseUrl));
  });

  app.get<{ Params: { itemId: string } }>(`${API_PREFIX}/items/:itemId/questions`, async (request) => {
    const baseUrl = deps.baseUrl();
    const item = itemOr404(request, request.params.itemId);
    if (deps.questionsHidden(item.id)) throw osErrors.notFound(`Questions of item ${item.id} not found`);
    return paginate(item.questions, toQuestionResource, requestTarget(request, baseUrl));
  });
}
