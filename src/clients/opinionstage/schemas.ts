/**
 * Opinion Stage Public Result API v2 (JSON:API) read shapes: responses, questions, the list envelope and
 * items. The webhook carries the same response object (src/domain/opinionstage-response.ts).
 * Field names are the ones Airbyte's connector auto-imported from real responses, where every field may
 * be null: reads are loose and only `id` is required.
 */
import { z } from 'zod';

const text = z.string().nullish();
const flag = z.boolean().nullish();
/** utm / hidden_fields: string values in practice; anything else is carried and ignored. */
const ParamsSchema = z.record(z.string(), z.unknown()).nullish();

/** `answers[]`: `question` is the question id (join with GET /items/{id}/questions), `selection` the chosen or typed values. */
export const OsAnswerSchema = z.looseObject({
  question: text,
  selection: z.array(z.union([z.string(), z.number(), z.boolean()]).nullable()).nullish(),
});
export type OsAnswer = z.infer<typeof OsAnswerSchema>;

/**
 * One response of an item. `id` is the dedupe key and the only field required: real records carry
 * null `attributes` and null `answers`, and such a response is still imported with what it has
 * (flat identity fields, a note saying what was missing).
 */
export const OsResponseSchema = z.looseObject({
  id: z.string().min(1).max(256),
  type: text,
  attributes: z
    .looseObject({
      answers: z.array(OsAnswerSchema).nullish(),
      result: z.looseObject({ title: text, text, score: z.number().nullish() }).nullish(),
      // Airbyte's schema allows null here; being strict would turn a harmless gap into a lost response.
      timestamps: z.looseObject({ created: text }).nullish(),
      timings: z.looseObject({ duration: z.number().nullish() }).nullish(),
      utm: ParamsSchema,
      hidden_fields: ParamsSchema,
    })
    .nullish(),
  links: z.looseObject({ self: text, hosting: text }).nullish(),
});
export type OsResponse = z.infer<typeof OsResponseSchema>;

/** One question of an item. `lead` and `kind` are observed field names; their values are not documented (Airbyte's connector). */
export const OsQuestionSchema = z.looseObject({
  id: z.string().min(1),
  type: text,
  attributes: z
    .looseObject({
      title: text,
      kind: text,
      lead: flag,
      timestamps: z.looseObject({ created: text, modified: text }).nullish(),
    })
    .nullish(),
});
export type OsQuestion = z.infer<typeof OsQuestionSchema>;

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
