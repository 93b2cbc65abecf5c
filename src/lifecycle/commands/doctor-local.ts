/** The doctor's checks of this host: configuration, mapping, webhook keys, Redis, and reachable URLs. */
import { Agent, request } from 'undici';
import type { Config } from '../../config/env.js';
import { GHL_ED25519_PUBLIC_KEY_PEM, GHL_RSA_PUBLIC_KEY_PEM } from '../../config/ghl-published-keys.js';
import { loadMapping, mappedFieldKeys, MappingError, type Mapping } from '../../config/mapping.js';
import type { Logger } from '../../observability/logger.js';
import { createRedisConnection } from '../../queue/connections.js';
import { createGhlSignatureVerifier, GhlSignatureKeyError } from '../../webhooks/ghl-signature.js';
import type { RedisClient } from '../../state/keys.js';
import { checkRedisPolicyEverywhere } from '../redis-policy.js';
import { redisAddress, redisVariable } from '../wiring/commands.js';
import { CHECK_TIMEOUT_MS, describe, fail, networkCode, ok, warn, withTimeout, type CheckResult, type Report } from './doctor-checks.js';

export function checkConfig(config: Config, report: Report): Mapping | undefined {
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

export function checkWebhookKeys(config: Config): CheckResult {
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

export async function checkRedis(config: Config, logger: Logger, report: Report): Promise<RedisClient | undefined> {
  const where = redisAddress(config);
  const variable = redisVariable(config);
  const redis = createRedisConnection(config, 'producer', logger);
  const readiness = await whenReady(redis, CHECK_TIMEOUT_MS);
  if (readiness !== 'ready') {
    redis.disconnect();
    report('redis', fail(`not reachable at ${where}: ${readiness}`, variable === 'REDIS_URL' ? 'start redis-server (npm start does) or set REDIS_URL to a reachable Redis' : 'start the cluster or set REDIS_CLUSTER_NODES to reachable seed nodes'));
    return undefined;
  }
  let result: Awaited<ReturnType<typeof checkRedisPolicyEverywhere>>;
  try {
    result = await withTimeout(checkRedisPolicyEverywhere(redis), CHECK_TIMEOUT_MS);
  } catch (error) {
    report('redis', fail(`reachable, but its settings could not be read: ${describe(error)}`, `check that ${variable} points at a Redis server`));
    return redis;
  }
  if (!result.ok) {
    const { detail, fix } = splitFix(result.problem);
    report('redis', fail(detail, fix));
  } else if (result.warnings.length > 0) {
    const parts = result.warnings.map(splitFix);
    report('redis', warn(`reachable, maxmemory-policy noeviction; ${parts.map((part) => part.detail).join('; ')}`, parts.map((part) => part.fix).join('; ')));
  } else {
    report('redis', ok(`reachable at ${where}, maxmemory-policy noeviction, AOF on`));
  }
  return redis;
}



/**
 * A HEAD request: a TCP (and TLS) connection plus any HTTP answer, whatever its status, proves the
 * endpoint reachable. Posting would send a fake alert or event, so nothing is posted. Only the host
 * is shown: webhook URLs often carry their credential in the path.
 */
export async function checkReachable(url: string, variable: string, consequence: string): Promise<CheckResult> {
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
