/**
 * Typed client for the Opinion Stage Public Result API v2 (read-only JSON:API: items, their responses and
 * questions), built on the shared transport. Auth is HTTP Basic with the API key as user name
 * and an empty password. Every call first takes from the caller's budget: Opinion Stage documents no rate
 * limit, so the bridge keeps its own. Retries are BullMQ's job.
 */
import type { Dispatcher } from 'undici';
import type { z } from 'zod';
import { createRequestGuards, describeIssues } from '../http/request-guards.js';
import { createHttpTransport, retryAfterMs, type HttpRequest, type ResponseObserver } from '../http/transport.js';
import { OpinionStageClientError } from './opinionstage-client-error.js';
import {
  OsItemListSchema,
  OsPageQuerySchema,
  OsQuestionListSchema,
  OsResponseListSchema,
  OsResponseSchema,
  type OsItem,
  type OsListEnvelope,
  type OsPageQuery,
  type OsQuestion,
  type OsResponse,
} from './schemas.js';

// The record types callers of this client handle, importable from here.
export type { OsItem, OsQuestion, OsResponse } from './schemas.js';

export interface OpinionStageClientOptions {
  /** e.g. https://api.opinionstage.com/api/v2 (paths below it are `/items/…`). */
  baseUrl: string;
  apiKey: string;
  timeoutMs: number;
  /** Taken once before every request; may throw (e.g. RateBudgetExceededError) to hold the call back. */
  budget?: { take(): Promise<void> };
  dispatcher?: Dispatcher;
  observe?: ResponseObserver;
}

export interface OsItemPage {
  items: OsItem[];
  /** The page to ask for next; absent on the last page. */
  nextPage?: number;
}

/** A record of a page that is not a readable response: left out of `responses`, with why. */
export interface OsSkippedRecord {
  /** Its position on the page (0-based). */
  index: number;
  /** Its id, when it has a readable one. */
  id?: string;
  reason: string;
}

export interface OsResponsePage {
  responses: OsResponse[];
  /** Records that could not be read as responses; the rest of the page is still returned. */
  skipped: OsSkippedRecord[];
  nextPage?: number;
  /** `meta.page.total`, when the page says how many pages there are. */
  totalPages?: number;
}

export interface OpinionStageClient {
  /** GET /items with page[number] / page[size] (Airbyte `items` stream). */
  listItems(page?: OsPageQuery): Promise<OsItemPage>;
  /** GET /items, every page (at most MAX_PAGES pages of 100; beyond that the rest is not read). */
  listAllItems(): Promise<OsItem[]>;
  /** GET /items/{itemId}/responses with page[number] / page[size], in whatever order the API returns them (no source documents one). */
  listResponses(itemId: string, page?: OsPageQuery): Promise<OsResponsePage>;
  /** GET /items/{itemId}/questions, every page (Airbyte `questions` stream); joins answers to titles and lead fields. */
  listQuestions(itemId: string): Promise<OsQuestion[]>;
  close(): Promise<void>;
}

/** JSON:API media type, which the API answers in, for Accept; the transport parses any `…json` content type. */
const JSON_API = 'application/vnd.api+json';
export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 100;
/** Bounds a walk over all pages, so a server that never says "last page" cannot keep a worker forever. */
export const MAX_PAGES = 50;
/** Opinion Stage documents no rate limit and no Retry-After: wait this long after a bare 429. */
export const DEFAULT_RETRY_AFTER_MS = 30_000;

const { checked, segment } = createRequestGuards('Opinion Stage', OpinionStageClientError, { invalidRequest: 'OPINIONSTAGE_INVALID_REQUEST', invalidId: 'OPINIONSTAGE_INVALID_ID' });

