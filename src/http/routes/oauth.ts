/**
 * Marketplace-app install: `/oauth/install` sends the installer to GHL's choose-location page with a
 * signed `state` and the app's `version_id`; `/oauth/callback` checks that state, trades the code for
 * the location's tokens (stored encrypted) and from then on the bridge serves that location.
 *
 * An install started from GHL's marketplace comes back without our state. It is accepted only when
 * an allowlist of companies is configured and names the installing company: without a state nothing
 * else proves the callback is an install someone meant for this bridge. With an allowlist, every
 * install (state or not) from another company is refused before anything is stored.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyBaseLogger, FastifyInstance, FastifyReply } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { GhlClientError } from '../../clients/ghl/ghl-client-error.js';
import { UpstreamError } from '../../clients/http/upstream-error.js';
import { ErrorReplySchema, errorReply, type ErrorReply } from '../schemas/common.js';
import { escapeHtml } from '../views/dashboard-page.js';

/** GHL's choose-location page (GHL's OAuth authorization guide; `/v2/` since 2026-05-27), on the marketplace host. */
export const GHL_CHOOSE_LOCATION_PATH = '/v2/oauth/chooselocation';
export const GHL_CHOOSE_LOCATION_URL = `https://marketplace.gohighlevel.com${GHL_CHOOSE_LOCATION_PATH}`;
/**
 * Least privilege: what the flows read and write, plus `oauth.write` (POST /oauth/locationToken: an
 * agency install's company token minted into location tokens) and `oauth.readonly` (listing the
 * locations an agency install reaches).
 */
export const GHL_OAUTH_SCOPES = [
  'contacts.readonly',
  'contacts.write',
  'locations/customFields.readonly',
  'locations/customFields.write',
  'oauth.readonly',
  'oauth.write',
];
const STATE_MAX_AGE_MS = 15 * 60_000;

export interface OAuthRouteDeps {
  clientId: string;
  clientSecret: string;
  redirectUri: string | undefined;
  /** The host of GHL's install page (white-labeled installs use another); default marketplace.gohighlevel.com. */
  marketplaceUrl?: string;
  /** The app version's id, sent as `version_id`: GHL refuses the install page without it. */
  versionId?: string | undefined;
  /** Companies allowed to install; empty: any company, and only installs started at /oauth/install. */
  allowedCompanyIds?: string[];
  /** Trades the code; `allowCompany` is asked before anything is stored (false: nothing is). */
  exchangeCode(code: string, allowCompany: (companyId: string | undefined) => boolean): Promise<{ locations: string[] }>;
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
const HtmlPageSchema = z.string().describe('A short HTML page, when JSON is not asked for');

type Outcome = { ok: true; locations: string[] } | { ok: false; status: 400 | 502; reply: ErrorReply };

const refusal = (status: 400 | 502, code: string, message: string): Outcome => ({ ok: false, status, reply: errorReply(status, code, message) });

export async function registerOAuthRoutes(app: FastifyInstance, options: { deps: OAuthRouteDeps }): Promise<void> {
  const { deps } = options;
  const now = deps.now ?? Date.now;
  const oauth: OAuth = { deps, allowed: new Set(deps.allowedCompanyIds ?? []), now };
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
    async (_request, reply) => reply.code(302).header('location', installUrl(deps, now())).header('cache-control', 'no-store').send(null),
  );

  typed.get(
    '/oauth/callback',
    {
      schema: {
        tags: ['oauth'],
        summary: 'GHL sends the installer back here: the code is exchanged for the location tokens',
        description:
          'Answers a short HTML page, or JSON when the request accepts application/json. Without a state of ours (an install started from the GHL marketplace) the install is accepted only from a company in GHL_ALLOWED_COMPANY_IDS.',
        querystring: z.object({
          code: z.string().min(1).max(2_048).optional(),
          state: z.string().max(512).optional(),
          // OAuth 2.0's error redirect (RFC 6749 4.1.2.1): the installer declined, or GHL refused.
          error: z.string().max(200).optional(),
        }),
        response: {
          200: z.union([InstalledReplySchema, HtmlPageSchema]),
          400: z.union([ErrorReplySchema, HtmlPageSchema]),
          502: z.union([ErrorReplySchema, HtmlPageSchema]),
        },
      },
    },
    async (request, reply) => {
      const outcome = request.query.error === undefined ? await install(oauth, request.query.code, request.query.state, request.log) : declined(request.query.error);
      const json = (request.headers.accept ?? '').includes('application/json');
      if (!outcome.ok) {
        if (json) return reply.code(outcome.status).send(outcome.reply);
        return sendPage(reply.code(outcome.status), 'ghl-bridge was not installed', `<p>${escapeHtml(outcome.reply.message)}</p>`);
      }
      await deps.afterInstall(outcome.locations);
      request.log.info({ locations: outcome.locations }, 'app installed');
      if (json) return reply.code(200).send({ status: 'installed' as const, locations: outcome.locations });
      const list = outcome.locations.map((id) => `<li><code>${id.replace(/[^A-Za-z0-9_:-]/g, '')}</code></li>`).join('');
      return sendPage(reply.code(200), 'ghl-bridge is installed', `<p>It now serves:</p><ul>${list}</ul>`);
    },
  );
}

