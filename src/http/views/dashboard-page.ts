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
import { flowCharts, renderChart } from './charts.js';
import { cells, contactHref, escapeHtml, HEAD, noticeLine, pageHeader, row, section, shorten, table, time } from './html.js';
import { adviceText } from '../../observability/troubleshooting.js';
import type { SeriesPoint, SeriesRange } from '../../state/flow-series.js';

export { escapeHtml } from './html.js';

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
  /** The flow over the last hour or day, for the charts. */
  charts?: { range: SeriesRange; points: SeriesPoint[]; deadLetters: number };
  /** One row per served location. */
  locations?: LocationRow[];
}

export interface LocationRow {
  locationId: string;
  /** The connections the location uses: GHL, then Trustpilot and Opinion Stage, its own or the environment's. */
  connections: string[];
  budget: BudgetRow | undefined;
  lastSync: SyncRecord | undefined;
  /** Failed syncs among the recent ones. */
  failures: number;
}

function chartsSection(charts: NonNullable<DashboardView['charts']>): string {
  const other = charts.range === 'hour' ? { range: 'day', label: 'last day' } : { range: 'hour', label: 'last hour' };
  return section(
    'charts',
    `Flow over the ${charts.range === 'hour' ? 'last hour' : 'last day'}`,
    `<p><a href="/dashboard?range=${other.range}">Show the ${other.label}</a> · dead letters waiting now: <strong>${charts.deadLetters}</strong></p>\n` +
      `<div class="charts">${flowCharts(charts.points, charts.range).map(renderChart).join('\n')}</div>`,
  );
}

function locationsSection(locations: LocationRow[], now: number, role: AdminRole): string {
  const rows = locations.map((location) => {
    const budget = location.budget;
    const use = budget ? `${budget.window} / ${budget.limit.max} now; ${budget.day}${budget.limit.daily === undefined ? '' : ` / ${budget.limit.daily}`} today` : '—';
    const blocked = budget?.blockedUntil !== undefined && budget.blockedUntil > now ? ` (spent until ${time(budget.blockedUntil)})` : '';
    const last = location.lastSync ? `${time(location.lastSync.at)} ${location.lastSync.outcome}` : 'none recently';
    return row(location.locationId, [location.connections.join(', '), `${use}${blocked}`, last, location.failures]);
  });
  const connect = role === 'admin' ? '<p><a href="/dashboard/connections">Connect or disconnect a location\'s own Trustpilot or Opinion Stage</a></p>\n' : '';
  return section(
    'locations',
    'Locations',
    `${connect}${table('locations', 'Served locations: connections, GHL budget use, last sync, failed syncs among the recent ones', ['Location', 'Connections', 'GHL budget', 'Last sync', 'Failures'], rows, 'No location served')}`,
  );
}

function queuesSection(queues: QueueRow[]): string {
  const rows = queues.map((queue) => row(queue.name, [queue.waiting, queue.active, queue.delayed, queue.failed, queue.completedLastMinute]));
  return section('queues', 'Queues', table('queues', 'Queue depths and jobs completed in the last minute', ['Queue', 'Waiting', 'Active', 'Delayed', 'Failed', 'Completed / min'], rows, 'No queues'));
}

/** A row headed by a link to the contact's page, named by the contact's name or email when known (then the id below). */
function linkedRow(locationId: string, contactId: string, values: unknown[], label?: string): string {
  const link = `<a href="${contactHref(locationId, contactId)}">${escapeHtml(label ?? contactId)}</a>`;
  return `<tr><th scope="row">${label === undefined ? link : `${link}<br><small>${escapeHtml(contactId)}</small>`}</th>${cells(values)}</tr>`;
}

function syncsSection(syncs: SyncRecord[]): string {
  const rows = syncs.map((sync) =>
    linkedRow(sync.locationId, sync.contactId, [sync.locationId, time(sync.at), sync.outcome, sync.reason ?? '', (sync.read ?? []).join(', '), (sync.wrote ?? []).join(', '), sync.upstreamCalls, `${sync.durationMs} ms`], sync.contact?.name ?? sync.contact?.email),
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
  const headers = ['Job', 'Queue', 'Name', 'Contact', 'Attempts', 'Failed at (UTC)', 'Error', 'What to do', ...(admin ? ['Action'] : [])];
  const rows = failed.map(
    (job) =>
      `<tr><th scope="row">${escapeHtml(job.id)}</th>${cells([job.queue, job.name, job.contactId ?? '', job.attemptsMade, time(job.failedAt), shorten(job.failedReason), adviceText(job.failedReason, '', job.failedAt ?? undefined)])}` +
      `${admin ? `<td>${retryForm(job)}</td>` : ''}</tr>`,
  );
  return section('failures', 'Failures', table('failures', 'Failed jobs, newest first', headers, rows, 'No failed jobs'));
}

function deadLettersSection(deadLetters: DashboardView['deadLetters']): string {
  const rows = deadLetters.entries.map((entry) => row(entry.id, [entry.queue, entry.jobId, entry.name, entry.attemptsMade, time(entry.failedAt), shorten(entry.failedReason), adviceText(entry.failedReason, '', entry.failedAt)]));
  const count = `<p>Dead letters waiting for a replay: <strong id="dead-letter-count">${deadLetters.total}</strong></p>`;
  return section(
    'dead-letters',
    'Dead letters',
    `${count}\n${table('dead-letters', 'Dead letters, newest first (replay with POST /admin/dead-letter/replay)', ['Dead letter', 'Queue', 'Job', 'Name', 'Attempts', 'Failed at (UTC)', 'Error', 'What to do'], rows, 'No dead letters')}`,
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

export function renderDashboard(view: DashboardView): string {
  return [
    HEAD('ghl-bridge dashboard', view.refreshSeconds),
    `<body>${pageHeader(view.role, view.generatedAt)}`,
    `<main>${noticeLine(view.notice)}`,
    view.charts ? chartsSection(view.charts) : '',
    view.locations ? locationsSection(view.locations, view.generatedAt, view.role) : '',
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
header form[role=search]{flex:1}
.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(420px,1fr));gap:1rem}
figure.chart{margin:0;border:1px solid #ddd;padding:.5rem}
figure.chart > svg{width:100%;height:auto}
.legend svg{vertical-align:middle}
figcaption{font-weight:600}
.legend{list-style:none;display:flex;gap:1rem;padding:0;margin:.25rem 0 0}
.tag{display:inline-block;border:1px solid #999;border-radius:.75rem;padding:0 .5rem;margin:0 .25rem .25rem 0}
.actions{display:flex;gap:.5rem;margin:.5rem 0}
tr.sync.failed{background:#fdecea}
`;
