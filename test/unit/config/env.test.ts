import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, ghlAppId, loadConfig, parseDuration } from '../../../src/config/env.js';

const KEY_32_BYTES = Buffer.alloc(32, 7).toString('base64');

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    assert.equal(error.code, 'CONFIG_INVALID');
    assert.equal(error.message, error.problems.join('\n'));
    return error.problems;
  }
  assert.fail(`expected ${JSON.stringify(Object.keys(env))} to be rejected`);
}

describe('loadConfig defaults', () => {
  const config = loadConfig({});

  test('server, Redis and upstream bases', () => {
    assert.equal(config.PORT, 3000);
    assert.equal(config.HOST, '0.0.0.0');
    assert.equal(config.LOG_LEVEL, 'info');
    assert.equal(config.REDIS_URL, undefined);
    assert.equal(config.GHL_API_BASE_URL, 'https://services.leadconnectorhq.com');
    assert.equal(config.GHL_API_VERSION, '2021-07-28');
    assert.equal(config.TRUSTPILOT_API_BASE_URL, 'https://api.trustpilot.com');
    assert.equal(config.OPINIONSTAGE_API_BASE_URL, 'https://api.opinionstage.com/api/v2');
  });

  test('limits, intervals and windows', () => {
    assert.deepEqual(config.GHL_RATE_LIMIT, { max: 100, windowMs: 10_000 });
    assert.equal(config.GHL_DAILY_LIMIT, 200_000);
    assert.deepEqual(config.TRUSTPILOT_RATE_LIMIT, { max: 833, windowMs: 300_000 });
    assert.equal(config.TRUSTPILOT_CACHE_TTL, 6 * 60 * 60 * 1000);
    assert.equal(config.RECONCILE_INTERVAL, 15 * 60 * 1000);
    assert.equal(config.opinionStagePollMs, 15 * 60 * 1000);
    assert.equal(config.COALESCE_WINDOW_MS, 2000);
    assert.equal(config.DRY_RUN, false);
    assert.deepEqual(config.ENCRYPTION_KEY, []);
    assert.deepEqual(config.WEBHOOK_IP_ALLOWLIST, []);
  });

  test('GHL published webhook keys are used when none is configured', () => {
    assert.match(config.GHL_WEBHOOK_PUBLIC_KEY, /-----BEGIN PUBLIC KEY-----/);
    assert.match(config.GHL_WEBHOOK_ED25519_PUBLIC_KEY, /-----BEGIN PUBLIC KEY-----/);
  });

  test('sandbox mode without GHL credentials, not with a private token and location', () => {
    assert.equal(config.sandbox, true);
    const live = loadConfig({ GHL_PRIVATE_TOKEN: 'pit-0123456789', GHL_LOCATION_ID: 'loc_1' });
    assert.equal(live.sandbox, false);
    assert.equal(live.GHL_PRIVATE_TOKEN, 'pit-0123456789');
    const oauth = loadConfig({ GHL_CLIENT_ID: 'cid', GHL_CLIENT_SECRET: 'csecret', ENCRYPTION_KEY: KEY_32_BYTES });
    assert.equal(oauth.sandbox, false);
    assert.equal(loadConfig({ SANDBOX: 'true', GHL_PRIVATE_TOKEN: 't', GHL_LOCATION_ID: 'l' }).sandbox, true);
    assert.equal(loadConfig({ SANDBOX: 'false' }).sandbox, false);
  });
});

