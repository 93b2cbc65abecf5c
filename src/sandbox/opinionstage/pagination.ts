/**
 * JSON:API page-number paging as the Public Result API documents it: `page[number]` 1-based, `page[size]` capped at 100,
 * envelope `{ data: [...], meta: { page: { current, total } }, links: { self, next } }` with `total`
 * the number of pages and `next` null on the last page. The default size is undocumented; 25 is small
 * enough that a client which never follows `links.next` misses records in tests.
 */
import { osErrors } from './errors.js';

export const DEFAULT_PAGE_SIZE = 25;
export const MAX_PAGE_SIZE = 100;

export interface PageRequest {
  number: number;
  size: number;
}

export interface CollectionDocument<T> {
  data: T[];
  meta: { page: { current: number; total: number } };
  links: { self: string; next: string | null };
}

function positiveInteger(search: URLSearchParams, name: string): number | undefined {
  const raw = search.get(name);
  if (raw === null || raw === '') return undefined;
  if (!/^\d+$/.test(raw) || Number(raw) < 1) throw osErrors.badParameter(name, `${name} must be a positive integer`);
  return Number(raw);
}

export function parsePageRequest(search: URLSearchParams): PageRequest {
  const number = positiveInteger(search, 'page[number]') ?? 1;
  // An oversized page is served at the maximum, not refused: the client must follow links.next.
  const size = Math.min(positiveInteger(search, 'page[size]') ?? DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE);
  return { number, size };
}

function pageUrl(origin: string, path: string, search: URLSearchParams, page: PageRequest): string {
  const params = new URLSearchParams(search);
  params.set('page[number]', String(page.number));
  params.set('page[size]', String(page.size));
  return `${origin}${path}?${params.toString()}`;
}

export function paginate<R, T>(
  records: readonly R[],
  toResource: (record: R) => T,
  request: { origin: string; path: string; search: URLSearchParams },
): CollectionDocument<T> {
  const page = parsePageRequest(request.search);
  const total = Math.ceil(records.length / page.size);
  const start = (page.number - 1) * page.size;
  return {
    data: records.slice(start, start + page.size).map(toResource),
    meta: { page: { current: page.number, total } },
    links: {
      self: pageUrl(request.origin, request.path, request.search, page),
      next: page.number < total ? pageUrl(request.origin, request.path, request.search, { ...page, number: page.number + 1 }) : null,
    },
  };
}
