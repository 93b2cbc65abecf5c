/** Errors the Opinion Stage client raises before any request leaves: an id or page that would make a bad request. */
import { clientErrorClass } from '../http/client-error.js';

export type OpinionStageClientErrorCode =
  | 'OPINIONSTAGE_INVALID_ID' // an id that would change the request path ('', '.', '..')
  | 'OPINIONSTAGE_INVALID_REQUEST'; // a page number or size outside what the API takes

/** Both are wrong before the request is sent, so sending it again cannot help. */
const PERMANENT: Record<OpinionStageClientErrorCode, boolean> = {
  OPINIONSTAGE_INVALID_ID: true,
  OPINIONSTAGE_INVALID_REQUEST: true,
};

export class OpinionStageClientError extends clientErrorClass<OpinionStageClientErrorCode>(PERMANENT) {}
