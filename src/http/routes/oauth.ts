/**
 * Marketplace-app install: `/oauth/install` sends the installer to GHL's choose-location page with a
 * signed `state`; `/oauth/callback` checks that state, trades the code for the location's tokens
 * (stored encrypted) and from then on the bridge serves that location.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { UpstreamError } from '../../clients/http/upstream-error.js';
import { ErrorReplySchema, errorReply } from '../schemas/common.js';

/** GHL's choose-location page (DOCS-AUTH, `/v2/` since 2026-05-27). */
export const GHL_CHOOSE_LOCATION_URL = 'https://marketplace.gohighlevel.com/v2/oauth/chooselocation';
/** Least privilege: what the flows read and write. */
export const GHL_OAUTH_SCOPES = ['contacts.readonly', 'contacts.write', 'locations/customFields.readonly', 'locations/customFields.write'];
const STATE_MAX_AGE_MS = 15 * 60_000;

export interface OAuthRouteDeps {
  clientId: string;
  clientSecret: string;
  redirectUri: string | undefined;
  exchangeCode(code: string): Promise<{ locations: string[] }>;
  /** After an install: start serving the new locations (schedules, caches). */
  afterInstall(locations: string[]): Promise<void>;
  now?: () => number;
}

/** `<ms>.<nonce>.<hmac>`: proves the callback belongs to an install this bridge started, recently. */
export function signState(secret: string, now: number, nonce = randomBytes(12).toString('base64url')): string {
  const payload = `${now}.${nonce}`;
  return `${payload}.${createHmac('sha256', secret).update(payload).digest('base64url')}`;
}

export function verifyState(secret: string, state: string, now: number): boolean {
  const [issued, nonce, signature] = state.split('.');
  if (!issued || !nonce || !signature) return false;
  const expected = Buffer.from(createHmac('sha256', secret).update(`${issued}.${nonce}`).digest('base64url'));
  const given = Buffer.from(signature);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) return false;
  const age = now - Number(issued);
  return Number.isFinite(age) && age >= 0 && age <= STATE_MAX_AGE_MS;
}

const InstalledReplySchema = z.object({ status: z.literal('installed'), locations: z.array(z.string()) }).meta({ id: 'OAuthInstalled' });

export async function registerOAuthRoutes(app: FastifyInstance, options: { deps: OAuthRouteDeps }): Promise<void> {
  const { deps } = options;
  const now = deps.now ?? Date.now;
  const typed = app.withTypeProvider<ZodTypeProvider>();

  typed.get(
    '/oauth/install',
    {
      schema: {
        tags: ['oauth'],
        summary: "Starts a marketplace-app install: redirects to GHL's choose-location page with a signed state",
        response: { 302: z.null().describe('Redirect to GHL') },
      },
    },
    async (_request, reply) => {
      const url = new URL(GHL_CHOOSE_LOCATION_URL);
      url.searchParams.set('response_type', 'code');
      if (deps.redirectUri) url.searchParams.set('redirect_uri', deps.redirectUri);
      url.searchParams.set('client_id', deps.clientId);
      url.searchParams.set('scope', GHL_OAUTH_SCOPES.join(' '));
      url.searchParams.set('state', signState(deps.clientSecret, now()));
      return reply.code(302).header('location', url.toString()).header('cache-control', 'no-store').send(null);
    },
  );

  typed.get(
    '/oauth/callback',
    {
      schema: {
        tags: ['oauth'],
        summary: 'GHL sends the installer back here: the code is exchanged for the location tokens',
        description: 'Answers a short HTML page, or JSON when the request accepts application/json.',
        querystring: z.object({ code: z.string().min(1).max(2_048).optional(), state: z.string().max(512).optional() }),
        response: { 200: z.union([InstalledReplySchema, z.string().describe('A short HTML page, when JSON is not asked for')]), 400: ErrorReplySchema, 502: ErrorReplySchema },
      },
    },
    async (request, reply) => {
      const { code, state } = request.query;
      // Without a state of ours the request did not come from an install we started.
      if (!code || !state || !verifyState(deps.clientSecret, state, now())) {
        return reply.code(400).send(errorReply(400, 'OAUTH_STATE_INVALID', 'missing code, or a state that is not ours or has expired: start again at /oauth/install'));
      }
      let locations: string[];
      try {
        ({ locations } = await deps.exchangeCode(code));
      } catch (error) {
        if (!(error instanceof UpstreamError)) throw error;
        request.log.warn({ err: error.toJSON() }, 'oauth code exchange refused');
        return reply.code(502).send(errorReply(502, 'OAUTH_EXCHANGE_FAILED', `GHL refused the install (status ${error.status ?? error.code}); start again at /oauth/install`));
      }
      await deps.afterInstall(locations);
      request.log.info({ locations }, 'app installed');
      if ((request.headers.accept ?? '').includes('application/json')) return reply.code(200).send({ status: 'installed' as const, locations });
      const list = locations.map((id) => `<li><code>${id.replace(/[^A-Za-z0-9_:-]/g, '')}</code></li>`).join('');
      return reply
        .code(200)
        .type('text/html; charset=utf-8')
        .header('content-security-policy', "default-src 'none'")
        .serializer((payload: unknown) => String(payload))
        .send(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>ghl-bridge installed</title></head><body><h1>ghl-bridge is installed</h1><p>It now serves:</p><ul>${list}</ul></body></html>`);
    },
  );
}
