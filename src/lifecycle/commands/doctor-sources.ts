/** The doctor's Trustpilot and Opinion Stage checks: keys, business unit and business user. */
import type { CallBudget } from '../../clients/http/budgeted.js';
import { UpstreamError } from '../../clients/http/upstream-error.js';
import { createMemoryTokenStore } from '../../clients/trustpilot/token-store.js';
import type { TrustpilotClient } from '../../clients/trustpilot/trustpilot-client.js';
import type { Config } from '../../config/env.js';
import type { Resources } from '../wiring/resources.js';
import { opinionStageClientFrom, trustpilotClientFrom } from '../wiring/upstreams.js';
import { budgetFailure, CHECK_TIMEOUT_MS, describe, fail, ok, skip, withTimeout, type Report } from './doctor-checks.js';

export async function checkTrustpilot(config: Config, budget: CallBudget, resources: Resources, report: Report): Promise<void> {
  const businessUnitId = config.TRUSTPILOT_BUSINESS_UNIT_ID;
  const loginConfigured = Boolean(config.TRUSTPILOT_USERNAME || config.TRUSTPILOT_PASSWORD);
  if (!config.TRUSTPILOT_API_KEY) {
    report('trustpilot api key', skip());
    report('trustpilot business unit', skip(businessUnitId ? 'needs TRUSTPILOT_API_KEY' : 'not configured'));
    report('trustpilot business user', skip(loginConfigured ? 'needs TRUSTPILOT_API_KEY' : 'not configured'));
    return;
  }
  const client = trustpilotClientFrom(config, {
    timeoutMs: Math.min(config.UPSTREAM_TIMEOUT, CHECK_TIMEOUT_MS),
    budget,
    // A fresh token on purpose: a token shared in Redis would hide a changed password.
    tokenStore: createMemoryTokenStore(),
  });
  if (!client) return;
  resources.add('trustpilot-client', () => client.close());
  const unit = await checkKeyAndUnit(client, businessUnitId, report);
  if (unit === 'stop') return;
  await checkBusinessUser(config, client, unit.found, report);
}

/** With a business unit configured, fetching it proves the key too; else any public lookup does. */
async function checkKeyAndUnit(client: TrustpilotClient, businessUnitId: string | undefined, report: Report): Promise<'stop' | { found: boolean }> {
  const keyFix = 'check TRUSTPILOT_API_KEY (Trustpilot Business → Integrations → API → your application key)';

  let unitFound = false;
  try {
    if (businessUnitId) {
      const unit = await withTimeout(client.getBusinessUnit(businessUnitId), CHECK_TIMEOUT_MS);
      unitFound = true;
      report('trustpilot api key', ok('accepted'));
      report('trustpilot business unit', ok(`${unit.displayName ?? 'found'} (${unit.id})`));
    } else {
      await withTimeout(client.findBusinessUnit('trustpilot.com'), CHECK_TIMEOUT_MS);
      report('trustpilot api key', ok('accepted'));
      report('trustpilot business unit', skip('not configured: reviews of your own business are not read'));
    }
  } catch (error) {
    const status = error instanceof UpstreamError ? error.status : undefined;
    if (status === 401 || status === 403) {
      report('trustpilot api key', fail(`Trustpilot refused the key (${describe(error)})`, keyFix));
      report('trustpilot business unit', skip('the API key was refused'));
      report('trustpilot business user', skip('the API key was refused'));
      return 'stop';
    }
    const spent = budgetFailure(error);
    if (spent) {
      report('trustpilot api key', spent);
      report('trustpilot business unit', skip('the Trustpilot call budget is spent'));
      report('trustpilot business user', skip('the Trustpilot call budget is spent'));
      return 'stop';
    }
    if (status === 404 && businessUnitId) {
      report('trustpilot api key', ok('accepted'));
      report('trustpilot business unit', fail(`TRUSTPILOT_BUSINESS_UNIT_ID ${businessUnitId} not found`, 'set it to your business unit id (GET /v1/business-units/find?name=<your domain> shows it)'));
    } else {
      report('trustpilot api key', fail(`no usable answer from Trustpilot: ${describe(error)}`, 'check TRUSTPILOT_API_BASE_URL and the network, then run doctor again'));
      report('trustpilot business unit', skip('Trustpilot did not answer'));
      report('trustpilot business user', skip('Trustpilot did not answer'));
      return 'stop';
    }
  }
  return { found: unitFound };
}

