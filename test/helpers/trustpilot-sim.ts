/**
 * Talking to the Trustpilot simulator in its own tests: its default credentials, a small HTTP caller,
 * a password grant, and type-narrowing assertions for JSON answers.
 */
import assert from 'node:assert/strict';
import { request, type Dispatcher } from 'undici';

export const KEY = 'tp-sandbox-key';
export const SECRET = 'tp-sandbox-secret';
export const USER = 'owner@sandbox.test';
export const PASSWORD = 'sandbox-password';
export const OWN_BU = 'bu_sandbox_own';
export const TOKEN_PATH = '/v1/oauth/oauth-business-users-for-applications';

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: unknown;
}

export interface CallOptions {
  headers?: Record<string, string>;
  json?: unknown;
  form?: Record<string, string>;
  signal?: AbortSignal;
}

export async function call(baseUrl: string, method: Dispatcher.HttpMethod, path: string, options: CallOptions = {}): Promise<Answer> {
  const headers: Record<string, string> = { ...options.headers };
  let body: string | undefined;
  if (options.form !== undefined) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(options.form).toString();
  } else if (options.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(options.json);
  }
  const response = await request(`${baseUrl}${path}`, { method, headers, body, signal: options.signal });
  const text = await response.body.text();
  return { status: response.statusCode, headers: response.headers, text, json: text === '' ? undefined : JSON.parse(text) };
}

export function basic(key: string = KEY, secret: string = SECRET): Record<string, string> {
  return { authorization: `Basic ${Buffer.from(`${key}:${secret}`).toString('base64')}` };
}

export function obj(value: unknown, what = 'value'): Record<string, unknown> {
  assert.ok(value !== null && typeof value === 'object' && !Array.isArray(value), `${what} is not an object: ${JSON.stringify(value)}`);
  return { ...value };
}

export function arr(value: unknown, what = 'value'): unknown[] {
  assert.ok(Array.isArray(value), `${what} is not an array: ${JSON.stringify(value)}`);
  return value;
}

export function str(value: unknown, what = 'value'): string {
  assert.equal(typeof value, 'string', `${what} is not a string: ${JSON.stringify(value)}`);
  return String(value);
}

/** A password-grant token pair from the simulator. */
export async function passwordGrant(baseUrl: string): Promise<{ access: string; refresh: string; body: Record<string, unknown> }> {
  const answer = await call(baseUrl, 'POST', `${TOKEN_PATH}/accesstoken`, {
    headers: basic(),
    form: { grant_type: 'password', username: USER, password: PASSWORD },
  });
  assert.equal(answer.status, 200, answer.text);
  const body = obj(answer.json);
  return { access: str(body.access_token), refresh: str(body.refresh_token), body };
}
