/**
 * Dates: "all date/time responses are returned using ISO 8601 format using UTC" (Trustpilot's docs). The
 * simulator always answers with milliseconds and `Z` (as the webhook example does), so a client must
 * parse both that and the zone-less form in Trustpilot's docs. Query parameters without a zone are UTC,
 * and a date without a time is midnight ("If no time is specified then time is implicit 00:00:00").
 */
const QUERY_DATE = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,3})?)?(?:Z|[+-]\d{2}:\d{2})?)?$/;

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** Milliseconds for an ISO date (query parameter or seeded value), or undefined when it is not one. */
export function parseIsoDate(text: string): number | undefined {
  if (!QUERY_DATE.test(text)) return undefined;
  const withTime = text.length === 10 ? `${text}T00:00:00` : text;
  const zoned = /(?:Z|[+-]\d{2}:\d{2})$/.test(withTime) ? withTime : `${withTime}Z`;
  const ms = Date.parse(zoned);
  return Number.isNaN(ms) ? undefined : ms;
}
