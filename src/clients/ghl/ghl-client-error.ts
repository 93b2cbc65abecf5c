/** Errors the GHL client raises before any request leaves: bad input or no token for a location. */

export type GhlClientErrorCode =
  | 'GHL_LOCATION_NOT_SERVED' // the token provider has no token for this location
  | 'GHL_INVALID_ID' // an id that would change the request path ('', '.', '..')
  | 'GHL_INVALID_REQUEST' // a body or query that does not match the documented request shape
  | 'GHL_RECONNECT_REQUIRED' // the OAuth install's refresh was refused: the location must be reconnected
  | 'GHL_INSTALL_REFUSED' // GHL refused an install's authorization code (unknown, spent or expired)
  | 'GHL_INSTALL_NOT_ALLOWED'; // the installing company is not in GHL_ALLOWED_COMPANY_IDS: nothing stored

export class GhlClientError extends Error {
  readonly code: GhlClientErrorCode;

  constructor(code: GhlClientErrorCode, message: string) {
    super(message);
    this.name = 'GhlClientError';
    this.code = code;
  }
}
