/** Errors the Trustpilot client and its token store raise themselves: bad input, missing credentials or keys, lock timeouts. */
import { clientErrorClass } from '../http/client-error.js';

export type TrustpilotClientErrorCode =
  | 'TRUSTPILOT_PRIVATE_NOT_CONFIGURED' // a private call without API secret + business-user username/password
  | 'TRUSTPILOT_INVALID_ID' // an id that would change the request path ('', '.', '..')
  | 'TRUSTPILOT_INVALID_REQUEST' // a filter that does not match the documented query parameters
  | 'TRUSTPILOT_TOKEN_LOCK_TIMEOUT' // another worker held the token lock past our deadline
  | 'TRUSTPILOT_TOKEN_STORE_KEY'; // the Redis token store was given no (or a malformed) encryption key

/** Missing credentials or keys and bad input stay wrong on a retry; a lock held too long does not. */
const PERMANENT: Record<TrustpilotClientErrorCode, boolean> = {
  TRUSTPILOT_PRIVATE_NOT_CONFIGURED: true,
  TRUSTPILOT_INVALID_ID: true,
  TRUSTPILOT_INVALID_REQUEST: true,
  TRUSTPILOT_TOKEN_LOCK_TIMEOUT: false,
  TRUSTPILOT_TOKEN_STORE_KEY: true,
};

export class TrustpilotClientError extends clientErrorClass<TrustpilotClientErrorCode>(PERMANENT) {}
