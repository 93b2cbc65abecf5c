/** The HTML pieces every dashboard page is built of; every outside value goes through `escapeHtml`. */
const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (char) => ESCAPES[char] ?? char);
}

export const time = (ms: number | null | undefined) => (ms === null || ms === undefined ? '—' : new Date(ms).toISOString().replace('T', ' ').slice(0, 19));
export const shorten = (text: string, max = 300) => (text.length > max ? `${text.slice(0, max)}…` : text);

/** A table with a caption, column headers and (for an empty list) one row saying so. */
export function table(id: string, caption: string, headers: string[], rows: string[], empty: string): string {
  const head = headers.map((header) => `<th scope="col">${escapeHtml(header)}</th>`).join('');
  const body = rows.length > 0 ? rows.join('\n') : `<tr><td colspan="${headers.length}">${escapeHtml(empty)}</td></tr>`;
  return `<table id="${id}"><caption>${escapeHtml(caption)}</caption><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

export function section(id: string, title: string, content: string): string {
  return `<section aria-labelledby="${id}-heading"><h2 id="${id}-heading">${escapeHtml(title)}</h2>\n${content}\n</section>`;
}

export const cells = (values: unknown[]) => values.map((value) => `<td>${escapeHtml(value)}</td>`).join('');
export const row = (header: unknown, values: unknown[]) => `<tr><th scope="row">${escapeHtml(header)}</th>${cells(values)}</tr>`;

export const HEAD = (title: string, refreshSeconds: number) =>
  `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">` +
  `${refreshSeconds > 0 ? `<meta http-equiv="refresh" content="${refreshSeconds}">` : ''}` +
  `<title>${escapeHtml(title)}</title><link rel="stylesheet" href="/dashboard/style.css"></head>`;


/** The header of every signed-in page: who is signed in, the search box, sign-out. */
export function pageHeader(role: string, generatedAt: number, query = ''): string {
  return [
    '<header><h1><a href="/dashboard">ghl-bridge</a></h1>',
    `<p>Signed in as <strong id="role">${escapeHtml(role)}</strong> · generated ${time(generatedAt)} UTC</p>`,
    '<form method="get" action="/dashboard/search" role="search"><label for="q">Find a contact</label> ',
    `<input id="q" name="q" type="search" placeholder="email, phone, name or id" value="${escapeHtml(query)}" maxlength="200" required> <button type="submit">Search</button></form>`,
    '<form method="post" action="/dashboard/logout"><button type="submit">Sign out</button></form></header>',
  ].join('\n');
}

/** A one-line outcome of the last action. */
export function noticeLine(notice: { kind: 'ok' | 'error'; text: string } | undefined): string {
  return notice ? `<p role="status" class="notice ${notice.kind}">${escapeHtml(notice.text)}</p>` : '';
}

export const contactHref = (locationId: string, contactId: string) => `/dashboard/contacts/${encodeURIComponent(contactId)}?locationId=${encodeURIComponent(locationId)}`;
