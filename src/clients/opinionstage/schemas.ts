/**
 * Opinion Stage Public Result API v2 (JSON:API) read shapes: the list envelope and items. Responses and
 * questions live in domain/opinionstage-response.ts, which the webhook shares. Field names are the ones
 * Airbyte's connector auto-imported from real responses, where every field may be null: reads are loose
 * and only `id` is required.
 */
import { z } from 'zod';
import { OsQuestionSchema } from '../../domain/opinionstage-response.js';

const text = z.string().nullish();
/** Page counters are numbers in the observed envelope; numeric strings are read too. */
const counter = z.union([z.number(), z.string()]).nullish();

/** An item (quiz, survey, form, poll). `links.landing` is the public link personal survey links are built from. */
export const OsItemSchema = z.looseObject({
  id: z.string().min(1),
  type: text,
  attributes: z
    .looseObject({
      title: text,
      status: text,
      embed: z.looseObject({ iframe: text, script: text }).nullish(),
      timestamps: z.looseObject({ created: text, modified: text }).nullish(),
    })
    .nullish(),
  links: z.looseObject({ self: text, edit: text, iframe: text, landing: text, results: text }).nullish(),
});
export type OsItem = z.infer<typeof OsItemSchema>;

/** `{ data: [...], meta: { page: { current, total } }, links: { self, next } }`; `links.next` is null on the last page. */
function listEnvelope<T extends z.ZodType>(resource: T) {
  return z.looseObject({
    data: z.array(resource),
    meta: z.looseObject({ page: z.looseObject({ current: counter, total: counter }).nullish() }).nullish(),
    links: z.looseObject({ self: text, next: text }).nullish(),
  });
}

export const OsItemListSchema = listEnvelope(OsItemSchema);
/**
 * Responses are read one record at a time (OsResponseSchema each): one unreadable record must cost
 * that record, not the page and every response on it.
 */
export const OsResponseListSchema = listEnvelope(z.unknown());
export const OsQuestionListSchema = listEnvelope(OsQuestionSchema);
/** Any list's envelope, records unread. */
export type OsListEnvelope = z.infer<typeof OsResponseListSchema>;

/** `page[number]` is 1-based; `page[size]` 50 by default (Airbyte), at most 100 (the largest size any client uses). */
export const OsPageQuerySchema = z.strictObject({
  number: z.number().int().min(1).max(100_000).optional(),
  size: z.number().int().min(1).max(100).optional(),
});
export type OsPageQuery = z.infer<typeof OsPageQuerySchema>;
