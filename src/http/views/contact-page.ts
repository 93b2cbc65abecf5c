/**
 * One contact as the bridge knows it (pure rendering, like dashboard-page.ts): its fields and tags as
 * GHL holds them now, the notes and tasks the bridge wrote (and the review or survey answer behind
 * each), every sync, its dead letters with what to do, and the admin's "sync now" / "plan a dry run".
 */
import type { DirectoryEntry, SyncEntry } from '../../state/contact-history.js';
import type { AdminRole } from '../plugins/admin-auth.js';
import type { DeadLetterRow } from './dashboard-page.js';
import { cells, contactHref, escapeHtml, HEAD, noticeLine, pageHeader, row, section, shorten, table, time } from './html.js';
import { adviceText, warningText } from '../../observability/troubleshooting.js';

export interface ContactNow {
  name?: string;
  email?: string;
  phone?: string;
  tags: string[];
  /** The mapped Trustpilot and Opinion Stage fields: mapping key → value in GHL. */
  fields: { key: string; value: unknown }[];
}

export interface BridgeNote {
  /** What the note is about, e.g. `trustpilot-review:<id>`. */
  sourceKey: string;
  noteId: string;
  /** The note's text in GHL now; undefined when it was not found there (deleted by a user). */
  body: string | undefined;
}

export interface BridgeTask {
  sourceKey: string;
  taskId: string;
  status: 'open' | 'completed' | 'deleted';
  dueDate: string;
}

export interface SyncResult {
  dryRun: boolean;
  status: number;
  outcome?: string;
  writes?: number;
  plan?: { kind: string; reason: string }[];
  error?: string;
}

export interface ContactPageView {
  role: AdminRole;
  generatedAt: number;
  locationId: string;
  contactId: string;
  notice?: { kind: 'ok' | 'error'; text: string };
  /** GHL's current contact, or why it could not be read. */
  contact: ContactNow | { error: string };
  ghlUrl: string;
  notes: BridgeNote[];
  tasks: BridgeTask[];
  syncs: SyncEntry[];
  deadLetters: DeadLetterRow[];
  result?: SyncResult;
}

const TASK_STATE: Record<BridgeTask['status'], string> = {
  open: 'open',
  completed: 'completed by a user',
  deleted: 'deleted by a user (left alone)',
};

const SOURCES: Record<string, string> = { 'tp-review': 'Trustpilot review', 'os-response': 'Opinion Stage answer' };

/** A ledger source key (`tp-review:<id>[:<rule>]`, `os-response:<id>[:<rule>]`) in words. */
export function describeSource(sourceKey: string): string {
  const [kind = '', id = '', rule] = sourceKey.split(':');
  return `${SOURCES[kind] ?? kind} ${id}${rule ? ` (rule ${rule})` : ''}`.trim();
}

function contactSection(view: ContactPageView): string {
  if ('error' in view.contact) return section('contact', 'In GHL now', `<p role="alert">GHL could not be read: ${escapeHtml(view.contact.error)}</p>`);
  const contact = view.contact;
  const facts = [
    row('Name', [contact.name ?? '—']),
    row('Email', [contact.email ?? '—']),
    row('Phone', [contact.phone ?? '—']),
    row('Location', [view.locationId]),
    `<tr><th scope="row">Tags</th><td id="contact-tags">${contact.tags.map((tag) => `<span class="tag">${escapeHtml(tag)}</span>`).join(' ') || '—'}</td></tr>`,
  ];
  const fields = contact.fields.map((field) => row(field.key, [field.value === undefined || field.value === null || field.value === '' ? '—' : Array.isArray(field.value) ? field.value.join(', ') : field.value]));
  return section(
    'contact',
    'In GHL now',
    `<p><a href="${escapeHtml(view.ghlUrl)}" rel="noreferrer" target="_blank">Open the contact in GHL</a></p>\n` +
      table('contact-facts', 'The contact', ['', 'Value'], facts, '') +
      table('contact-fields', 'Trustpilot and Opinion Stage fields as GHL holds them now', ['Field', 'Value'], fields, 'No mapped fields'),
  );
}

