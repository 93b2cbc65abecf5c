/**
 * `ghl-bridge doctor`: one line per check of configuration, Redis, credentials, scopes, custom fields
 * and connectivity, each green (✔), red (✖, with the fix), a warning (!) or skipped (-) when that part
 * is not configured. Exit 1 when any line is red. Every check is read-only: nothing is written to
 * GHL, Trustpilot or Opinion Stage, and no alert is sent (the alert and push URLs are probed with a
 * HEAD request: any HTTP answer proves the endpoint reachable). Each probe gives up after
 * CHECK_TIMEOUT_MS. Calls take from the shared rate budgets when Redis is reachable.
 */
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RedisClient } from '../../state/keys.js';
import { Agent, request } from 'undici';
import { createGhlBudget } from '../../clients/ghl/ghl-budget.js';
import { createGhlClient, type GhlCallBudget, type GhlClient } from '../../clients/ghl/ghl-client.js';
import type { CustomFieldDefinition } from '../../clients/ghl/schemas.js';
import { createStaticTokenProvider } from '../../clients/ghl/token-provider.js';
import { budgetFor, type CallBudget } from '../../clients/http/budgeted.js';
import { UpstreamError } from '../../clients/http/upstream-error.js';
import { createOpinionStageClient } from '../../clients/opinionstage/opinionstage-client.js';
import { createMemoryTokenStore } from '../../clients/trustpilot/token-store.js';
import { createTrustpilotClient, type TrustpilotClient } from '../../clients/trustpilot/trustpilot-client.js';
import { secretValues, type Config } from '../../config/env.js';
import { GHL_ED25519_PUBLIC_KEY_PEM, GHL_RSA_PUBLIC_KEY_PEM } from '../../config/ghl-published-keys.js';
import { loadMapping, mappedFieldKeys, MappingError, type Mapping } from '../../config/mapping.js';
import type { Logger } from '../../observability/logger.js';
import { createRedisConnection } from '../../queue/connections.js';
import { createRateBudget } from '../../state/rate-budget.js';
import { RateBudgetExceededError } from '../../clients/http/rate-budget-types.js';
import { createGhlSignatureVerifier, GhlSignatureKeyError } from '../../webhooks/ghl-signature.js';
import { checkRedisPolicyEverywhere } from '../redis-policy.js';
import { safeRedisUrl, type CommandIo } from './replay.js';
import { BridgeError } from '../../observability/errors.js';

export const DOCTOR_USAGE = 'usage: ghl-bridge doctor';
/** The longest a single probe may take; a check that needs two probes can take twice as long. */
export const CHECK_TIMEOUT_MS = 5_000;
/** A spent rate budget is waited for only this long; doctor reports rather than stalls. */
const MAX_BUDGET_WAIT_MS = 3_000;

export interface DoctorIo extends CommandIo {
  /** stdout is a terminal: colour the marks. */
  tty: boolean;
}

export type CheckStatus = 'ok' | 'fail' | 'warn' | 'skip';

export interface CheckResult {
  status: CheckStatus;
  /** ok/warn/fail: what was found; skip: why it was skipped. */
  detail?: string;
  /** fail/warn: what to do about it. */
  fix?: string;
}

