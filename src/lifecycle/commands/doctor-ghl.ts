/**
 * The doctor's GHL checks: the private token, its read scopes and the mapped custom fields; in
 * marketplace-app mode, the installed locations that need reconnecting. Problems the dashboard also
 * explains (a missing field, a location to reconnect, a spent budget) use its sentences
 * (observability/troubleshooting.ts).
 */
import type { RedisClient } from '../../state/keys.js';
import type { GhlCallBudget } from '../../clients/ghl/ghl-client.js';
import type { CustomFieldDefinition } from '../../clients/ghl/schemas.js';
import { createStaticTokenProvider } from '../../clients/ghl/token-provider.js';
import { RateBudgetExceededError } from '../../clients/http/rate-budget-types.js';
import { UpstreamError } from '../../clients/http/upstream-error.js';
import type { Config } from '../../config/env.js';
import { mappedFieldKeys, type Mapping } from '../../config/mapping.js';
import { missingFieldsAdvice, reconnectAdvice } from '../../observability/troubleshooting.js';
import { createOAuthTokenStore } from '../../state/oauth-token-store.js';
import type { Resources } from '../wiring/resources.js';
import { ghlClientFrom } from '../wiring/upstreams.js';
import { budgetFailure, CHECK_TIMEOUT_MS, describe, fail, ok, ProbeTimeoutError, skip, withTimeout, type CheckResult, type Report } from './doctor-checks.js';

/** The scopes the bridge needs; the write scopes cannot be probed without writing. */
const NEEDED_SCOPES = 'contacts.readonly, contacts.write, locations/customFields.readonly, locations/customFields.write';

type Outcome<T> = { ok: true; value: T } | { ok: false; problem: GhlProblem };
type GhlProblem = { kind: 'invalid-token' | 'scope' | 'location' | 'unreachable' | 'budget' | 'other'; text: string; error?: unknown };

export async function checkGhl(config: Config, mapping: Mapping | undefined, budget: GhlCallBudget | undefined, resources: Resources, report: Report): Promise<void> {
  const names = ['ghl token', 'ghl scopes', 'mapped custom fields'] as const;
  if (!config.GHL_PRIVATE_TOKEN || !config.GHL_LOCATION_ID) {
    const reason = config.GHL_CLIENT_ID ? 'OAuth mode: each location is checked when it installs the app' : 'not configured: sandbox mode';
    for (const name of names) report(name, skip(reason));
    return;
  }
  const locationId = config.GHL_LOCATION_ID;
  const ghl = ghlClientFrom(config, {
    timeoutMs: Math.min(config.UPSTREAM_TIMEOUT, CHECK_TIMEOUT_MS),
    tokens: createStaticTokenProvider(locationId, config.GHL_PRIVATE_TOKEN),
    ...(budget ? { budget } : {}),
  });
  resources.add('ghl-client', () => ghl.close());

  const fields = await ghlProbe(() => ghl.listCustomFields(locationId, 'contact'));
  const contacts = await ghlProbe(() => ghl.listContacts(locationId, { limit: 1 }));
  const problems = [fields, contacts].flatMap((outcome) => (outcome.ok ? [] : [outcome.problem]));

  // The token: GHL accepted it unless a probe says otherwise for a reason other than a scope.
  const blocking = problems.find((problem) => problem.kind === 'invalid-token') ?? problems.find((problem) => problem.kind === 'location') ?? problems.find((problem) => problem.kind !== 'scope');
  if (blocking === undefined) {
    report('ghl token', ok(`accepted by GHL for location ${locationId}`));
  } else if (blocking.kind === 'invalid-token') {
    const advice = reconnectAdvice(locationId);
    report(
      'ghl token',
      fail(
        `GHL rejected GHL_PRIVATE_TOKEN: token invalid or expired (${blocking.text}). ${advice.what}`,
        `${advice.todo} A private integration token is created in GHL (sub-account Settings → Private Integrations) with the scopes ${NEEDED_SCOPES}; set it as GHL_PRIVATE_TOKEN.`,
      ),
    );
  } else if (blocking.kind === 'budget') {
    report('ghl token', budgetFailure(blocking.error) ?? fail(blocking.text, 'run doctor again later'));
  } else if (blocking.kind === 'location') {
    report('ghl token', fail(`the token has no access to location ${locationId} (${blocking.text})`, 'create the token inside that sub-account, or set GHL_LOCATION_ID to the location the token belongs to'));
  } else if (blocking.kind === 'unreachable') {
    report('ghl token', fail(`GHL did not answer at ${config.GHL_API_BASE_URL}: ${blocking.text}`, 'check GHL_API_BASE_URL and the network, then run doctor again'));
  } else {
    report('ghl token', fail(`the check call failed: ${blocking.text}`, 'run doctor again; if it persists, check GHL_API_BASE_URL and GHL_API_VERSION'));
  }

  // The scopes: a probe that failed for another reason says nothing about its scope.
  const missing = [
    ...(!fields.ok && fields.problem.kind === 'scope' ? ['locations/customFields.readonly'] : []),
    ...(!contacts.ok && contacts.problem.kind === 'scope' ? ['contacts.readonly'] : []),
  ];
  if (missing.length > 0) {
    report('ghl scopes', fail(`the token lacks ${missing.join(' and ')}`, `edit the private integration in GHL (Settings → Private Integrations) and grant ${NEEDED_SCOPES}`));
  } else if (blocking !== undefined) {
    report('ghl scopes', skip('the token could not be checked: see ghl token'));
  } else {
    report('ghl scopes', ok('contacts.readonly and locations/customFields.readonly granted; contacts.write and locations/customFields.write are not probed (that needs a write)'));
  }

  if (mapping === undefined) report('mapped custom fields', skip('the mapping file is invalid'));
  else if (!fields.ok) report('mapped custom fields', skip("the location's custom fields could not be read"));
  else report('mapped custom fields', compareFields(mapping, fields.value.items, locationId));
}