async function checkBusinessUser(config: Config, client: TrustpilotClient, unitFound: boolean, report: Report): Promise<void> {
  const businessUnitId = config.TRUSTPILOT_BUSINESS_UNIT_ID;
  const login = { TRUSTPILOT_API_SECRET: config.TRUSTPILOT_API_SECRET, TRUSTPILOT_USERNAME: config.TRUSTPILOT_USERNAME, TRUSTPILOT_PASSWORD: config.TRUSTPILOT_PASSWORD };
  const loginConfigured = Boolean(config.TRUSTPILOT_USERNAME || config.TRUSTPILOT_PASSWORD);

  if (!loginConfigured) {
    report('trustpilot business user', skip('not configured: private reviews are not read'));
    return;
  }
  const missing = Object.entries(login).flatMap(([name, value]) => (value ? [] : [name]));
  if (missing.length > 0) {
    report('trustpilot business user', fail(`incomplete: ${missing.join(', ')} not set`, 'set TRUSTPILOT_API_SECRET, TRUSTPILOT_USERNAME and TRUSTPILOT_PASSWORD together'));
    return;
  }
  if (!businessUnitId) {
    report('trustpilot business user', skip('needs TRUSTPILOT_BUSINESS_UNIT_ID to make a private call'));
    return;
  }
  // The password grant happens on the first private call; one page of one review is the cheapest.
  try {
    await withTimeout(client.listPrivateReviews(businessUnitId, { perPage: 1 }), CHECK_TIMEOUT_MS);
    report('trustpilot business user', ok('token obtained; private reviews readable'));
  } catch (error) {
    if (error instanceof UpstreamError && error.path.includes('/oauth/')) {
      report('trustpilot business user', fail(`Trustpilot refused the login (${describe(error)})`, 'check TRUSTPILOT_USERNAME, TRUSTPILOT_PASSWORD and TRUSTPILOT_API_SECRET; the business user must not use two-factor sign-in'));
    } else if (error instanceof UpstreamError && error.status !== undefined && error.status < 500) {
      const why = unitFound ? `token obtained, but reading private reviews failed (${describe(error)})` : `token obtained; private reviews not readable (${describe(error)})`;
      report('trustpilot business user', fail(why, 'give the business user access to this business unit in Trustpilot Business → Settings → Users'));
    } else {
      report('trustpilot business user', fail(`no usable answer from Trustpilot: ${describe(error)}`, 'check TRUSTPILOT_API_BASE_URL and the network, then run doctor again'));
    }
  }
}

export async function checkOpinionStage(config: Config, resources: Resources, report: Report): Promise<void> {
  if (!config.OPINIONSTAGE_API_KEY) {
    report('opinion stage api key', skip());
    return;
  }
  const client = opinionStageClientFrom(config, { timeoutMs: Math.min(config.UPSTREAM_TIMEOUT, CHECK_TIMEOUT_MS) });
  if (!client) return;
  resources.add('opinionstage-client', () => client.close());
  try {
    const page = await withTimeout(client.listItems({ number: 1, size: 1 }), CHECK_TIMEOUT_MS);
    report('opinion stage api key', ok(page.items.length === 0 ? 'accepted; the account has no items yet' : 'accepted; items readable'));
  } catch (error) {
    const status = error instanceof UpstreamError ? error.status : undefined;
    if (status === 401 || status === 403) {
      report('opinion stage api key', fail(`Opinion Stage refused the key (${describe(error)})`, 'check OPINIONSTAGE_API_KEY (Opinion Stage → Settings → API key)'));
    } else {
      report('opinion stage api key', fail(`no usable answer from Opinion Stage: ${describe(error)}`, 'check OPINIONSTAGE_API_BASE_URL and the network, then run doctor again'));
    }
  }
}
