/**
 * POST /v1/oauth/oauth-business-users-for-applications/{accesstoken,refresh,revoke} (Trustpilot's
 * token endpoints): form-encoded bodies; the pipeline has already checked the Basic client
 * credentials. Grants: password (business user), client_credentials (no refresh token) and
 * refresh_token (rotates both tokens; the old refresh token is refused with 400 invalid_grant).
 * Tokens are issued to, and refreshed only for, the application whose credentials asked; the password
 * grant knows only that application's business users.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { tpErrors } from './errors.js';
import { clientKeyOf } from './request-pipeline.js';
import type { TokenRegistry, TokenResponse } from './tokens.js';

export const TOKEN_BASE_PATH = '/v1/oauth/oauth-business-users-for-applications';

export interface OAuthRouteDeps {
  /** The business users of the application with this API key. */
  usersOf(apiKey: string): readonly { username: string; password: string }[];
  tokens: TokenRegistry;
}

const FormSchema = z.record(z.string(), z.string());

function formOf(request: FastifyRequest): Record<string, string> {
  const type = request.headers['content-type'] ?? '';
  if (!type.toLowerCase().startsWith('application/x-www-form-urlencoded')) throw tpErrors.unsupportedMediaType();
  const parsed = FormSchema.safeParse(request.body ?? {});
  if (!parsed.success) throw tpErrors.invalidRequest('Malformed form body');
  return parsed.data;
}

export function registerOAuthRoutes(app: FastifyInstance, deps: OAuthRouteDeps): void {
  // The pipeline has admitted the Basic credentials, so the client key is known here.
  const clientOf = (request: FastifyRequest): string => {
    const key = clientKeyOf(request);
    if (key === undefined) throw tpErrors.invalidClient();
    return key;
  };

  const refresh = (apiKey: string, form: Record<string, string>): TokenResponse => {
    const token = form.refresh_token;
    if (token === undefined || token === '') throw tpErrors.invalidRequest('refresh_token is required');
    const pair = deps.tokens.refresh(apiKey, token);
    if (!pair) throw tpErrors.invalidRefreshToken();
    return pair;
  };

  app.post(`${TOKEN_BASE_PATH}/accesstoken`, async (request) => {
    const form = formOf(request);
    const apiKey = clientOf(request);
    switch (form.grant_type) {
      case 'password': {
        const { username, password } = form;
        if (username === undefined || password === undefined) throw tpErrors.invalidRequest('username and password are required');
        const user = deps.usersOf(apiKey).find((candidate) => candidate.username.toLowerCase() === username.toLowerCase());
        if (!user || user.password !== password) throw tpErrors.wrongPassword();
        return deps.tokens.issue(apiKey, { refreshable: true });
      }
      case 'client_credentials':
        return deps.tokens.issue(apiKey, { refreshable: false });
      case 'refresh_token':
        return refresh(apiKey, form);
      case undefined:
        throw tpErrors.invalidRequest('grant_type is required');
      default:
        throw tpErrors.unsupportedGrantType();
    }
  });

  app.post(`${TOKEN_BASE_PATH}/refresh`, async (request) => {
    const form = formOf(request);
    if (form.grant_type !== undefined && form.grant_type !== 'refresh_token') throw tpErrors.unsupportedGrantType();
    return refresh(clientOf(request), form);
  });

  app.post(`${TOKEN_BASE_PATH}/revoke`, async (request, reply) => {
    const form = formOf(request);
    if (form.token === undefined || form.token === '') throw tpErrors.invalidRequest('token is required');
    deps.tokens.revoke(form.token);
    return reply.code(200).send();
  });
}