describe('loadConfig parsing', () => {
  test('rate limits, durations and lists', () => {
    const config = loadConfig({
      GHL_RATE_LIMIT: ' 50 / 2.5 ',
      TRUSTPILOT_CACHE_TTL: '30m',
      RECONCILE_INTERVAL: '0',
      OPINIONSTAGE_POLL_INTERVAL: '90s',
      OPINIONSTAGE_ITEM_IDS: 'a, b,,c ',
      WEBHOOK_IP_ALLOWLIST: '10.0.0.0/8, 192.168.1.7',
      ENCRYPTION_KEY: `${KEY_32_BYTES},${Buffer.alloc(32, 9).toString('base64')}`,
      DRY_RUN: 'yes',
    });
    assert.deepEqual(config.GHL_RATE_LIMIT, { max: 50, windowMs: 2500 });
    assert.equal(config.TRUSTPILOT_CACHE_TTL, 30 * 60_000);
    assert.equal(config.RECONCILE_INTERVAL, 0);
    assert.equal(config.opinionStagePollMs, 90_000);
    assert.deepEqual(config.OPINIONSTAGE_ITEM_IDS, ['a', 'b', 'c']);
    assert.deepEqual(config.WEBHOOK_IP_ALLOWLIST, ['10.0.0.0/8', '192.168.1.7']);
    assert.equal(config.ENCRYPTION_KEY.length, 2);
    assert.equal(config.ENCRYPTION_KEY[0]?.length, 32);
    assert.equal(config.DRY_RUN, true);
  });

  test('parseDuration units', () => {
    assert.equal(parseDuration('250ms'), 250);
    assert.equal(parseDuration('30'), 30_000);
    assert.equal(parseDuration('6h'), 21_600_000);
    assert.equal(parseDuration('2d'), 172_800_000);
    assert.equal(parseDuration('6 hours'), undefined);
  });

  test('PEM keys may be given on one line with literal \\n', () => {
    const pem = '-----BEGIN PUBLIC KEY-----\\nMCowBQYDK2VwAyEA\\n-----END PUBLIC KEY-----';
    const config = loadConfig({ GHL_WEBHOOK_ED25519_PUBLIC_KEY: pem });
    assert.equal(config.GHL_WEBHOOK_ED25519_PUBLIC_KEY, '-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA\n-----END PUBLIC KEY-----\n');
  });
});

describe('many locations', () => {
  test('OPINIONSTAGE_ITEM_LOCATIONS and TRUSTPILOT_LOCATIONS', () => {
    const config = loadConfig({ OPINIONSTAGE_ITEM_LOCATIONS: ' itemA = loc1 , 123=loc_2,itemA=loc1', TRUSTPILOT_LOCATIONS: 'loc1, loc-2' });
    assert.deepEqual(config.OPINIONSTAGE_ITEM_LOCATIONS, { itemA: 'loc1', '123': 'loc_2' });
    assert.deepEqual(config.TRUSTPILOT_LOCATIONS, ['loc1', 'loc-2']);
    assert.deepEqual(loadConfig({}).OPINIONSTAGE_ITEM_LOCATIONS, {});
    assert.deepEqual(loadConfig({}).TRUSTPILOT_LOCATIONS, []);
  });

  test('GHL_APP_ID defaults to the part of GHL_CLIENT_ID before its first -', () => {
    const oauth = { GHL_CLIENT_SECRET: 'secret-0123456789', ENCRYPTION_KEY: KEY_32_BYTES };
    assert.equal(ghlAppId(loadConfig({ ...oauth, GHL_CLIENT_ID: '6612ab34cd-lm0x1y2z' })), '6612ab34cd');
    assert.equal(ghlAppId(loadConfig({ ...oauth, GHL_CLIENT_ID: 'nodash' })), 'nodash');
    assert.equal(ghlAppId(loadConfig({ ...oauth, GHL_CLIENT_ID: '6612ab34cd-lm0x1y2z', GHL_APP_ID: 'other' })), 'other');
    assert.equal(ghlAppId(loadConfig({})), undefined);
  });
});