export function createOpinionStageClient(options: OpinionStageClientOptions): OpinionStageClient {
  const transport = createHttpTransport({
    system: 'opinionstage',
    baseUrl: options.baseUrl,
    timeoutMs: options.timeoutMs,
    requestIdOf: (headers) => headers['x-request-id'],
    observe: options.observe,
    dispatcher: options.dispatcher,
  });
  const credentials = Buffer.from(`${options.apiKey}:`, 'utf8').toString('base64');
  const headers = { authorization: `Basic ${credentials}`, accept: JSON_API };
  // The key and its base64 form are blanked if an error body ever echoes them.
  const secrets = [options.apiKey, credentials];

  async function call<T>(req: HttpRequest, schema: z.ZodType<T>): Promise<T> {
    await options.budget?.take();
    const sent: HttpRequest = { ...req, headers };
    const response = await transport.send(sent);
    const wait = response.status === 429 ? waitAfter429 : retryAfterMs;
    return transport.readJson(sent, response, schema, { retryAfterMs: wait, secrets });
  }

  async function page<T>(
    path: string,
    schema: z.ZodType<OsListEnvelope & { data: T[] }>,
    query: OsPageQuery = {},
  ): Promise<{ data: T[]; nextPage?: number; totalPages?: number }> {
    const { number = 1, size = DEFAULT_PAGE_SIZE } = checked(OsPageQuerySchema, query, 'page');
    const answer = await call({ method: 'GET', path, query: { 'page[number]': number, 'page[size]': size } }, schema);
    const nextPage = nextPageOf(answer, number);
    const totalPages = whole(answer.meta?.page?.total);
    return { data: answer.data, ...(nextPage === undefined ? {} : { nextPage }), ...(totalPages === undefined ? {} : { totalPages }) };
  }

  /** Every page, deduplicated by id: a record added while paging shifts the rest by one. */
  async function all<T extends { id: string }>(path: string, schema: z.ZodType<OsListEnvelope & { data: T[] }>): Promise<T[]> {
    const byId = new Map<string, T>();
    let number: number | undefined = 1;
    for (let pages = 0; number !== undefined && pages < MAX_PAGES; pages += 1) {
      const result: { data: T[]; nextPage?: number } = await page(path, schema, { number, size: MAX_PAGE_SIZE });
      for (const record of result.data) if (!byId.has(record.id)) byId.set(record.id, record);
      number = result.nextPage;
    }
    return [...byId.values()];
  }

  const itemPath = (itemId: string, what: 'responses' | 'questions') => `/items/${segment(itemId)}/${what}`;

  return {
    async listItems(query) {
      const { data, nextPage } = await page('/items', OsItemListSchema, query);
      return nextPage === undefined ? { items: data } : { items: data, nextPage };
    },

    async listAllItems() {
      return all('/items', OsItemListSchema);
    },

    async listResponses(itemId, query) {
      const { data, nextPage, totalPages } = await page(itemPath(itemId, 'responses'), OsResponseListSchema, query);
      const { responses, skipped } = readResponses(data);
      return { responses, skipped, ...(nextPage === undefined ? {} : { nextPage }), ...(totalPages === undefined ? {} : { totalPages }) };
    },

    async listQuestions(itemId) {
      return all(itemPath(itemId, 'questions'), OsQuestionListSchema);
    },

    async close() {
      await transport.close();
    },
  };
}

/**
 * The next page: from `links.next` (its page[number], else this page + 1), else from
 * `meta.page.current < meta.page.total`. An empty page is the last, and a next page never goes backwards.
 */
export function nextPageOf(answer: OsListEnvelope, requested: number): number | undefined {
  if (answer.data.length === 0) return undefined;
  const next = answer.links?.next;
  if (typeof next === 'string' && next.trim() !== '') {
    const linked = pageNumberIn(next);
    return linked !== undefined && linked > requested ? linked : requested + 1;
  }
  const current = whole(answer.meta?.page?.current) ?? requested;
  const total = whole(answer.meta?.page?.total);
  if (total === undefined || current >= total) return undefined;
  return Math.max(current + 1, requested + 1);
}

/** Each record on its own: the readable ones, and why each other one was left out. */
export function readResponses(records: readonly unknown[]): { responses: OsResponse[]; skipped: OsSkippedRecord[] } {
  const responses: OsResponse[] = [];
  const skipped: OsSkippedRecord[] = [];
  records.forEach((record, index) => {
    const parsed = OsResponseSchema.safeParse(record);
    if (parsed.success) {
      responses.push(parsed.data);
      return;
    }
    const id = typeof record === 'object' && record !== null && 'id' in record && typeof record.id === 'string' ? record.id.slice(0, 256) : undefined;
    const reason = describeIssues(parsed.error.issues, 3, '(record)');
    skipped.push({ index, ...(id === undefined ? {} : { id }), reason });
  });
  return { responses, skipped };
}

function pageNumberIn(link: string): number | undefined {
  try {
    return whole(new URL(link, 'http://relative.invalid').searchParams.get('page[number]'));
  } catch {
    return undefined;
  }
}

function whole(value: number | string | null | undefined): number | undefined {
  if (value === null || value === undefined || value === '') return undefined;
  const number = Number(value);
  return Number.isSafeInteger(number) && number > 0 ? number : undefined;
}

function waitAfter429(headers: Record<string, string>): number {
  return retryAfterMs(headers) ?? DEFAULT_RETRY_AFTER_MS;
}