function compareFields(mapping: Mapping, existing: CustomFieldDefinition[], locationId: string): CheckResult {
  const wanted = mappedFieldKeys(mapping);
  if (wanted.length === 0) return ok('the mapping writes no custom field');
  const present = new Set(existing.map((field) => field.fieldKey));
  const missing = wanted.filter((key) => !present.has(key));
  if (missing.length === 0) return ok(`all ${wanted.length} exist`);
  const advice = missingFieldsAdvice(missing, locationId);
  const count = missing.length === wanted.length ? `none of the ${wanted.length} exists` : `${missing.length} of ${wanted.length} missing`;
  return fail(`${count}: ${advice.what} Writes to them are skipped.`, advice.todo);
}

/**
 * Marketplace-app mode: each installed location whose refresh GHL refused (it waits for a reconnect)
 * is a red line; read from the token store in Redis, no GHL call.
 */
export async function checkInstalls(config: Config, redis: RedisClient | undefined, report: Report): Promise<void> {
  if (!config.GHL_CLIENT_ID) return;
  if (!redis) return report('ghl installs', skip('needs Redis'));
  if (config.ENCRYPTION_KEY.length === 0) return report('ghl installs', skip('needs ENCRYPTION_KEY'));
  const store = createOAuthTokenStore({ redis, prefix: config.REDIS_PREFIX, encryptionKeys: config.ENCRYPTION_KEY });
  const locations = await store.listLocations();
  const waiting: string[] = [];
  for (const locationId of locations) if ((await store.get(locationId))?.needsReconnect === true) waiting.push(locationId);
  if (locations.length === 0) return report('ghl installs', ok('no location has installed the app yet: open /oauth/install'));
  if (waiting.length === 0) return report('ghl installs', ok(`${locations.length} location${locations.length === 1 ? '' : 's'} installed, none waiting for a reconnect`));
  for (const locationId of waiting) {
    const advice = reconnectAdvice(locationId);
    report('ghl installs', fail(advice.what, advice.todo));
  }
}

async function ghlProbe<T>(call: () => Promise<T>): Promise<Outcome<T>> {
  try {
    return { ok: true, value: await withTimeout(call(), CHECK_TIMEOUT_MS) };
  } catch (error) {
    return { ok: false, problem: classifyGhl(error) };
  }
}

/** GHL says "not authorized for this scope" with a 401, and "does not have access to this location" with a 403. */
const SCOPE_DENIED = /not authorized for this scope|not allowed to access this scope|scope/i;
const LOCATION_DENIED = /does not have access to this location/i;

function classifyGhl(error: unknown): GhlProblem {
  if (error instanceof UpstreamError) {
    const said = error.bodyExcerpt ?? '';
    const what = `${error.method} ${error.path}: ${error.status === undefined ? error.code : `status ${error.status}`}`;
    if (error.status === 401) return { kind: SCOPE_DENIED.test(said) ? 'scope' : 'invalid-token', text: what };
    if (error.status === 403) return { kind: LOCATION_DENIED.test(said) ? 'location' : 'scope', text: what };
    if (error.status === undefined) return { kind: 'unreachable', text: what };
    return { kind: 'other', text: what };
  }
  if (error instanceof ProbeTimeoutError) return { kind: 'unreachable', text: error.message };
  if (error instanceof RateBudgetExceededError) return { kind: 'budget', text: describe(error), error };
  return { kind: 'other', text: describe(error) };
}
