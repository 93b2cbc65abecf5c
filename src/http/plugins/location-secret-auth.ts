/**
 * The webhook check for sources that also have per-location URLs (`?location=<id>`): with `location`,
 * the request must carry that location's own connection secret; an unknown location, one without that
 * connection, and a wrong secret get the same 401, so the answer does not tell which locations are
 * connected. Without `location`, the environment's secret applies as before (shared-secret-auth.ts).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Metrics } from '../../observability/metrics.js';
import { checkSharedSecret } from '../../webhooks/shared-secret.js';
import { errorReply } from '../schemas/common.js';
import { requireSharedSecret } from './shared-secret-auth.js';

export const LOCATION_QUERY = 'location';

/** A location's own webhook secret, or undefined when it has no such connection. */
export type LocationSecretLookup = (locationId: string) => Promise<string | undefined>;

// Compared against when the location has no secret, so an unknown location costs the same work.
const NO_SECRET = 'no-connection-for-this-location-0000';

export function requireLocationOrSharedSecret(options: { secret: string | undefined; variable: string; source: string; metrics: Metrics; locationSecret: LocationSecretLookup | undefined }) {
  const shared = requireSharedSecret(options);
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const location = locationOf(request.query);
    if (location === undefined) return shared(request, reply);
    const expected = typeof location === 'string' && options.locationSecret ? await options.locationSecret(location) : undefined;
    const result = checkSharedSecret(expected ?? NO_SECRET, request.headers, request.query);
    if (result === 'ok' && expected !== undefined) return;
    options.metrics.countWebhook(options.source, 'unknown', 'rejected');
    await reply.code(401).send(errorReply(401, 'TOKEN_INVALID', 'missing or wrong webhook token'));
  };
}

/** undefined: no `location` parameter; null: present but not one plain value (refused). */
function locationOf(query: unknown): string | null | undefined {
  if (typeof query !== 'object' || query === null) return undefined;
  const value: unknown = Object.getOwnPropertyDescriptor(query, LOCATION_QUERY)?.value;
  if (value === undefined) return undefined;
  return typeof value === 'string' && value !== '' ? value : null;
}
