/**
 * POST /contacts/search and GET /contacts/ listing. The search body is GHL's advanced-search guide's
 * (openapi-overlay.ts validates it before the route runs; the zod schema here only types it):
 * `{ locationId, page, pageLimit, query, filters: [{ field, operator, value }], sort: [{ field,
 * direction }], searchAfter }` → `{ contacts, total }`, each contact carrying its `searchAfter` cursor
 * (the sort values, then the id).
 */
import { z } from 'zod';
import { ghlErrors } from './errors.js';
import type { Contact } from './model.js';
import { SEARCH_MAX_PAGE_LIMIT, SEARCH_OPERATORS } from './openapi-overlay.js';

type Operator = (typeof SEARCH_OPERATORS)[number];

export interface FieldFilter {
  field: string;
  operator: Operator;
  value?: unknown;
}
export interface FilterGroup {
  group: 'AND' | 'OR';
  filters: Filter[];
}
export type Filter = FieldFilter | FilterGroup;

const FieldFilterSchema = z.looseObject({
  field: z.string().min(1),
  operator: z.enum(SEARCH_OPERATORS),
  value: z.unknown().optional(),
});

export const FilterSchema: z.ZodType<Filter> = z.lazy(() =>
  z.union([z.looseObject({ group: z.enum(['AND', 'OR']), filters: z.array(FilterSchema) }), FieldFilterSchema]),
);

// The live API refuses page-based paging past 10,000 records and asks for searchAfter instead.
const MAX_PAGED_RECORDS = 10_000;

export const SearchBodySchema = z.looseObject({
  locationId: z.string().min(1),
  page: z.number().int().min(1).optional(),
  pageLimit: z.number().int().min(1).max(SEARCH_MAX_PAGE_LIMIT).optional(),
  query: z.string().optional(),
  filters: z.array(FilterSchema).optional(),
  sort: z
    .array(z.looseObject({ field: z.string().min(1), direction: z.enum(['asc', 'desc']).optional() }))
    .optional(),
  searchAfter: z.array(z.union([z.string(), z.number()])).optional(),
});
export type SearchBody = z.infer<typeof SearchBodySchema>;

type SortKey = string | number;

const DATE_FIELDS = new Set(['dateAdded', 'dateUpdated', 'dateOfBirth', 'lastActivity']);

function toMillis(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && value !== '') {
    const parsed = /^\d+$/.test(value) ? Number(value) : Date.parse(value);
    return Number.isNaN(parsed) ? undefined : parsed;
  }
  return undefined;
}

/** customFields.<id> / customField.<id> reach into custom values; anything else is a contact property. */
function fieldValue(contact: Contact, field: string): unknown {
  const custom = /^customFields?\.(.+)$/.exec(field);
  if (custom) return contact.customFields.find((entry) => entry.id === custom[1])?.value;
  return Reflect.get(contact, field);
}

function comparable(field: string, value: unknown): SortKey | undefined {
  if (DATE_FIELDS.has(field)) return toMillis(value);
  if (typeof value === 'number') return value;
  if (typeof value === 'string') return value.toLowerCase();
  return undefined;
}

function compareKeys(a: SortKey | undefined, b: SortKey | undefined): number {
  if (a === b) return 0;
  if (a === undefined) return 1;
  if (b === undefined) return -1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a).localeCompare(String(b));
}

function matchesField(contact: Contact, filter: FieldFilter): boolean {
  const raw = fieldValue(contact, filter.field);
  const present = raw !== undefined && raw !== null && raw !== '' && !(Array.isArray(raw) && raw.length === 0);
  if (filter.operator === 'exists') return present;
  if (filter.operator === 'not_exists') return !present;

  if (Array.isArray(raw)) {
    const items = raw.map((item) => String(item).toLowerCase());
    const wanted = String(filter.value).toLowerCase();
    switch (filter.operator) {
      case 'eq':
        return items.includes(wanted);
      case 'not_eq':
        return !items.includes(wanted);
      case 'contains':
        return items.some((item) => item.includes(wanted));
      case 'not_contains':
        return !items.some((item) => item.includes(wanted));
      default:
        return false;
    }
  }

  const actual = comparable(filter.field, raw);
  const bound = (value: unknown): SortKey | undefined => comparable(filter.field, value);
  switch (filter.operator) {
    case 'eq':
      return actual !== undefined && compareKeys(actual, bound(filter.value)) === 0;
    case 'not_eq':
      return actual === undefined || compareKeys(actual, bound(filter.value)) !== 0;
    case 'contains':
      return typeof actual === 'string' && actual.includes(String(filter.value).toLowerCase());
    case 'not_contains':
      return typeof actual !== 'string' || !actual.includes(String(filter.value).toLowerCase());
    case 'range': {
      const value: unknown = filter.value;
      if (value === null || typeof value !== 'object') return false;
      return inRange(actual, value, bound);
    }
  }
}

function inRange(actual: SortKey | undefined, limits: object, bound: (value: unknown) => SortKey | undefined): boolean {
  if (actual === undefined) return false;
  const checks: [string, (order: number) => boolean][] = [
    ['gt', (order) => order > 0],
    ['gte', (order) => order >= 0],
    ['lt', (order) => order < 0],
    ['lte', (order) => order <= 0],
  ];
  return checks.every(([name, accept]) => {
    const limit: unknown = Reflect.get(limits, name);
    if (limit === undefined) return true;
    const key = bound(limit);
    return key !== undefined && accept(compareKeys(actual, key));
  });
}