const ok = (detail?: string): CheckResult => (detail === undefined ? { status: 'ok' } : { status: 'ok', detail });
const fail = (detail: string, fix: string): CheckResult => ({ status: 'fail', detail, fix });
const warn = (detail: string, fix: string): CheckResult => ({ status: 'warn', detail, fix });
const skip = (reason = 'not configured'): CheckResult => ({ status: 'skip', detail: reason });

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
  const closers: (() => Promise<unknown>)[] = [];

  try {
    const mapping = checkConfig(config, report);
    report('webhook keys', checkWebhookKeys(config));

    const redis = await checkRedis(config, logger, report);
    if (redis) closers.push(() => redis.quit().catch(() => redis.disconnect()));
    const budget = redis ? createRateBudget(redis, config.REDIS_PREFIX) : undefined;

    let ghlBudget: GhlCallBudget | undefined;
    if (budget) {
      const shared = createGhlBudget({ budget, limit: { ...config.GHL_RATE_LIMIT, daily: config.GHL_DAILY_LIMIT } });
      ghlBudget = { ...shared, take: (locationId) => patiently(() => shared.take(locationId)) };
    }
    await checkGhl(config, mapping, ghlBudget, closers, report);

    const trustpilotBudget: CallBudget = budget
      ? { take: () => patiently(() => budgetFor(budget, 'trustpilot', 'trustpilot:global', config.TRUSTPILOT_RATE_LIMIT).take()) }
      : { take: async () => undefined };
    await checkTrustpilot(config, trustpilotBudget, closers, report);
    await checkOpinionStage(config, closers, report);

    report('alert url', config.ALERT_WEBHOOK_URL ? await checkReachable(config.ALERT_WEBHOOK_URL, 'ALERT_WEBHOOK_URL', 'until then alerts are only logged') : skip('not configured: alerts are only logged'));
    report('push url', config.OPINIONSTAGE_PUSH_URL ? await checkReachable(config.OPINIONSTAGE_PUSH_URL, 'OPINIONSTAGE_PUSH_URL', 'forwarded events wait in the queue until it answers') : skip());
  } finally {
    for (const close of closers.reverse()) await close().catch(() => undefined);
  }

  const parts = [`${counts.ok} ok`, `${counts.fail} failed`, `${counts.warn} warning${counts.warn === 1 ? '' : 's'}`, `${counts.skip} skipped`];
  io.out(`doctor: ${parts.join(', ')}`);
  return counts.fail > 0 ? 1 : 0;
}

// --- checks -------------------------------------------------------------------------------------

type Report = (name: string, result: CheckResult) => void;

function checkConfig(config: Config, report: Report): Mapping | undefined {
  // loadConfig already ran (a bad variable stops the CLI before doctor); what is left is the mode.
  const mode = config.GHL_PRIVATE_TOKEN
    ? `private-token mode for location ${config.GHL_LOCATION_ID ?? '?'}`
    : config.GHL_CLIENT_ID
      ? 'marketplace-app (OAuth) mode'
      : 'sandbox mode (no GHL credentials)';
  if (config.GHL_CLIENT_ID && !config.GHL_APP_VERSION_ID) {
    // GHL's install page refuses a request without the app version: no install could succeed.
    report('config', fail(`environment valid; ${mode}, but GHL_APP_VERSION_ID is not set, so GHL refuses every install`, "set GHL_APP_VERSION_ID to your app's version id (the `version_id` of the install link in GHL's marketplace portal)"));
  } else {
    report('config', ok(`environment valid; ${mode}${config.DRY_RUN ? '; DRY_RUN on: nothing is written' : ''}`));
  }
  try {
    const mapping = loadMapping(config.MAPPING_FILE);
    const source = config.MAPPING_FILE ? config.MAPPING_FILE : 'built-in defaults';
    report('mapping', ok(`${source}, ${mappedFieldKeys(mapping).length} mapped custom fields`));
    return mapping;
  } catch (error) {
    if (!(error instanceof MappingError)) throw error;
    report('mapping', fail(`MAPPING_FILE is invalid: ${error.problems.slice(0, 3).join('; ')}`, 'correct the file (its JSON Schema is openapi/mapping.schema.json) or unset MAPPING_FILE for the defaults'));
    return undefined;
  }
}

function checkWebhookKeys(config: Config): CheckResult {
  try {
    createGhlSignatureVerifier({ ed25519PublicKeyPem: config.GHL_WEBHOOK_ED25519_PUBLIC_KEY, rsaPublicKeyPem: config.GHL_WEBHOOK_PUBLIC_KEY });
  } catch (error) {
    if (!(error instanceof GhlSignatureKeyError)) throw error;
    const variable = error.key === 'ed25519PublicKeyPem' ? 'GHL_WEBHOOK_ED25519_PUBLIC_KEY' : 'GHL_WEBHOOK_PUBLIC_KEY';
    return fail(`${variable} is not a usable ${error.key === 'ed25519PublicKeyPem' ? 'Ed25519' : 'RSA'} public key`, `unset ${variable} to use GHL's published key, or paste the PEM from GHL's webhook docs`);
  }
  const published = config.GHL_WEBHOOK_ED25519_PUBLIC_KEY === GHL_ED25519_PUBLIC_KEY_PEM && config.GHL_WEBHOOK_PUBLIC_KEY === GHL_RSA_PUBLIC_KEY_PEM;
  const secrets = (['GHL_WEBHOOK_SECRET', 'TRUSTPILOT_WEBHOOK_SECRET', 'OPINIONSTAGE_WEBHOOK_SECRET'] as const).map(
    (name) => `${name} ${config[name] ? 'set' : 'not set'}`,
  );
  return ok(`Ed25519 and RSA keys load (${published ? "GHL's published keys" : 'custom keys'}); ${secrets.join(', ')}`);
}

