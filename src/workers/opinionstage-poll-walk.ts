/**
 * Which pages of an item's responses a poll reads, whatever order the API lists them in. Page 1's
 * created times tell the order: newest first, the poll reads forward until a page reaches back before
 * the cutoff; oldest first, it reads back from the last page (`meta.page.total`) the same way; when
 * page 1 cannot tell (one record, equal or missing times), it reads every page up to the bound.
 */
import type { OpinionStageClient, OsResponsePage } from '../clients/opinionstage/opinionstage-client.js';
import { createdMs, pageOrder, reachesBefore } from '../domain/opinionstage-poll-order.js';
import type { OsResponse } from '../clients/opinionstage/schemas.js';
import type { OsPollState } from '../state/opinionstage-poll-seen.js';

/** A safety bound on the pages one item costs per poll. */
export const MAX_PAGES_PER_ITEM = 20;
export const PAGE_SIZE = 50;

type Lister = Pick<OpinionStageClient, 'listResponses'>;

export interface WalkOutcome {
  /** Responses to queue: not seen before, created at or after the cutoff (or with no created time). */
  fresh: OsResponse[];
  pages: number;
  skipped: { page: number; index: number; id?: string; reason: string }[];
  /** A first poll's floor: nothing created before it is imported later. */
  floor?: number;
  /** The bound stopped the walk before it reached the cutoff. */
  truncated: boolean;
}

/** A first poll: the newest page only, whichever end of the list it is at. `emptyFloor` is the floor when that page has no created time. */
export async function readNewestPage(client: Lister, itemId: string, emptyFloor: number): Promise<WalkOutcome> {
  const reader = pageReader(client, itemId);
  let newest = await reader.read(1);
  if (pageOrder(newest.responses) === 'oldest-first') {
    if (newest.totalPages !== undefined && newest.totalPages > 1) newest = await reader.read(newest.totalPages);
    else while (newest.nextPage !== undefined && reader.pages < MAX_PAGES_PER_ITEM) newest = await reader.read(newest.nextPage);
  }
  const times = newest.responses.map(createdMs).filter((ms) => ms !== undefined);
  return { fresh: newest.responses, pages: reader.pages, skipped: reader.skipped, floor: times.length > 0 ? Math.min(...times) : emptyFloor, truncated: false };
}

/** A later poll: every page that can hold a response created at or after the cutoff. */
export async function readSince(client: Lister, itemId: string, state: OsPollState): Promise<WalkOutcome> {
  const reader = pageReader(client, itemId);
  const fresh = new Map<string, OsResponse>();
  const keep = (page: OsResponsePage) => {
    for (const response of page.responses) {
      const ms = createdMs(response);
      if (state.seen.has(response.id) || (ms !== undefined && ms < state.cutoff)) continue;
      // Records shift between pages while they are read: one id is one response.
      if (!fresh.has(response.id)) fresh.set(response.id, response);
    }
  };
  const first = await reader.read(1);
  keep(first);
  const order = pageOrder(first.responses);
  let truncated = false;
  if (order === 'oldest-first' && first.totalPages !== undefined) {
    for (let number = first.totalPages; number > 1; number--) {
      if (reader.pages >= MAX_PAGES_PER_ITEM) {
        truncated = true;
        break;
      }
      const page = await reader.read(number);
      keep(page);
      if (reachesBefore(page.responses, state.cutoff)) break;
    }
  } else {
    let page = first;
    while (!(order === 'newest-first' && reachesBefore(page.responses, state.cutoff)) && page.nextPage !== undefined) {
      if (reader.pages >= MAX_PAGES_PER_ITEM) {
        truncated = true;
        break;
      }
      page = await reader.read(page.nextPage);
      keep(page);
    }
  }
  return { fresh: [...fresh.values()], pages: reader.pages, skipped: reader.skipped, truncated };
}

function pageReader(client: Lister, itemId: string) {
  const reader = {
    pages: 0,
    skipped: [] as WalkOutcome['skipped'],
    async read(number: number): Promise<OsResponsePage> {
      const page = await client.listResponses(itemId, { number, size: PAGE_SIZE });
      reader.pages += 1;
      for (const skipped of page.skipped) reader.skipped.push({ page: number, ...skipped });
      return page;
    },
  };
  return reader;
}
