/**
 * The Public Result API's three reads (NOTES §B3): items, an item's responses (newest first) and an
 * item's questions, each a paged JSON:API collection. An unknown item is a JSON:API 404.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { osErrors } from './errors.js';
import type { Item } from './model.js';
import { paginate } from './pagination.js';
import { API_PREFIX, toItemResource, toQuestionResource, toResponseResource } from './resources.js';
import type { OsStore } from './store.js';

export interface ApiRouteDeps {
  store: OsStore;
  baseUrl(): string;
}

function requestTarget(request: FastifyRequest, baseUrl: string): { origin: string; path: string; search: URLSearchParams } {
  const url = new URL(request.url, baseUrl);
  return { origin: baseUrl, path: url.pathname, search: url.searchParams };
}

export function registerApiRoutes(app: FastifyInstance, deps: ApiRouteDeps): void {
  const itemOr404 = (itemId: string): Item => {
    const item = deps.store.getItem(itemId);
    if (!item) throw osErrors.notFound(`Item ${itemId} not found`);
    return item;
  };

  app.get(`${API_PREFIX}/items`, async (request) => {
    const baseUrl = deps.baseUrl();
    return paginate(deps.store.listItems(), (item) => toItemResource(item, baseUrl), requestTarget(request, baseUrl));
  });

  app.get<{ Params: { itemId: string } }>(`${API_PREFIX}/items/:itemId/responses`, async (request) => {
    const baseUrl = deps.baseUrl();
    const item = itemOr404(request.params.itemId);
    const responses = deps.store.listResponses(item.id) ?? [];
    return paginate(responses, (response) => toResponseResource(response, baseUrl), requestTarget(request, baseUrl));
  });

  app.get<{ Params: { itemId: string } }>(`${API_PREFIX}/items/:itemId/questions`, async (request) => {
    const baseUrl = deps.baseUrl();
    const item = itemOr404(request.params.itemId);
    return paginate(item.questions, toQuestionResource, requestTarget(request, baseUrl));
  });
}