function matches(contact: Contact, filter: Filter): boolean {
  if ('group' in filter) {
    return filter.group === 'AND'
      ? filter.filters.every((inner) => matches(contact, inner))
      : filter.filters.some((inner) => matches(contact, inner));
  }
  return matchesField(contact, filter);
}

function matchesQuery(contact: Contact, query: string | undefined): boolean {
  if (query === undefined || query.trim() === '') return true;
  const needle = query.trim().toLowerCase();
  return [contact.name, contact.firstName, contact.lastName, contact.email, contact.phone, contact.companyName].some(
    (value) => typeof value === 'string' && value.toLowerCase().includes(needle),
  );
}

export interface SearchResult {
  contacts: (Contact & { searchAfter: SortKey[] })[];
  total: number;
}

export function searchContacts(all: Contact[], body: SearchBody): SearchResult {
  const pageLimit = body.pageLimit ?? 20;
  const page = body.page ?? 1;
  if (body.searchAfter === undefined && page * pageLimit > MAX_PAGED_RECORDS) {
    throw ghlErrors.unprocessable([
      `page * pageLimit must not be greater than ${MAX_PAGED_RECORDS}; use searchAfter to read further`,
    ]);
  }
  const sort = (body.sort && body.sort.length > 0 ? body.sort : [{ field: 'dateAdded', direction: 'desc' as const }]).map(
    (entry) => ({ field: entry.field, sign: entry.direction === 'asc' ? 1 : -1 }),
  );
  const keyOf = (contact: Contact): SortKey[] => [
    ...sort.map((entry) => comparable(entry.field, fieldValue(contact, entry.field)) ?? ''),
    contact.id,
  ];
  const compare = (a: SortKey[], b: SortKey[]): number => {
    for (const [index, entry] of sort.entries()) {
      const order = compareKeys(a[index], b[index]) * entry.sign;
      if (order !== 0) return order;
    }
    return compareKeys(a[sort.length], b[sort.length]);
  };

  const matched = all
    .filter((contact) => matchesQuery(contact, body.query))
    .filter((contact) => (body.filters ?? []).every((filter) => matches(contact, filter)))
    .map((contact) => ({ contact, key: keyOf(contact) }))
    .sort((a, b) => compare(a.key, b.key));

  const cursor = body.searchAfter;
  const window =
    cursor === undefined
      ? matched.slice((page - 1) * pageLimit, page * pageLimit)
      : matched.filter((entry) => compare(entry.key, cursor) > 0).slice(0, pageLimit);

  return {
    contacts: window.map((entry) => ({ ...entry.contact, searchAfter: entry.key })),
    total: matched.length,
  };
}

export interface ListQuery {
  startAfterId?: string;
  startAfter?: number;
  query?: string;
  limit?: number;
}

export interface ListResult {
  contacts: Contact[];
  count: number;
  meta: {
    total: number;
    nextPageUrl: string | null;
    startAfterId: string | null;
    startAfter: number | null;
    currentPage: number;
    nextPage: number | null;
    prevPage: number | null;
  };
}

/** GET /contacts/: oldest first, cursor = (dateAdded in ms, id) of the last contact returned. */
export function listContacts(all: Contact[], query: ListQuery, baseUrl: string, locationId: string): ListResult {
  const limit = query.limit ?? 20;
  const ordered = all
    .filter((contact) => matchesQuery(contact, query.query))
    .sort((a, b) => compareKeys(Date.parse(a.dateAdded), Date.parse(b.dateAdded)) || a.id.localeCompare(b.id));
  let start = 0;
  if (query.startAfterId !== undefined || query.startAfter !== undefined) {
    const afterMs = query.startAfter ?? Number.NEGATIVE_INFINITY;
    const afterId = query.startAfterId ?? '';
    const index = ordered.findIndex((contact) => {
      const ms = Date.parse(contact.dateAdded);
      return ms > afterMs || (ms === afterMs && contact.id.localeCompare(afterId) > 0);
    });
    start = index === -1 ? ordered.length : index;
  }
  const contacts = ordered.slice(start, start + limit);
  const last = contacts.at(-1);
  const more = start + contacts.length < ordered.length;
  const currentPage = Math.floor(start / limit) + 1;
  const startAfter = more && last ? Date.parse(last.dateAdded) : null;
  const startAfterId = more && last ? last.id : null;
  const next = new URL('/contacts/', baseUrl);
  next.searchParams.set('locationId', locationId);
  if (startAfter !== null && startAfterId !== null) {
    next.searchParams.set('startAfter', String(startAfter));
    next.searchParams.set('startAfterId', startAfterId);
  }
  return {
    contacts,
    count: contacts.length,
    meta: {
      total: ordered.length,
      nextPageUrl: more ? next.toString() : null,
      startAfterId,
      startAfter,
      currentPage,
      nextPage: more ? currentPage + 1 : null,
      prevPage: currentPage > 1 ? currentPage - 1 : null,
    },
  };
}
