/**
 * Opinion Stage responses, pure: what a record carries. The response and question shapes are the
 * API's (src/clients/opinionstage/schemas.ts); the webhook body is parsed in
 * src/webhooks/opinionstage-response.ts, respondents and answer lines in ./opinionstage-answers.ts.
 */
import type { OsAnswer, OsResponse } from '../clients/opinionstage/schemas.js';

/** The response's answers; none when the record carries null (or no) attributes or answers. */
export function answersOf(response: OsResponse): OsAnswer[] {
  return response.attributes?.answers ?? [];
}

/** Whether the record carried its answers at all (an empty list is answers; null is not). */
export function hasAnswers(response: OsResponse): boolean {
  return Array.isArray(response.attributes?.answers);
}
