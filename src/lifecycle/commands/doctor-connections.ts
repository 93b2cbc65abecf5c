/**
 * The doctor's checks of per-location connections (src/state/location-connections.ts): each
 * location's own Trustpilot (key, business unit, business user) and Opinion Stage key, checked as the
 * environment's are and on that connection's own call budget, so a wrong credential set through the
 * admin API, the CLI or the dashboard shows here before the location's first job fails. Each line is
 * named by its location, and the connection's secrets are blanked from it. A connection no key opens
 * is a red line of its own. Nothing is reported when
 * no location has a connection (or connections cannot be stored: no ENCRYPTION_KEY, no Redis).
 */
import { budgetFor, type CallBudget } from '../../clients/http/budgeted.js';
import type { RateBudget } from '../../clients/http/rate-budget-types.js';
import type { Config } from '../../config/env.js';
import type { RedisClient } from '../../state/keys.js';
import { createLocationConnectionStore } from '../../state/location-connections.js';
import { connectionBudgetKey } from '../wiring/connection-clients.js';
import type { Resources } from '../wiring/resources.js';
import { fail, patiently, type CheckResult, type Report } from './doctor-checks.js';
import { checkOpinionStage, checkTrustpilot } from './doctor-sources.js';

export async function checkLocationConnections(config: Config, redis: RedisClient | undefined, budget: RateBudget | undefined, resources: Resources, report: Report): Promise<void> {
  if (!redis || config.ENCRYPTION_KEY.length === 0) return;
  const store = createLocationConnectionStore(redis, config.REDIS_PREFIX, config.ENCRYPTION_KEY);
  for (const { kind, locationId } of await store.unreadable()) {
    report(
      `${kind} connection (location ${locationId})`,
      fail("stored, but no ENCRYPTION_KEY opens it: the location uses the environment's settings meanwhile", 'put back the key it was sealed with (ENCRYPTION_KEY=new,old), or set the connection again'),
    );
  }
  const { trustpilot, opinionstage } = await store.readAll();
  for (const [locationId, connection] of trustpilot) {
    const own: Config = {
      ...config,
      TRUSTPILOT_API_KEY: connection.apiKey,
      TRUSTPILOT_API_SECRET: connection.apiSecret,
      TRUSTPILOT_USERNAME: connection.username,
      TRUSTPILOT_PASSWORD: connection.password,
      TRUSTPILOT_BUSINESS_UNIT_ID: connection.businessUnitId,
    };
    const calls: CallBudget = budget
      ? { take: () => patiently(() => budgetFor(budget, 'trustpilot', connectionBudgetKey(locationId), config.TRUSTPILOT_RATE_LIMIT).take()) }
      : { take: async () => undefined };
    const secrets = [connection.apiKey, connection.apiSecret, connection.password, ...(connection.webhookSecret ? [connection.webhookSecret] : [])];
    await checkTrustpilot(own, calls, resources, ofLocation(report, locationId, secrets));
  }
  for (const [locationId, connection] of opinionstage) {
    await checkOpinionStage({ ...config, OPINIONSTAGE_API_KEY: connection.apiKey }, resources, ofLocation(report, locationId, [connection.apiKey, connection.webhookSecret]));
  }
}

/** Lines named `<check> (location <id>)`, with the connection's secrets blanked; a fix says to set the connection again. */
function ofLocation(report: Report, locationId: string, secrets: string[]): Report {
  const blank = (text: string) => secrets.reduce((out, secret) => out.split(secret).join('[redacted]'), text);
  const again = `the values of location ${locationId}'s own connection: set it again through the admin API, \`npx ghl-bridge connect\` or the dashboard`;
  return (name, result) => {
    const named: CheckResult = { status: result.status };
    if (result.detail !== undefined) named.detail = blank(result.detail);
    if (result.fix !== undefined) named.fix = `${blank(result.fix)} (here: ${again})`;
    report(`${name} (location ${locationId})`, named);
  };
}
