/**
 * Opinion Stage responses and questions (Public Result API v2, JSON:API), as the API returns them.
 *
 * No published schema covers them; these shapes follow the only observed ones (an auto-imported
 * `responses`/`questions` connector schema), where every field may be null, so reads are loose and
 * tolerate null.
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

/** The response's answers; none when the record carries null (or no) attributes or answers. */
export function answersOf(response: OsResponse): OsAnswer[] {
  return response.attributes?.answers ?? [];
}

/** Whether the record carried its answers at all (an empty list is answers; null is not). */
export function hasAnswers(response: OsResponse): boolean {
  return Array.isArray(response.attributes?.answers);
}

/** One question of an item. `lead` and `kind` are observed field names; their values are not documented (no source documents them). */
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