function notesSection(view: ContactPageView): string {
  const notes = view.notes.map((note) =>
    row(describeSource(note.sourceKey), [note.body === undefined ? 'not found in GHL (deleted by a user; left alone)' : 'in GHL', note.noteId, shorten(note.body ?? '', 600)]),
  );
  const tasks = view.tasks.map((task) => row(describeSource(task.sourceKey), [TASK_STATE[task.status], task.taskId, task.dueDate]));
  return section(
    'written',
    'What the bridge wrote',
    `<p>Notes and tasks open in GHL from <a href="${escapeHtml(view.ghlUrl)}" rel="noreferrer" target="_blank">the contact's page</a>.</p>\n` +
      table('notes', 'Notes the bridge wrote, and the review or answer behind each', ['About', 'State', 'Note id', 'Text'], notes, 'No notes written') +
      table('tasks', 'Tasks the bridge created', ['About', 'State', 'Task id', 'Due'], tasks, 'No tasks created'),
  );
}

/** A failed run's error, or a run's warnings, with what to do about them. */
function syncAdvice(sync: SyncEntry, locationId: string): string {
  if (sync.outcome === 'failed') return `${shorten(sync.reason ?? '')}: ${adviceText(sync.reason ?? '', locationId, sync.at + sync.durationMs)}`;
  const warnings = (sync.warnings ?? []).map((warning) => warningText(warning, locationId));
  return [sync.reason ?? '', ...new Set(warnings)].filter(Boolean).join(' ');
}

function timelineSection(view: ContactPageView): string {
  const rows = view.syncs.map((sync) =>
    `<tr class="sync ${sync.outcome}"><th scope="row">${time(sync.at)}</th>` +
    cells([
      sync.trigger ?? '—',
      `${sync.outcome}${sync.dryRun ? ' (dry run)' : ''}`,
      (sync.read ?? []).join(', '),
      (sync.wrote ?? []).join(', ') || 'nothing',
      sync.upstreamCalls,
      `${sync.durationMs} ms`,
      sync.latencyMs === undefined ? '—' : `${sync.latencyMs} ms`,
      syncAdvice(sync, view.locationId),
    ]) +
    '</tr>',
  );
  return section(
    'timeline',
    'Sync timeline',
    table('timeline', 'Every sync of this contact, newest first (the last 50, kept 30 days)', ['At (UTC)', 'Trigger', 'Outcome', 'Read', 'Wrote', 'GHL calls', 'Duration', 'Since the event', 'Reason / what to do'], rows, 'No sync recorded'),
  );
}

function deadLettersSection(view: ContactPageView): string {
  const admin = view.role === 'admin';
  const rows = view.deadLetters.map(
    (entry) =>
      `<tr><th scope="row">${escapeHtml(entry.id)}</th>${cells([entry.queue, time(entry.failedAt), shorten(entry.failedReason), adviceText(entry.failedReason, view.locationId, entry.failedAt)])}` +
      (admin ? `<td>${actionForm(view, 'replay', `Replay ${entry.id}`, { id: entry.id })}</td>` : '') +
      '</tr>',
  );
  return section('contact-dead-letters', 'Dead letters', table('contact-dead-letters', 'Dead letters of this contact', ['Dead letter', 'Queue', 'Failed at (UTC)', 'Error', 'What to do', ...(admin ? ['Action'] : [])], rows, 'No dead letters'));
}

function actionForm(view: ContactPageView, action: 'sync' | 'replay', label: string, fields: Record<string, string>): string {
  const hidden = Object.entries({ locationId: view.locationId, ...fields })
    .map(([name, value]) => `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`)
    .join('');
  return `<form method="post" action="/dashboard/contacts/${encodeURIComponent(view.contactId)}/${action}">${hidden}<button type="submit">${escapeHtml(label)}</button></form>`;
}

