/**
 * Pure helpers for polling an item's responses without knowing the order the API lists them in: no
 * source documents it (one poller assumes newest first), so the poll reads each page's created times
 * instead of trusting a position.
 */
import type { OsResponse } from '../clients/opinionstage/schemas.js';

export type PageOrder = 'newest-first' | 'oldest-first' | 'unknown';

/** The response's created time in ms, when it carries a readable one. */
export function createdMs(response: OsResponse): number | undefined {
  const created = response.attributes?.timestamps?.created;
  if (typeof created !== 'string') return undefined;
  const ms = Date.parse(created);
  return Number.isNaN(ms) ? undefined : ms;
}

/** The order a page shows: its created times all non-increasing, all non-decreasing, or neither (or too few to tell). */
export function pageOrder(responses: readonly OsResponse[]): PageOrder {
  const times = responses.map(createdMs).filter((ms) => ms !== undefined);
  let down = false;
  let up = false;
  for (let i = 1; i < times.length; i++) {
    const [before, after] = [times[i - 1] ?? 0, times[i] ?? 0];
    if (after < before) down = true;
    if (after > before) up = true;
  }
  if (down && !up) return 'newest-first';
  if (up && !down) return 'oldest-first';
  return 'unknown';
}

/**
 * Whether the page holds a response created before `cutoff`. Read in the list's own order, from its
 * newest end, such a page is the last one that can hold anything newer.
 */
export function reachesBefore(responses: readonly OsResponse[], cutoff: number): boolean {
  return responses.some((response) => {
    const ms = createdMs(response);
    return ms !== undefined && ms < cutoff;
  });
}