async function checkRedis(config: Config, logger: Logger, report: Report): Promise<RedisClient | undefined> {
  const url = config.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const redis = createRedisConnection(config, 'producer', logger);
  const readiness = await whenReady(redis, CHECK_TIMEOUT_MS);
  if (readiness !== 'ready') {
    redis.disconnect();
    report('redis', fail(`not reachable at ${safeRedisUrl(url)}: ${readiness}`, 'start redis-server (npm start does) or set REDIS_URL to a reachable Redis'));
    return undefined;
  }
  let result: Awaited<ReturnType<typeof checkRedisPolicyEverywhere>>;
  try {
    result = await withTimeout(checkRedisPolicyEverywhere(redis), CHECK_TIMEOUT_MS);
  } catch (error) {
    report('redis', fail(`reachable, but its settings could not be read: ${describe(error)}`, 'check that REDIS_URL points at a Redis server'));
    return redis;
  }
  if (!result.ok) {
    const { detail, fix } = splitFix(result.problem);
    report('redis', fail(detail, fix));
  } else if (result.warnings.length > 0) {
    const parts = result.warnings.map(splitFix);
    report('redis', warn(`reachable, maxmemory-policy noeviction; ${parts.map((part) => part.detail).join('; ')}`, parts.map((part) => part.fix).join('; ')));
  } else {
    report('redis', ok(`reachable at ${safeRedisUrl(url)}, maxmemory-policy noeviction, AOF on`));
  }
  return redis;
}

/** The scopes the bridge needs; the write scopes cannot be probed without writing. */
const NEEDED_SCOPES = 'contacts.readonly, contacts.write, locations/customFields.readonly, locations/customFields.write';

type Outcome<T> = { ok: true; value: T } | { ok: false; problem: GhlProblem };
type GhlProblem = { kind: 'invalid-token' | 'scope' | 'location' | 'unreachable' | 'other'; text: string };

