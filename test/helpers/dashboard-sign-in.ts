/**
 * Sign in to /dashboard as a browser does: the token posted with the sign-in form (never in a URL).
 */
import type { Page } from 'playwright-core';
import { request } from 'undici';

export interface SignInReply {
  status: number;
  /** `ghl_bridge_dashboard=<id>` for a `cookie` header, or '' when none was set. */
  cookie: string;
  /** Every Set-Cookie line, attributes included. */
  setCookie: string[];
}

export async function postSignIn(bridgeUrl: string, token: string, headers: Record<string, string> = {}): Promise<SignInReply> {
  const response = await request(`${bridgeUrl}/dashboard/login`, {
    method: 'POST',
    headers: { origin: new URL(bridgeUrl).origin, 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams({ token }).toString(),
  });
  await response.body.dump();
  const raw = response.headers['set-cookie'];
  const setCookie = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
  return { status: response.statusCode, cookie: setCookie[0]?.split(';')[0] ?? '', setCookie };
}

/** Fills and sends the sign-in form in a browser page (signing out first if a session is open). */
export async function signInPage(page: Page, bridgeUrl: string, token: string): Promise<void> {
  await page.goto(`${bridgeUrl}/dashboard`);
  if ((await page.getByRole('button', { name: 'Sign out' }).count()) > 0) await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByLabel('Admin or viewer token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('#role').waitFor();
}