interface OAuth {
  deps: OAuthRouteDeps;
  allowed: Set<string>;
  now: () => number;
}

/** GHL's choose-location page for this app, with a freshly signed state. */
function installUrl(deps: OAuthRouteDeps, now: number): string {
  const url = new URL(deps.marketplaceUrl === undefined ? GHL_CHOOSE_LOCATION_URL : new URL(GHL_CHOOSE_LOCATION_PATH, deps.marketplaceUrl).toString());
  url.searchParams.set('response_type', 'code');
  if (deps.redirectUri) url.searchParams.set('redirect_uri', deps.redirectUri);
  url.searchParams.set('client_id', deps.clientId);
  if (deps.versionId) url.searchParams.set('version_id', deps.versionId);
  url.searchParams.set('scope', GHL_OAUTH_SCOPES.join(' '));
  url.searchParams.set('state', signState(deps.clientSecret, now));
  return url.toString();
}

/** GHL sent the installer back with an OAuth error instead of a code: nothing to exchange. */
function declined(error: string): Outcome {
  const reason = error.replace(/[^\w.-]/g, '').slice(0, 60) || 'unknown';
  return refusal(400, 'OAUTH_DECLINED', `the install was not authorised (${reason}); nothing was stored: start again at /oauth/install`);
}

/** Checks the callback, trades the code, and says what to answer; never throws for GHL's refusals. */
async function install(oauth: OAuth, code: string | undefined, state: string | undefined, log: FastifyBaseLogger): Promise<Outcome> {
  const { deps, allowed, now } = oauth;
  if (!code) return refusal(400, 'OAUTH_CODE_MISSING', 'missing code: start again at /oauth/install');
  if (!state) {
    if (allowed.size === 0) return refusal(400, 'OAUTH_STATE_INVALID', 'an install without a state of ours is accepted only from a company in GHL_ALLOWED_COMPANY_IDS: start again at /oauth/install');
  } else if (!verifyState(deps.clientSecret, state, now())) {
    return refusal(400, 'OAUTH_STATE_INVALID', 'a state that is not ours or has expired: start again at /oauth/install');
  }
  const allowCompany = (companyId: string | undefined) => allowed.size === 0 || (companyId !== undefined && allowed.has(companyId));
  try {
    const { locations } = await deps.exchangeCode(code, allowCompany);
    return { ok: true, locations };
  } catch (error) {
    if (error instanceof GhlClientError && error.code === 'GHL_INSTALL_NOT_ALLOWED') {
      log.warn({ reason: error.message }, 'oauth install from a company not allowed');
      return refusal(400, 'OAUTH_COMPANY_NOT_ALLOWED', 'this company is not allowed to install this app; nothing was stored');
    }
    if ((error instanceof GhlClientError && error.code === 'GHL_INSTALL_REFUSED') || (error instanceof UpstreamError && error.status !== undefined && error.status < 500 && error.status !== 429)) {
      log.warn({ err: error instanceof UpstreamError ? error.toJSON() : { message: error.message } }, 'oauth code exchange refused');
      return refusal(400, 'OAUTH_CODE_REFUSED', 'GHL refused the install (an unknown, used or expired code, or a refused scope): start again at /oauth/install');
    }
    // GHL unreachable, failing, or answering what we cannot use: not the installer's fault.
    if (!(error instanceof UpstreamError || error instanceof GhlClientError)) throw error;
    log.warn({ err: error instanceof UpstreamError ? error.toJSON() : { code: error.code, message: error.message } }, 'oauth code exchange failed');
    const why = error instanceof UpstreamError ? (error.status ?? error.code) : error.code;
    return refusal(502, 'OAUTH_EXCHANGE_FAILED', `GHL did not complete the install (${why}); start again at /oauth/install`);
  }
}

function sendPage(reply: FastifyReply, title: string, body: string): FastifyReply {
  return reply
    .type('text/html; charset=utf-8')
    .header('content-security-policy', "default-src 'none'")
    .serializer((payload: unknown) => String(payload))
    .send(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title></head><body><h1>${title}</h1>${body}</body></html>`);
}