async function checkGhl(config: Config, mapping: Mapping | undefined, budget: GhlCallBudget | undefined, closers: (() => Promise<unknown>)[], report: Report): Promise<void> {
  const names = ['ghl token', 'ghl scopes', 'mapped custom fields'] as const;
  if (!config.GHL_PRIVATE_TOKEN || !config.GHL_LOCATION_ID) {
    const reason = config.GHL_CLIENT_ID ? 'OAuth mode: each location is checked when it installs the app' : 'not configured: sandbox mode';
    for (const name of names) report(name, skip(reason));
    return;
  }
  const locationId = config.GHL_LOCATION_ID;
  const ghl: GhlClient = createGhlClient({
    baseUrl: config.GHL_API_BASE_URL,
    version: config.GHL_API_VERSION,
    timeoutMs: Math.min(config.UPSTREAM_TIMEOUT, CHECK_TIMEOUT_MS),
    tokens: createStaticTokenProvider(locationId, config.GHL_PRIVATE_TOKEN),
    ...(budget ? { budget } : {}),
  });
  closers.push(() => ghl.close());

  const fields = await ghlProbe(() => ghl.listCustomFields(locationId, 'contact'));
  const contacts = await ghlProbe(() => ghl.listContacts(locationId, { limit: 1 }));
  const problems = [fields, contacts].flatMap((outcome) => (outcome.ok ? [] : [outcome.problem]));

  // The token: GHL accepted it unless a probe says otherwise for a reason other than a scope.
  const blocking = problems.find((problem) => problem.kind === 'invalid-token') ?? problems.find((problem) => problem.kind === 'location') ?? problems.find((problem) => problem.kind !== 'scope');
  if (blocking === undefined) {
    report('ghl token', ok(`accepted by GHL for location ${locationId}`));
  } else if (blocking.kind === 'invalid-token') {
    report('ghl token', fail(`GHL rejected GHL_PRIVATE_TOKEN: token invalid or expired (${blocking.text})`, `create a private integration token in GHL (sub-account Settings → Private Integrations) with the scopes ${NEEDED_SCOPES}, and set GHL_PRIVATE_TOKEN`));
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
  if (missing.length === wanted.length) return fail(`none of the ${wanted.length} exists (writes to them are skipped)`, `npx ghl-bridge setup-fields --location ${locationId}`);
  return fail(
    `${missing.length} of ${wanted.length} missing: ${missing.join(', ')} (writes to them are skipped)`,
    `npx ghl-bridge setup-fields --location ${locationId}`,
  );
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
  return { kind: 'other', text: describe(error) };
}

async function checkTrustpilot(config: Config, budget: CallBudget, closers: (() => Promise<unknown>)[], report: Report): Promise<void> {
  const businessUnitId = config.TRUSTPILOT_BUSINESS_UNIT_ID;
  const login = { TRUSTPILOT_API_SECRET: config.TRUSTPILOT_API_SECRET, TRUSTPILOT_USERNAME: config.TRUSTPILOT_USERNAME, TRUSTPILOT_PASSWORD: config.TRUSTPILOT_PASSWORD };
  const loginConfigured = Boolean(config.TRUSTPILOT_USERNAME || config.TRUSTPILOT_PASSWORD);
  if (!config.TRUSTPILOT_API_KEY) {
    report('trustpilot api key', skip());
    report('trustpilot business unit', skip(businessUnitId ? 'needs TRUSTPILOT_API_KEY' : 'not configured'));
    report('trustpilot business user', skip(loginConfigured ? 'needs TRUSTPILOT_API_KEY' : 'not configured'));
    return;
  }
  const client: TrustpilotClient = createTrustpilotClient({
    baseUrl: config.TRUSTPILOT_API_BASE_URL,
    apiKey: config.TRUSTPILOT_API_KEY,
    ...(config.TRUSTPILOT_API_SECRET ? { apiSecret: config.TRUSTPILOT_API_SECRET } : {}),
    ...(config.TRUSTPILOT_USERNAME ? { username: config.TRUSTPILOT_USERNAME } : {}),
    ...(config.TRUSTPILOT_PASSWORD ? { password: config.TRUSTPILOT_PASSWORD } : {}),
    timeoutMs: Math.min(config.UPSTREAM_TIMEOUT, CHECK_TIMEOUT_MS),
    budget,
    // A fresh token on purpose: a token shared in Redis would hide a changed password.
    tokenStore: createMemoryTokenStore(),
  });
  closers.push(() => client.close());
  const keyFix = 'check TRUSTPILOT_API_KEY (Trustpilot Business → Integrations → API → your application key)';

  // With a business unit configured, fetching it proves the key too; else any public lookup does.
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
      return;
    }
    if (status === 404 && businessUnitId) {
      report('trustpilot api key', ok('accepted'));
      report('trustpilot business unit', fail(`TRUSTPILOT_BUSINESS_UNIT_ID ${businessUnitId} not found`, 'set it to your business unit id (GET /v1/business-units/find?name=<your domain> shows it)'));
    } else {
      report('trustpilot api key', fail(`no usable answer from Trustpilot: ${describe(error)}`, 'check TRUSTPILOT_API_BASE_URL and the network, then run doctor again'));
      report('trustpilot business unit', skip('Trustpilot did not answer'));
      report('trustpilot business user', skip('Trustpilot did not answer'));
      return;
    }
  }

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