function resultSection(result: SyncResult): string {
  const title = result.dryRun ? 'Dry-run plan' : 'Sync result';
  if (result.error !== undefined) return section('result', title, `<p role="alert">${escapeHtml(`HTTP ${result.status}: ${result.error}`)} ${escapeHtml(adviceText(result.error))}</p>`);
  const summary = `<p id="result-summary">${escapeHtml(`${result.outcome ?? ''}: ${result.writes ?? 0} ${result.dryRun ? 'writes planned, none made' : 'writes made'}`)}</p>`;
  const plan = result.plan ? table('plan', 'What a sync would write now', ['Write', 'Why'], result.plan.map((step) => row(step.kind, [step.reason])), 'Nothing to write: the contact is up to date') : '';
  return section('result', title, `${summary}\n${plan}`);
}

export function renderContactPage(view: ContactPageView): string {
  const name = 'error' in view.contact ? view.contactId : (view.contact.name ?? view.contact.email ?? view.contactId);
  const actions =
    view.role === 'admin'
      ? `<div class="actions">${actionForm(view, 'sync', 'Sync now', { dryRun: 'false' })} ${actionForm(view, 'sync', 'Plan a dry run', { dryRun: 'true' })}</div>`
      : '';
  return [
    HEAD(`${name}: ghl-bridge`, 0),
    `<body>${pageHeader(view.role, view.generatedAt)}`,
    `<main><h2 id="contact-name">${escapeHtml(name)}</h2><p>Contact <code>${escapeHtml(view.contactId)}</code> in location <code>${escapeHtml(view.locationId)}</code> · <a href="${contactHref(view.locationId, view.contactId)}">reload</a></p>`,
    noticeLine(view.notice),
    actions,
    view.result ? resultSection(view.result) : '',
    contactSection(view),
    notesSection(view),
    timelineSection(view),
    deadLettersSection(view),
    '</main></body></html>',
  ].join('\n');
}

export interface SearchView {
  role: AdminRole;
  generatedAt: number;
  query: string;
  /** Found in the bridge's own sync records. */
  known: DirectoryEntry[];
  /** Found by one GHL search in one location (admin only), or why GHL was not searched. */
  ghl: { locationId: string; found: { contactId: string; name?: string; email?: string; phone?: string }[] } | { note: string };
  /** Served locations the admin may search GHL in instead (one call each, on request). */
  otherLocations: string[];
}

export function renderSearch(view: SearchView): string {
  const knownRows = view.known.map(
    (entry) => `<tr><th scope="row"><a href="${contactHref(entry.locationId, entry.contactId)}">${escapeHtml(entry.name ?? entry.email ?? entry.contactId)}</a></th>${cells([entry.email ?? '', entry.phone ?? '', entry.locationId, time(entry.lastSyncAt)])}</tr>`,
  );
  const found = 'found' in view.ghl ? view.ghl : undefined;
  const ghl = found
    ? table(
        'ghl-results',
        `Found in GHL, location ${found.locationId} (one search call)`,
        ['Contact', 'Email', 'Phone', 'Location'],
        found.found.map((entry) => `<tr><th scope="row"><a href="${contactHref(found.locationId, entry.contactId)}">${escapeHtml(entry.name ?? entry.email ?? entry.contactId)}</a></th>${cells([entry.email ?? '', entry.phone ?? '', found.locationId])}</tr>`),
        'No match in GHL',
      )
    : `<p id="ghl-note">${escapeHtml('note' in view.ghl ? view.ghl.note : '')}</p>`;
  const searchIn = (locationId: string) => `<a href="/dashboard/search?q=${encodeURIComponent(view.query)}&amp;locationId=${encodeURIComponent(locationId)}">${escapeHtml(locationId)}</a>`;
  const others = view.otherLocations.length > 0 ? `<p id="ghl-locations">Search GHL in location: ${view.otherLocations.map(searchIn).join(' · ')}</p>` : '';
  return [
    HEAD(`Search "${view.query}": ghl-bridge`, 0),
    `<body>${pageHeader(view.role, view.generatedAt, view.query)}`,
    `<main><h2>Contacts matching “${escapeHtml(view.query)}”</h2>`,
    table('known-results', 'Synced by the bridge (most recent first)', ['Contact', 'Email', 'Phone', 'Location', 'Last sync (UTC)'], knownRows, 'No contact the bridge synced matches'),
    ghl,
    others,
    '</main></body></html>',
  ].join('\n');
}
