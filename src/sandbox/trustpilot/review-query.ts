/**
 * GET /v1/private/business-units/{id}/reviews: the filters and paging the bridge relies on
 * (Trustpilot's "Business unit private reviews" endpoint). `referenceId` matches exactly,
 * `referralEmail` case-insensitively; an empty parameter counts as absent. `page` ≥ 1, `perPage`
 * 1–100 (default 20); `stars` repeats or is a comma list. Other documented filters are ignored.
 */
import { z } from 'zod';
import { parseIsoDate } from './dates.js';
import { tpErrors } from './errors.js';
import type { ReviewRecord } from './model.js';

const DateParamSchema = z.string().transform((text, context) => {
  const ms = parseIsoDate(text);
  if (ms === undefined) {
    context.addIssue({ code: 'custom', message: 'must be an ISO 8601 date, e.g. 2013-09-07T13:37:00' });
    return z.NEVER;
  }
  return ms;
});

export const PrivateReviewQuerySchema = z.object({
  page: z.coerce.number().int().min(1).default(1),
  perPage: z.coerce.number().int().min(1).max(100).default(20),
  orderBy: z.enum(['createdat.desc', 'createdat.asc', 'stars.desc', 'stars.asc']).default('createdat.desc'),
  referenceId: z.string().optional(),
  referralEmail: z.string().optional(),
  language: z.string().optional(),
  stars: z.array(z.coerce.number().int().min(1).max(5)).optional(),
  responded: z.enum(['true', 'false']).optional(),
  startDateTime: DateParamSchema.optional(),
  endDateTime: DateParamSchema.optional(),
});
export type PrivateReviewQuery = z.infer<typeof PrivateReviewQuerySchema>;

const SINGLE_PARAMS = ['page', 'perPage', 'orderBy', 'referenceId', 'referralEmail', 'language', 'responded', 'startDateTime', 'endDateTime'] as const;

export function parsePrivateReviewQuery(search: URLSearchParams): PrivateReviewQuery {
  const raw: Record<string, unknown> = {};
  for (const name of SINGLE_PARAMS) {
    const value = search.get(name);
    if (value !== null && value !== '') raw[name] = value;
  }
  const stars = search.getAll('stars').flatMap((value) => value.split(',')).filter((value) => value !== '');
  if (stars.length > 0) raw.stars = stars;
  const result = PrivateReviewQuerySchema.safeParse(raw);
  if (result.success) return result.data;
  const first = result.error.issues[0];
  throw tpErrors.badRequest(
    first === undefined ? 'Invalid query' : `${first.path.map(String).join('.')}: ${first.message}`,
    result.error.issues.map((issue) => ({ parameter: issue.path.map(String).join('.'), message: issue.message })),
  );
}

export function selectReviews(reviews: ReviewRecord[], query: PrivateReviewQuery): { page: ReviewRecord[]; hasNext: boolean } {
  const email = query.referralEmail?.toLowerCase();
  const matching = reviews.filter(
    (review) =>
      (query.referenceId === undefined || review.referenceId === query.referenceId) &&
      (email === undefined || review.referralEmail?.toLowerCase() === email) &&
      (query.language === undefined || review.language === query.language) &&
      (query.stars === undefined || query.stars.includes(review.stars)) &&
      (query.responded === undefined || (review.companyReply !== null) === (query.responded === 'true')) &&
      (query.startDateTime === undefined || review.createdAt >= query.startDateTime) &&
      (query.endDateTime === undefined || review.createdAt <= query.endDateTime),
  );
  const [field, direction] = query.orderBy.split('.');
  const sign = direction === 'asc' ? 1 : -1;
  matching.sort((a, b) => {
    const primary = field === 'stars' ? a.stars - b.stars : a.createdAt - b.createdAt;
    return primary !== 0 ? sign * primary : sign * (a.createdAt - b.createdAt) || a.id.localeCompare(b.id);
  });
  const start = (query.page - 1) * query.perPage;
  return { page: matching.slice(start, start + query.perPage), hasNext: matching.length > start + query.perPage };
}