describe('loadConfig rejects bad values with one line per variable', () => {
  const cases: { env: Record<string, string>; line: RegExp }[] = [
    { env: { PORT: 'abc' }, line: /^PORT: / },
    { env: { PORT: '70000' }, line: /^PORT: / },
    { env: { LOG_LEVEL: 'loud' }, line: /^LOG_LEVEL: must be one of fatal, error, warn, info/ },
    { env: { REDIS_URL: 'http://localhost:6379' }, line: /^REDIS_URL: must be a valid URL$/ },
    { env: { REDIS_PREFIX: 'bad prefix' }, line: /^REDIS_PREFIX: / },
    { env: { GHL_RATE_LIMIT: '100 per 10s' }, line: /^GHL_RATE_LIMIT: expected N\/seconds/ },
    { env: { GHL_RATE_LIMIT: '0/10' }, line: /^GHL_RATE_LIMIT: expected N\/seconds/ },
    { env: { TRUSTPILOT_RATE_LIMIT: '833' }, line: /^TRUSTPILOT_RATE_LIMIT: expected N\/seconds/ },
    { env: { GHL_DAILY_LIMIT: '0' }, line: /^GHL_DAILY_LIMIT: / },
    { env: { TRUSTPILOT_CACHE_TTL: '6 hours' }, line: /^TRUSTPILOT_CACHE_TTL: expected a duration/ },
    { env: { RECONCILE_INTERVAL: 'often' }, line: /^RECONCILE_INTERVAL: expected a duration/ },
    { env: { OPINIONSTAGE_POLL_INTERVAL: '-5m' }, line: /^OPINIONSTAGE_POLL_INTERVAL: expected a duration/ },
    { env: { COALESCE_WINDOW_MS: '-1' }, line: /^COALESCE_WINDOW_MS: / },
    { env: { WORKER_CONCURRENCY: '0' }, line: /^WORKER_CONCURRENCY: / },
    { env: { WORKER_LOCK_DURATION: '500ms' }, line: /^WORKER_LOCK_DURATION: must be at least 1s$/ },
    { env: { SHUTDOWN_TIMEOUT: 'soon' }, line: /^SHUTDOWN_TIMEOUT: expected a duration/ },
    { env: { ALERT_WEBHOOK_URL: 'not a url' }, line: /^ALERT_WEBHOOK_URL: must be a valid URL$/ },
    { env: { ALERT_WEBHOOK_URL: 'ftp://example.com/hook' }, line: /^ALERT_WEBHOOK_URL: must be a valid URL$/ },
    { env: { GHL_API_BASE_URL: 'services.leadconnectorhq.com' }, line: /^GHL_API_BASE_URL: must be a valid URL$/ },
    { env: { OPINIONSTAGE_PUSH_URL: 'nope' }, line: /^OPINIONSTAGE_PUSH_URL: must be a valid URL$/ },
    { env: { DRY_RUN: 'maybe' }, line: /^DRY_RUN: must be one of / },
    { env: { SANDBOX: 'sometimes' }, line: /^SANDBOX: must be one of auto, true, false$/ },
    { env: { ENCRYPTION_KEY: Buffer.alloc(16).toString('base64') }, line: /^ENCRYPTION_KEY: each key must be 32 bytes/ },
    { env: { ENCRYPTION_KEY: `${KEY_32_BYTES},short` }, line: /^ENCRYPTION_KEY: each key must be 32 bytes/ },
    { env: { GHL_CLIENT_ID: 'cid', GHL_CLIENT_SECRET: 'cs' }, line: /^ENCRYPTION_KEY: is required in OAuth mode/ },
    { env: { GHL_CLIENT_ID: 'cid', ENCRYPTION_KEY: KEY_32_BYTES }, line: /^GHL_CLIENT_SECRET: is required when GHL_CLIENT_ID is set$/ },
    { env: { GHL_PRIVATE_TOKEN: 'pit-0123456789' }, line: /^GHL_LOCATION_ID: is required when GHL_PRIVATE_TOKEN is set$/ },
    { env: { GHL_WEBHOOK_PUBLIC_KEY: 'not a pem' }, line: /^GHL_WEBHOOK_PUBLIC_KEY: expected a PEM public key$/ },
    { env: { WEBHOOK_IP_ALLOWLIST: '10.0.0.0/8,office' }, line: /^WEBHOOK_IP_ALLOWLIST: each entry must be an IP address or CIDR/ },
    { env: { ADMIN_TOKEN: 'too-short' }, line: /^ADMIN_TOKEN: must be at least 16 characters$/ },
    { env: { VIEWER_TOKEN: 'too-short' }, line: /^VIEWER_TOKEN: must be at least 16 characters$/ },
    { env: { OPINIONSTAGE_ITEM_LOCATIONS: 'itemA=loc1,itemB' }, line: /^OPINIONSTAGE_ITEM_LOCATIONS: pair 2 must be itemId=locationId/ },
    { env: { OPINIONSTAGE_ITEM_LOCATIONS: 'itemA=loc 1,=loc2,itemC=a=b' }, line: /^OPINIONSTAGE_ITEM_LOCATIONS: pair 1, 2, 3 must be itemId=locationId/ },
    { env: { OPINIONSTAGE_ITEM_LOCATIONS: 'itemA=loc1,itemA=loc2' }, line: /^OPINIONSTAGE_ITEM_LOCATIONS: pair 2 must be itemId=locationId, each item once/ },
    { env: { TRUSTPILOT_LOCATIONS: 'loc1,loc/2' }, line: /^TRUSTPILOT_LOCATIONS: each entry must be a GHL location id/ },
    ...['GHL_WEBHOOK_SECRET', 'TRUSTPILOT_WEBHOOK_SECRET', 'OPINIONSTAGE_WEBHOOK_SECRET', 'OPINIONSTAGE_PUSH_SECRET', 'ALERT_WEBHOOK_SECRET'].map((name) => ({
      env: { [name]: 'fifteen-chars-x' },
      line: new RegExp(`^${name}: must be at least 16 characters$`),
    })),
  ];

  for (const { env, line } of cases) {
    test(`${JSON.stringify(env)}`, () => {
      const problems = problemsOf(env);
      assert.equal(problems.length, 1, `expected one problem line, got ${JSON.stringify(problems)}`);
      assert.match(problems[0] ?? '', line);
      assert.doesNotMatch(problems[0] ?? '', /\n/);
    });
  }

  test('several bad variables give one line each, naming each variable', () => {
    const problems = problemsOf({ PORT: 'abc', GHL_RATE_LIMIT: 'x', ALERT_WEBHOOK_URL: 'y' });
    assert.deepEqual(problems.map((problem) => problem.split(':')[0]).sort(), ['ALERT_WEBHOOK_URL', 'GHL_RATE_LIMIT', 'PORT']);
  });
});

