/**
 * The one place URLs that may carry a credential are redacted, for errors, dead letters, logs,
 * pages and alerts. Two kinds:
 * - a request URL of ours (`/webhooks/trustpilot?token=…`): only credential-like query values go;
 * - a URL the operator configured for us to call (OPINIONSTAGE_PUSH_URL, ALERT_WEBHOOK_URL): hooks
 *   of the Zapier, Make or Slack kind keep their credential in the path or the query, so everything
 *   after the origin goes, and its long parts are blanked out wherever an upstream echoes them.
 */

export const REDACTED = '[redacted]';

/** What a credential URL's path and query are shown as. */
export const REDACTED_PATH = `/${REDACTED}`;

/** Query parameters whose values are secrets when they appear in a logged URL. */
const SECRET_QUERY_PARAMS = /([?&](?:token|apikey|api_key|access_token|code|state)=)[^&#]*/gi;

/** A request URL with its credential-like query values blanked (`?token=[Redacted]`). */
export function redactUrl(url: string): string {
  return url.replace(SECRET_QUERY_PARAMS, '$1[Redacted]');
}

/** A configured URL as it may be shown: its origin, and `/[redacted]` for whatever follows. */
export function redactCredentialUrl(url: string | URL): string {
  try {
    const parsed = typeof url === 'string' ? new URL(url) : url;
    return `${parsed.origin}${redactCredentialPath(`${parsed.pathname}${parsed.search}`)}`;
  } catch {
    return REDACTED;
  }
}

/** A credential URL's path and query as shown: `/` stays `/`, anything else is `/[redacted]`. */
export function redactCredentialPath(pathAndQuery: string): string {
  return pathAndQuery === '' || pathAndQuery === '/' ? '/' : REDACTED_PATH;
}

/** Shorter parts are too common to blank out of text (`api`, `hooks`, `v1`) and too short to be a credential. */
const MIN_CREDENTIAL_PART = 8;

/**
 * The parts of a configured URL that may be a credential (path segments, query names and values,
 * user info), as written and decoded, so they can be blanked out of text an upstream echoes back.
 */
export function credentialParts(url: string | URL): string[] {
  let parsed: URL;
  try {
    parsed = typeof url === 'string' ? new URL(url) : url;
  } catch {
    return [];
  }
  const raw = [...parsed.pathname.split('/'), ...parsed.search.replace(/^\?/, '').split(/[&=]/), parsed.username, parsed.password];
  const parts = new Set<string>();
  for (const part of raw) {
    for (const form of [part, safeDecode(part)]) if (form.length >= MIN_CREDENTIAL_PART) parts.add(form);
  }
  // The whole path and query too, in case it is echoed in one piece.
  if (parsed.pathname.length + parsed.search.length >= MIN_CREDENTIAL_PART) parts.add(`${parsed.pathname}${parsed.search}`);
  // Longest first, so a part inside another does not leave the rest behind.
  return [...parts].sort((a, b) => b.length - a.length);
}

/** `text` with every one of `secrets` replaced by `[Redacted]`. */
export function blankOut(text: string, secrets: readonly string[]): string {
  let result = text;
  for (const secret of secrets) if (secret.length > 0) result = result.split(secret).join('[Redacted]');
  return result;
}

function safeDecode(part: string): string {
  try {
    return decodeURIComponent(part.replace(/\+/g, ' '));
  } catch {
    return part;
  }
}
