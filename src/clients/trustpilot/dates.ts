/**
 * Trustpilot timestamps. The docs say "ISO 8601 in UTC" yet their own examples omit the zone
 * (`2013-09-07T13:37:00`), while real list responses carry `Z`. `Date.parse` would read
 * a zone-less date-time as local time, so a missing zone is made explicit UTC first.
 */

const ZONELESS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/;
const ISO_LIKE = /^\d{4}-\d{2}-\d{2}([T ]|$)/;

/** Epoch ms of a Trustpilot timestamp (with or without zone); undefined when it is not a date. */
export function trustpilotDateMs(text: string): number | undefined {
  const trimmed = text.trim();
  if (!ISO_LIKE.test(trimmed)) return undefined;
  const ms = Date.parse(ZONELESS.test(trimmed) ? `${trimmed}Z` : trimmed);
  return Number.isNaN(ms) ? undefined : ms;
}

/** The same instant as `2013-09-07T13:37:00.000Z`; undefined when it is not a date. */
export function normalizeTrustpilotDate(text: string): string | undefined {
  const ms = trustpilotDateMs(text);
  return ms === undefined ? undefined : new Date(ms).toISOString();
}

/** The query format the docs show for `startDateTime`/`endDateTime`: UTC without a zone, `2013-09-07T13:37:00`. */
export function formatTrustpilotQueryDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19);
}
