/**
 * The dashboard's HTML, rendered on the server from a plain snapshot (pure: no I/O, no clock). Every
 * value that came from outside (contact ids, error texts, alert messages) goes through `escapeHtml`.
 * No script at all: the retry button is a plain form, so the page works under a CSP without scripts.
 */
import type { RecentAlert } from '../../state/alert-throttle.js';
import type { CircuitStatus, CircuitSystem } from '../../state/circuit-breaker.js';
import type { SyncRecord } from '../../state/contact-facts.js';
import type { PlannedWriteRecord } from '../../state/planned-writes.js';
import type { BudgetLimit } from '../../clients/http/rate-budget-types.js';
import type { AdminRole } from '../plugins/admin-auth.js';

export interface QueueRow {
  name: string;
  waiting: number;
  active: number;
  delayed: number;
  failed: number;
  /** Jobs completed in the last minute (of the newest completed jobs still kept). */
  completedLastMinute: number;
}

export interface FailedJobRow {
  queue: string;
  id: string;
  name: string;
  contactId: string | null;
  attemptsMade: number;
  failedReason: string;
  failedAt: number | null;
}

export interface DeadLetterRow {
  id: string;
  queue: string;
  jobId: string;
  name: string;
  failedReason: string;
  attemptsMade: number;
  failedAt: number;
}

export interface BudgetRow {
  locationId: string;
  window: number;
  day: number;
  blockedUntil?: number;
  limit: BudgetLimit;
}

export interface DashboardView {
  role: AdminRole;
  generatedAt: number;
  /** Seconds between automatic reloads; 0 turns them off. */
  refreshSeconds: number;
  /** A short outcome line from the last action (e.g. a retry). */
  notice?: { kind: 'ok' | 'error'; text: string };
  queues: QueueRow[];
  syncs: SyncRecord[];
  failed: FailedJobRow[];
  deadLetters: { total: number; entries: DeadLetterRow[] };
  budgets: BudgetRow[];
  circuits: { system: CircuitSystem; status: CircuitStatus }[];
  alerts: RecentAlert[];
  planned: PlannedWriteRecord[];
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (char) => ESCAPES[char] ?? char);
}

const time = (ms: number | null | undefined) => (ms === null || ms === undefined ? '—' : new Date(ms).toISOString().replace('T', ' ').slice(0, 19));
const shorten = (text: string, max = 300) => (text.length > max ? `${text.slice(0, max)}…` : text);

