/** Errors the GHL client raises before any request leaves: bad input or no token for a location. */
import { clientErrorClass } from '../http/client-error.js';

export type GhlClientErrorCode =
  | 'GHL_LOCATION_NOT_SERVED' // the token provider has no token for this location
  | 'GHL_INVALID_ID' // an id that would change the request path ('', '.', '..')
  | 'GHL_INVALID_REQUEST' // a body or query that does not match the documented request shape
  | 'GHL_RECONNECT_REQUIRED' // the OAuth install's refresh was refused: the location must be reconnected
  | 'GHL_INSTALL_REFUSED' // GHL refused an install's authorization code (unknown, spent or expired)
  | 'GHL_INSTALL_NOT_ALLOWED'; // the installing company is not in GHL_ALLOWED_COMPANY_IDS: nothing stored

/** Which refusals no retry can fix: the request was wrong before it was sent, or the install must be redone. */
const PERMANENT: Record<GhlClientErrorCode, boolean> = {
  GHL_LOCATION_NOT_SERVED: true,
  GHL_INVALID_ID: true,
  GHL_INVALID_REQUEST: true,
  // A location whose refresh token GHL refused: nothing works until someone reconnects it.
  GHL_RECONNECT_REQUIRED: true,
  GHL_INSTALL_REFUSED: false,
  GHL_INSTALL_NOT_ALLOWED: false,
};

export class GhlClientError extends clientErrorClass<GhlClientErrorCode>(PERMANENT) {}