async function checkOpinionStage(config: Config, closers: (() => Promise<unknown>)[], report: Report): Promise<void> {
  if (!config.OPINIONSTAGE_API_KEY) {
    report('opinion stage api key', skip());
    return;
  }
  const client = createOpinionStageClient({
    baseUrl: config.OPINIONSTAGE_API_BASE_URL,
    apiKey: config.OPINIONSTAGE_API_KEY,
    timeoutMs: Math.min(config.UPSTREAM_TIMEOUT, CHECK_TIMEOUT_MS),
  });
  closers.push(() => client.close());
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

/**
 * A HEAD request: a TCP (and TLS) connection plus any HTTP answer, whatever its status, proves the
 * endpoint reachable. Posting would send a fake alert or event, so nothing is posted. Only the host
 * is shown: webhook URLs often carry their credential in the path.
 */
async function checkReachable(url: string, variable: string, consequence: string): Promise<CheckResult> {
  const target = new URL(url);
  const agent = new Agent({ connect: { timeout: CHECK_TIMEOUT_MS } });
  try {
    const response = await request(target, {
      method: 'HEAD',
      dispatcher: agent,
      headers: { 'user-agent': 'ghl-bridge-doctor' },
      signal: AbortSignal.timeout(CHECK_TIMEOUT_MS),
    });
    await response.body.dump();
    return ok(`${target.host} answered (HTTP ${response.statusCode} to HEAD)`);
  } catch (error) {
    return fail(`cannot reach ${target.host}: ${networkCode(error)}`, `check ${variable} and that the endpoint is up; ${consequence}`);
  } finally {
    await agent.close().catch(() => undefined);
  }
}

// --- helpers ------------------------------------------------------------------------------------

class ProbeTimeoutError extends BridgeError<'DOCTOR_PROBE_TIMEOUT'> {
  constructor(ms: number) {
    super('DOCTOR_PROBE_TIMEOUT', `no answer within ${ms / 1000} s`);
  }
}

async function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([work, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new ProbeTimeoutError(ms)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

/** Waits out a spent budget when the wait is short; a long one is reported rather than sat through. */
async function patiently<T>(take: () => Promise<T>): Promise<T> {
  for (;;) {
    try {
      return await take();
    } catch (error) {
      if (!(error instanceof RateBudgetExceededError) || error.retryAfterMs > MAX_BUDGET_WAIT_MS) throw error;
      await sleep(Math.max(1, error.retryAfterMs));
    }
  }
}

/** 'ready', or why not: the first connection error (doctor reports it rather than waiting out reconnects) or the timeout. */
async function whenReady(redis: RedisClient, timeoutMs: number): Promise<string> {
  if (redis.status === 'ready') return 'ready';
  let timer: NodeJS.Timeout | undefined;
  let onReady: (() => void) | undefined;
  let onError: ((error: Error) => void) | undefined;
  try {
    return await new Promise<string>((resolve) => {
      onReady = () => resolve('ready');
      onError = (error) => resolve(networkCode(error));
      redis.once('ready', onReady);
      redis.once('error', onError);
      timer = setTimeout(() => resolve(`no answer within ${timeoutMs / 1000} s`), timeoutMs);
    });
  } finally {
    clearTimeout(timer);
    if (onReady) redis.off('ready', onReady);
    if (onError) redis.off('error', onError);
  }
}

/** Splits a redis-policy sentence "<problem>: run …" / "<problem>; run …" into what and fix. */
function splitFix(text: string): { detail: string; fix: string } {
  const match = /^(.*?)[:;]\s+(run\s.*)$/s.exec(text);
  if (match?.[1] && match[2]) return { detail: match[1], fix: match[2] };
  return { detail: text, fix: 'see the Redis section of the README' };
}

function describe(error: unknown): string {
  if (error instanceof UpstreamError) return error.status === undefined ? error.code : `status ${error.status}`;
  if (error instanceof RateBudgetExceededError) return `rate budget spent (${error.scope}), next call in ${Math.ceil(error.retryAfterMs / 1000)} s`;
  if (error instanceof ProbeTimeoutError) return error.message;
  if (error instanceof Error && 'code' in error && typeof error.code === 'string') return error.code;
  return error instanceof Error ? error.name : 'unknown error';
}

/** An error code (ECONNREFUSED, UND_ERR_CONNECT_TIMEOUT…), never a message that may quote the URL. */
function networkCode(error: unknown): string {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) return `no answer within ${CHECK_TIMEOUT_MS / 1000} s`;
  for (let current: unknown = error, depth = 0; current instanceof Error && depth < 4; current = current.cause, depth += 1) {
    if ('code' in current && typeof current.code === 'string') return current.code;
  }
  return error instanceof Error ? error.name : 'unknown error';
}

/** Path segments and query values of a webhook URL long enough to be a credential. */
function urlSecrets(url: string | undefined): string[] {
  if (url === undefined) return [];
  try {
    const parsed = new URL(url);
    return [...parsed.pathname.split('/'), ...parsed.searchParams.values()].filter((part) => part.length >= 8);
  } catch {
    return [];
  }
}