/** A table with a caption, column headers and (for an empty list) one row saying so. */
function table(id: string, caption: string, headers: string[], rows: string[], empty: string): string {
  const head = headers.map((header) => `<th scope="col">${escapeHtml(header)}</th>`).join('');
  const body = rows.length > 0 ? rows.join('\n') : `<tr><td colspan="${headers.length}">${escapeHtml(empty)}</td></tr>`;
  return `<table id="${id}"><caption>${escapeHtml(caption)}</caption><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

function section(id: string, title: string, content: string): string {
  return `<section aria-labelledby="${id}-heading"><h2 id="${id}-heading">${escapeHtml(title)}</h2>\n${content}\n</section>`;
}

const cells = (values: unknown[]) => values.map((value) => `<td>${escapeHtml(value)}</td>`).join('');
const row = (header: unknown, values: unknown[]) => `<tr><th scope="row">${escapeHtml(header)}</th>${cells(values)}</tr>`;

function queuesSection(queues: QueueRow[]): string {
  const rows = queues.map((queue) => row(queue.name, [queue.waiting, queue.active, queue.delayed, queue.failed, queue.completedLastMinute]));
  return section('queues', 'Queues', table('queues', 'Queue depths and jobs completed in the last minute', ['Queue', 'Waiting', 'Active', 'Delayed', 'Failed', 'Completed / min'], rows, 'No queues'));
}

function syncsSection(syncs: SyncRecord[]): string {
  const rows = syncs.map((sync) =>
    row(sync.contactId, [sync.locationId, time(sync.at), sync.outcome, sync.reason ?? '', (sync.read ?? []).join(', '), (sync.wrote ?? []).join(', '), sync.upstreamCalls, `${sync.durationMs} ms`]),
  );
  return section(
    'syncs',
    'Recent syncs',
    table('syncs', 'Recent contact syncs, newest first: what was read, what was written, GHL calls made', ['Contact', 'Location', 'At (UTC)', 'Outcome', 'Reason', 'Read', 'Wrote', 'API calls', 'Duration'], rows, 'No syncs yet'),
  );
}

function retryForm(job: FailedJobRow): string {
  const label = `Retry job ${job.id} of ${job.queue}`;
  return (
    `<form method="post" action="/dashboard/retry">` +
    `<input type="hidden" name="id" value="${escapeHtml(job.id)}"><input type="hidden" name="queue" value="${escapeHtml(job.queue)}">` +
    `<button type="submit" aria-label="${escapeHtml(label)}">Retry</button></form>`
  );
}

function failedSection(failed: FailedJobRow[], role: AdminRole): string {
  const admin = role === 'admin';
  const headers = ['Job', 'Queue', 'Name', 'Contact', 'Attempts', 'Failed at (UTC)', 'Error', ...(admin ? ['Action'] : [])];
  const rows = failed.map(
    (job) =>
      `<tr><th scope="row">${escapeHtml(job.id)}</th>${cells([job.queue, job.name, job.contactId ?? '', job.attemptsMade, time(job.failedAt), shorten(job.failedReason)])}` +
      `${admin ? `<td>${retryForm(job)}</td>` : ''}</tr>`,
  );
  return section('failures', 'Failures', table('failures', 'Failed jobs, newest first', headers, rows, 'No failed jobs'));
}

function deadLettersSection(deadLetters: DashboardView['deadLetters']): string {
  const rows = deadLetters.entries.map((entry) => row(entry.id, [entry.queue, entry.jobId, entry.name, entry.attemptsMade, time(entry.failedAt), shorten(entry.failedReason)]));
  const count = `<p>Dead letters waiting for a replay: <strong id="dead-letter-count">${deadLetters.total}</strong></p>`;
  return section(
    'dead-letters',
    'Dead letters',
    `${count}\n${table('dead-letters', 'Dead letters, newest first (replay with POST /admin/dead-letter/replay)', ['Dead letter', 'Queue', 'Job', 'Name', 'Attempts', 'Failed at (UTC)', 'Error'], rows, 'No dead letters')}`,
  );
}

function budgetsSection(budgets: BudgetRow[], now: number): string {
  const rows = budgets.map((budget) => {
    const blocked = budget.blockedUntil !== undefined && budget.blockedUntil > now ? `until ${time(budget.blockedUntil)}` : 'no';
    const windowLimit = `${budget.window} / ${budget.limit.max} per ${Math.round(budget.limit.windowMs / 100) / 10} s`;
    const dayLimit = budget.limit.daily === undefined ? String(budget.day) : `${budget.day} / ${budget.limit.daily}`;
    return row(budget.locationId, [windowLimit, dayLimit, blocked]);
  });
  return section('budgets', 'Rate budgets', table('budgets', 'GHL calls per location in the current window and today (UTC)', ['Location', 'Window', 'Day', 'Blocked'], rows, 'No location configured'));
}

function circuitsSection(circuits: DashboardView['circuits']): string {
  const rows = circuits.map((circuit) => row(circuit.system, [circuit.status.state, circuit.status.state === 'open' ? `${Math.ceil(circuit.status.retryAfterMs / 1000)} s` : '—']));
  return section('circuits', 'Circuits', table('circuits', 'Circuit breaker state per upstream', ['System', 'State', 'Next probe in'], rows, 'No upstream configured'));
}

function alertsSection(alerts: RecentAlert[]): string {
  const rows = alerts.map((entry) => row(time(entry.at), [entry.alert.kind, entry.alert.queue ?? entry.alert.system ?? '', entry.alert.contactId ?? '', entry.alert.count, entry.via, shorten(entry.alert.message)]));
  return section('alerts', 'Recent alerts', table('alerts', 'Alerts sent (or logged), newest first', ['At (UTC)', 'Kind', 'Queue or system', 'Contact', 'Count', 'Sent via', 'Message'], rows, 'No alerts'));
}

function plannedSection(planned: PlannedWriteRecord[]): string {
  const rows = planned.map((plan) => row(plan.contactId, [plan.locationId, plan.at, plan.system, `${plan.method} ${plan.path}`, plan.reason]));
  return section('planned', 'Dry-run plans', table('planned', 'Writes planned in dry run instead of made, newest first', ['Contact', 'Location', 'Planned at', 'System', 'Request', 'Reason'], rows, 'No planned writes'));
}

const HEAD = (title: string, refreshSeconds: number) =>
  `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">` +
  `${refreshSeconds > 0 ? `<meta http-equiv="refresh" content="${refreshSeconds}">` : ''}` +
  `<title>${escapeHtml(title)}</title><link rel="stylesheet" href="/dashboard/style.css"></head>`;

export function renderDashboard(view: DashboardView): string {
  const notice = view.notice ? `<p role="status" class="notice ${view.notice.kind}">${escapeHtml(view.notice.text)}</p>` : '';
  return [
    HEAD('ghl-bridge dashboard', view.refreshSeconds),
    '<body><header><h1>ghl-bridge</h1>',
    `<p>Signed in as <strong id="role">${view.role}</strong> · generated ${time(view.generatedAt)} UTC</p>`,
    '<form method="post" action="/dashboard/logout"><button type="submit">Sign out</button></form></header>',
    `<main>${notice}`,
    queuesSection(view.queues),
    failedSection(view.failed, view.role),
    deadLettersSection(view.deadLetters),
    syncsSection(view.syncs),
    budgetsSection(view.budgets, view.generatedAt),
    circuitsSection(view.circuits),
    alertsSection(view.alerts),
    plannedSection(view.planned),
    '</main></body></html>',
  ].join('\n');
}

export function renderLogin(message: string | undefined): string {
  return [
    HEAD('ghl-bridge dashboard: sign in', 0),
    '<body><main><h1>ghl-bridge dashboard</h1>',
    message ? `<p role="alert">${escapeHtml(message)}</p>` : '',
    '<form method="post" action="/dashboard/login"><label for="token">Admin or viewer token</label> ',
    '<input id="token" name="token" type="password" autocomplete="current-password" required> <button type="submit">Sign in</button></form>',
    '</main></body></html>',
  ].join('\n');
}

export function renderMessage(title: string, message: string): string {
  return `${HEAD(title, 0)}\n<body><main><h1>${escapeHtml(title)}</h1><p>${escapeHtml(message)}</p></main></body></html>`;
}

export const DASHBOARD_CSS = `body{font:14px/1.4 system-ui,sans-serif;margin:1rem;color:#111;background:#fff}
table{border-collapse:collapse;margin:.5rem 0 1.5rem;width:100%}
caption{text-align:left;font-weight:600;padding:.25rem 0}
th,td{border:1px solid #bbb;padding:.25rem .5rem;text-align:left;vertical-align:top}
thead th{background:#eee}
td{overflow-wrap:anywhere}
header{display:flex;gap:1rem;align-items:baseline;flex-wrap:wrap}
.notice{padding:.5rem;border:1px solid}
.notice.ok{background:#e8f5e9}
.notice.error{background:#fdecea}
button:focus,input:focus{outline:2px solid #0050b3;outline-offset:1px}
`;