describe('secret values never appear in configuration errors', () => {
  const secretCases: Record<string, string>[] = [
    { ADMIN_TOKEN: 'sh0rtS3cr3t' },
    { VIEWER_TOKEN: 'sh0rtS3cr3t' },
    { GHL_RATE_LIMIT: 'supersecretvalue123' },
    { TRUSTPILOT_RATE_LIMIT: 'supersecretvalue123' },
    { ENCRYPTION_KEY: 'c3VwZXJzZWNyZXR2YWx1ZTEyMw==' },
    { ALERT_WEBHOOK_URL: 'supersecretvalue123' },
    { REDIS_URL: 'redis://:supersecretvalue123@' },
    { PORT: 'supersecretvalue123' },
    { LOG_LEVEL: 'supersecretvalue123' },
    { GHL_WEBHOOK_PUBLIC_KEY: 'supersecretvalue123' },
    { GHL_PRIVATE_TOKEN: 'pit-supersecretvalue123' },
  ];
  for (const env of secretCases) {
    const [name = '', value = ''] = Object.entries(env)[0] ?? [];
    test(name, () => {
      let caught: unknown;
      try {
        loadConfig(env);
      } catch (error) {
        caught = error;
      }
      assert.ok(caught instanceof ConfigError, `${name} should be rejected`);
      const text = [caught.message, String(caught), caught.stack ?? '', JSON.stringify(caught.problems)].join('\n');
      assert.ok(!text.includes(value), `${name}'s value leaked into the error text`);
      assert.ok(!text.includes('supersecretvalue123'), `${name}'s value leaked into the error text`);
    });
  }
});

test('an empty value means "not set": the default applies', () => {
  const config = loadConfig({ PORT: '', HOST: ' ', GHL_DAILY_LIMIT: '', COALESCE_WINDOW_MS: '', DRY_RUN: '' });
  assert.equal(config.PORT, 3000);
  assert.equal(config.HOST, '0.0.0.0');
  assert.equal(config.GHL_DAILY_LIMIT, 200_000);
  assert.equal(config.COALESCE_WINDOW_MS, 2000);
  assert.equal(config.DRY_RUN, false);
});
