/**
 * `ghl-bridge doctor`: one line per check of configuration, Redis, credentials, scopes, custom fields
 * and connectivity, each green (✔), red (✖, with the fix), a warning (!) or skipped (-) when that part
 * is not configured. Exit 1 when any line is red. Every check is read-only: nothing is written to
 * GHL, Trustpilot or Opinion Stage, and no alert is sent (the alert and push URLs are probed with a
 * HEAD request: any HTTP answer proves the endpoint reachable). Each probe gives up after
 * CHECK_TIMEOUT_MS. Calls take from the shared rate budgets when Redis is reachable.
 */
import { parseArgs } from 'node:util';
import { createGhlBudget } from '../../clients/ghl/ghl-budget.js';
import type { GhlCallBudget } from '../../clients/ghl/ghl-client.js';
import type { CallBudget } from '../../clients/http/budgeted.js';
import { secretValues, type Config } from '../../config/env.js';
import type { Logger } from '../../observability/logger.js';
import { credentialParts } from '../../observability/redact-url.js';
import { createRateBudget } from '../../state/rate-budget.js';
import { withResources, type CommandIo } from '../wiring/commands.js';
import { trustpilotBudget } from '../wiring/guards.js';
import type { Resources } from '../wiring/resources.js';
import { patiently, skip, type CheckResult, type CheckStatus, type Report } from './doctor-checks.js';
import { checkGhl, checkInstalls } from './doctor-ghl.js';
import { checkLocationConnections } from './doctor-connections.js';
import { checkConfig, checkReachable, checkRedis, checkWebhookKeys } from './doctor-local.js';
import { checkOpinionStage, checkTrustpilot } from './doctor-sources.js';

export { CHECK_TIMEOUT_MS, type CheckResult, type CheckStatus } from './doctor-checks.js';

export const DOCTOR_USAGE = 'usage: ghl-bridge doctor';

export interface DoctorIo extends CommandIo {
  /** stdout is a terminal: colour the marks. */
  tty: boolean;
}

const MARKS: Record<CheckStatus, { mark: string; colour: string }> = {
  ok: { mark: '✔', colour: '\u001b[32m' },
  fail: { mark: '✖', colour: '\u001b[31m' },
  warn: { mark: '!', colour: '\u001b[33m' },
  skip: { mark: '-', colour: '\u001b[2m' },
};

/** One output line; secrets are blanked again here in case an upstream echoed one into a detail. */
export function formatCheck(name: string, result: CheckResult, options: { tty: boolean; secrets: string[] }): string {
  const { mark, colour } = MARKS[result.status];
  const head = options.tty ? `${colour}${mark}\u001b[0m` : mark;
  let line: string;
  if (result.status === 'skip') line = `${head} ${name}: skipped (${result.detail ?? 'not configured'})`;
  else if (result.status === 'ok') line = result.detail === undefined ? `${head} ${name}` : `${head} ${name}: ${result.detail}`;
  else line = `${head} ${name}: ${result.detail ?? 'failed'} — fix: ${result.fix ?? 'see the README'}`;
  for (const secret of options.secrets) line = line.split(secret).join('[redacted]');
  return line;
}

/** Returns the process exit code: 0 no red line, 1 at least one red line, 2 bad usage. */
export async function runDoctor(args: string[], config: Config, logger: Logger, io: DoctorIo): Promise<number> {
  try {
    const { positionals } = parseArgs({ args, options: {}, allowPositionals: true, strict: true });
    if (positionals.length > 0) throw new Error(`unexpected argument "${positionals[0]}"`);
  } catch (error) {
    io.err(`ghl-bridge doctor: ${error instanceof Error ? error.message : String(error)}`);
    io.err(DOCTOR_USAGE);
    return 2;
  }

  const secrets = [...secretValues(config), ...urlSecrets(config.ALERT_WEBHOOK_URL), ...urlSecrets(config.OPINIONSTAGE_PUSH_URL)];
  const counts: Record<CheckStatus, number> = { ok: 0, fail: 0, warn: 0, skip: 0 };
  const report = (name: string, result: CheckResult): void => {
    counts[result.status] += 1;
    io.out(formatCheck(name, result, { tty: io.tty, secrets }));
  };
  await withResources(config, logger, (resources) => runChecks(config, logger, report, resources));

  const parts = [`${counts.ok} ok`, `${counts.fail} failed`, `${counts.warn} warning${counts.warn === 1 ? '' : 's'}`, `${counts.skip} skipped`];
  io.out(`doctor: ${parts.join(', ')}`);
  return counts.fail > 0 ? 1 : 0;
}

async function runChecks(config: Config, logger: Logger, report: Report, resources: Resources): Promise<void> {
  const mapping = checkConfig(config, report);
  report('webhook keys', checkWebhookKeys(config));

  const redis = await checkRedis(config, logger, report);
  if (redis) resources.add('redis', () => redis.quit().catch(() => redis.disconnect()));
  // The shared budgets, waited for only briefly; no circuit: doctor reports what the upstream answers.
  const budget = redis ? createRateBudget(redis, config.REDIS_PREFIX) : undefined;
  let ghlBudget: GhlCallBudget | undefined;
  if (budget) {
    const shared = createGhlBudget({ budget, limit: { ...config.GHL_RATE_LIMIT, daily: config.GHL_DAILY_LIMIT } });
    ghlBudget = { ...shared, take: (locationId) => patiently(() => shared.take(locationId)) };
  }
  await checkGhl(config, mapping, ghlBudget, resources, report);
  await checkInstalls(config, redis, report);

  const tpBudget: CallBudget = budget ? { take: () => patiently(() => trustpilotBudget({ budget }, config).take()) } : { take: async () => undefined };
  await checkTrustpilot(config, tpBudget, resources, report);
  await checkOpinionStage(config, resources, report);
  await checkLocationConnections(config, redis, budget, resources, report);

  report('alert url', config.ALERT_WEBHOOK_URL ? await checkReachable(config.ALERT_WEBHOOK_URL, 'ALERT_WEBHOOK_URL', 'until then alerts are only logged') : skip('not configured: alerts are only logged'));
  report('push url', config.OPINIONSTAGE_PUSH_URL ? await checkReachable(config.OPINIONSTAGE_PUSH_URL, 'OPINIONSTAGE_PUSH_URL', 'forwarded events wait in the queue until it answers') : skip());
}

/** Path segments and query values of a webhook URL long enough to be a credential. */
function urlSecrets(url: string | undefined): string[] {
  if (url === undefined) return [];
  return credentialParts(url);
}

