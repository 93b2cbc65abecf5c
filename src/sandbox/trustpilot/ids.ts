import { randomBytes } from 'node:crypto';

/** Trustpilot ids are 24 hex characters (MongoDB ObjectIds in every published example). */
export function newTrustpilotId(): string {
  const seconds = Math.floor(Date.now() / 1000).toString(16).padStart(8, '0');
  return `${seconds}${randomBytes(8).toString('hex')}`;
}

/** Opaque OAuth tokens, shaped like Apigee's 28-character ones. */
export function newOpaqueToken(): string {
  return randomBytes(21).toString('base64url');
}
