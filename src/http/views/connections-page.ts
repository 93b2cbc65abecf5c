/**
 * The dashboard's connections page (admin only, pure: no I/O, no clock): each served location's own
 * Trustpilot and Opinion Stage connection, masked, with a disconnect button, and the two forms that
 * connect one. Secrets are typed into password fields and never shown again (nothing is pre-filled).
 */
import type { MaskedOpinionStageConnection, MaskedTrustpilotConnection } from '../../state/location-connections.js';
import { escapeHtml, HEAD, noticeLine, pageHeader, section, table } from './html.js';

export interface ConnectionRow {
  locationId: string;
  trustpilot: MaskedTrustpilotConnection | null;
  opinionstage: MaskedOpinionStageConnection | null;
}

export interface ConnectionsView {
  generatedAt: number;
  notice?: { kind: 'ok' | 'error'; text: string };
  /** False without ENCRYPTION_KEY: connections cannot be stored, so no form is offered. */
  editable: boolean;
  locations: ConnectionRow[];
  /** The location the forms start with (from `?locationId=`). */
  locationId?: string;
}

const KIND_LABEL = { trustpilot: 'Trustpilot', opinionstage: 'Opinion Stage' } as const;

function disconnectForm(locationId: string, kind: keyof typeof KIND_LABEL): string {
  const label = `Disconnect location ${locationId} from its own ${KIND_LABEL[kind]}`;
  return (
    '<form method="post" action="/dashboard/connections/remove">' +
    `<input type="hidden" name="locationId" value="${escapeHtml(locationId)}"><input type="hidden" name="kind" value="${kind}">` +
    `<button type="submit" aria-label="${escapeHtml(label)}">Disconnect ${KIND_LABEL[kind]}</button></form>`
  );
}

function trustpilotCell(row: ConnectionRow): string {
  const own = row.trustpilot;
  if (!own) return "the environment's settings";
  const webhook = `/webhooks/trustpilot?location=${encodeURIComponent(row.locationId)}`;
  return escapeHtml(`own unit ${own.businessUnitId}, user ${own.username}, API key ${own.apiKey}; webhook ${webhook}`);
}

function opinionStageCell(row: ConnectionRow): string {
  const own = row.opinionstage;
  if (!own) return "the environment's settings";
  const webhook = `/webhooks/opinionstage?location=${encodeURIComponent(row.locationId)}`;
  return escapeHtml(`own account, API key ${own.apiKey}, items ${own.itemIds.join(', ')}; webhook ${webhook}`);
}

function connectionsTable(rows: ConnectionRow[], editable: boolean): string {
  const body = rows.map((row) => {
    const actions = (['trustpilot', 'opinionstage'] as const).filter((kind) => row[kind] !== null).map((kind) => disconnectForm(row.locationId, kind));
    return `<tr><th scope="row">${escapeHtml(row.locationId)}</th><td>${trustpilotCell(row)}</td><td>${opinionStageCell(row)}</td>${editable ? `<td>${actions.join('')}</td>` : ''}</tr>`;
  });
  const headers = ['Location', 'Trustpilot', 'Opinion Stage', ...(editable ? ['Action'] : [])];
  return table('connections', "Each served location's own connections, secrets masked (without one, the environment's settings apply)", headers, body, 'No location served');
}

/** One labelled input; ids are prefixed by the form so both forms can sit on one page. */
function input(form: string, name: string, label: string, attributes: string): string {
  const id = `${form}-${name}`;
  return `<p><label for="${id}">${escapeHtml(label)}</label> <input id="${id}" name="${name}" ${attributes}></p>`;
}

function locationInput(form: string, locationId: string | undefined): string {
  const value = locationId === undefined ? '' : ` value="${escapeHtml(locationId)}"`;
  return input(form, 'locationId', 'Location id', `list="served-locations" required maxlength="128" pattern="[A-Za-z0-9_-]+" autocomplete="off"${value}`);
}

const SECRET = 'type="password" autocomplete="new-password" required maxlength="256"';

function connectForms(view: ConnectionsView): string {
  const options = view.locations.map((row) => `<option value="${escapeHtml(row.locationId)}"></option>`).join('');
  const trustpilot = [
    '<form method="post" action="/dashboard/connections/trustpilot"><fieldset><legend>Connect a location to its own Trustpilot business unit</legend>',
    locationInput('tp', view.locationId),
    input('tp', 'businessUnitId', 'Business unit id', 'required maxlength="128" autocomplete="off"'),
    input('tp', 'apiKey', 'API key', SECRET),
    input('tp', 'apiSecret', 'API secret', SECRET),
    input('tp', 'username', 'Business user (email)', 'required maxlength="256" autocomplete="off"'),
    input('tp', 'password', 'Business user password', SECRET),
    input('tp', 'webhookSecret', 'Webhook secret (optional, 16 characters or more; without it the API secret authenticates its webhook URL)', 'type="password" autocomplete="new-password" minlength="16" maxlength="256"'),
    '<button type="submit">Connect Trustpilot</button></fieldset></form>',
  ];
  const opinionStage = [
    '<form method="post" action="/dashboard/connections/opinionstage"><fieldset><legend>Connect a location to its own Opinion Stage account</legend>',
    locationInput('os', view.locationId),
    input('os', 'apiKey', 'API key', SECRET),
    input('os', 'itemIds', 'Item ids (comma-separated): their responses go to this location', 'required maxlength="2000" autocomplete="off"'),
    input('os', 'webhookSecret', 'Webhook secret (16 characters or more)', `${SECRET} minlength="16"`),
    '<button type="submit">Connect Opinion Stage</button></fieldset></form>',
  ];
  return (
    `<datalist id="served-locations">${options}</datalist>\n` +
    '<p>A new connection replaces the location\'s previous one. Secrets are stored encrypted and never shown again. Nothing is checked with Trustpilot or Opinion Stage now: wrong credentials show at the first call (a failed job and one alert) and in <code>ghl-bridge doctor</code>.</p>\n' +
    `${trustpilot.join('\n')}\n${opinionStage.join('\n')}`
  );
}

export function renderConnectionsPage(view: ConnectionsView): string {
  const forms = view.editable
    ? connectForms(view)
    : '<p>Set <code>ENCRYPTION_KEY</code> to connect a location to its own Trustpilot or Opinion Stage: connections are stored encrypted with it.</p>';
  return [
    HEAD('ghl-bridge dashboard: connections', 0),
    `<body>${pageHeader('admin', view.generatedAt)}`,
    `<main>${noticeLine(view.notice)}`,
    '<p><a href="/dashboard">Back to the dashboard</a></p>',
    section('location-connections', 'Location connections', connectionsTable(view.locations, view.editable)),
    section('connect', 'Connect a location', forms),
    '</main></body></html>',
  ].join('\n');
}
