/**
 * GHL's two OAuth token endpoints, as the token provider calls them: POST /oauth/token (authorization
 * code and refresh grants, with the app's client id and secret) and POST /oauth/locationToken (a
 * Location token minted from a Company token). Answers become the stored token shape.
 */
import { z } from 'zod';
import type { HttpTransport } from '../http/transport.js';
import type { StoredOAuthToken } from './oauth-token-store.js';

/** POST /oauth/token response (GHL's OAuth API, `apps/oauth.json`), the fields we keep. */
export const OAuthTokenResponseSchema = z.looseObject({
  access_token: z.string().min(1),
  token_type: z.string().optional(),
  expires_in: z.number(),
  refresh_token: z.string().min(1).optional(),
  scope: z.string().optional(),
  userType: z.enum(['Location', 'Company']).optional(),
  locationId: z.string().optional(),
  companyId: z.string().optional(),
  approvedLocations: z.array(z.string()).optional(),
});
export type OAuthTokenResponse = z.infer<typeof OAuthTokenResponseSchema>;

/** POST /oauth/locationToken response: no refresh token. */
export const LocationTokenResponseSchema = z.looseObject({
  access_token: z.string().min(1),
  expires_in: z.number(),
  scope: z.string().optional(),
  locationId: z.string().optional(),
});

const RefusalBodySchema = z.looseObject({ error: z.unknown().optional(), error_description: z.unknown().optional(), message: z.unknown().optional() });

export interface OAuthEndpointsOptions {
  transport: HttpTransport;
  clientId: string;
  clientSecret: string;
  /** API Version header for /oauth/locationToken. */
  version: string;
  now: () => number;
}

/** A 400/401 from /oauth/token is a refusal (a code or refresh token GHL will not take), not an error. */
export type TokenAnswer = { ok: true; res: OAuthTokenResponse } | { ok: false; refused: string };

export interface OAuthEndpoints {
  /** POST /oauth/token with the client credentials and `form` (the grant). */
  token(form: Record<string, string>): Promise<TokenAnswer>;
  /** POST /oauth/locationToken: a Location token for `locationId`, from the company's token. */
  mintLocationToken(companyToken: string, companyId: string, locationId: string): Promise<StoredOAuthToken>;
  /** The stored shape of a /oauth/token answer; what the answer leaves out is kept from `fallback`. */
  toStored(res: OAuthTokenResponse, fallback?: StoredOAuthToken): StoredOAuthToken;
}

export function createOAuthEndpoints(options: OAuthEndpointsOptions): OAuthEndpoints {
  const { transport, now } = options;

  return {
    async token(form) {
      const req = { method: 'POST' as const, path: '/oauth/token', form: { client_id: options.clientId, client_secret: options.clientSecret, ...form } };
      const response = await transport.send(req);
      if (response.status === 400 || response.status === 401) {
        const body = RefusalBodySchema.safeParse(response.body);
        const text = body.success ? [body.data.error, body.data.error_description ?? body.data.message].filter((v) => typeof v === 'string').join(': ') : '';
        return { ok: false, refused: `HTTP ${response.status}${text === '' ? '' : ` ${text}`}` };
      }
      return { ok: true, res: transport.readJson(req, response, OAuthTokenResponseSchema, { secrets: Object.values(form) }) };
    },

    async mintLocationToken(companyToken, companyId, locationId) {
      const res = await transport.json(
        {
          method: 'POST',
          path: '/oauth/locationToken',
          headers: { authorization: `Bearer ${companyToken}`, version: options.version },
          form: { companyId, locationId },
        },
        LocationTokenResponseSchema,
      );
      return {
        accessToken: res.access_token,
        expiresAt: now() + res.expires_in * 1000,
        userType: 'Location',
        companyId,
        ...(res.scope === undefined ? {} : { scope: res.scope }),
      };
    },

    toStored(res, fallback) {
      const companyId = res.companyId ?? fallback?.companyId;
      const scope = res.scope ?? fallback?.scope;
      return {
        accessToken: res.access_token,
        ...(res.refresh_token === undefined ? {} : { refreshToken: res.refresh_token }),
        expiresAt: now() + res.expires_in * 1000,
        userType: res.userType ?? fallback?.userType ?? 'Location',
        ...(companyId === undefined ? {} : { companyId }),
        ...(scope === undefined ? {} : { scope }),
      };
    },
  };
}
