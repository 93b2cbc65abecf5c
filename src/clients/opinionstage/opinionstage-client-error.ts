/** Errors the Opinion Stage client raises before any request leaves: an id or page that would make a bad request. */

export type OpinionStageClientErrorCode =
  | 'OPINIONSTAGE_INVALID_ID' // an id that would change the request path ('', '.', '..')
  | 'OPINIONSTAGE_INVALID_REQUEST'; // a page number or size outside what the API takes

export class OpinionStageClientError extends Error {
  readonly code: OpinionStageClientErrorCode;

  constructor(code: OpinionStageClientErrorCode, message: string) {
    super(message);
    this.name = 'OpinionStageClientError';
    this.code = code;
  }
}
