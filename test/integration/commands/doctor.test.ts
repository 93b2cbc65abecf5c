/**
 * `ghl-bridge doctor` as a child process against a real Redis and the GHL, Trustpilot and Opinion
 * Stage simulators: all green when everything is set up, and one red line (exit 1) naming the fix
 * for each thing that is wrong. No secret ever reaches the output.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { createGhlClient } from '../../../src/clients/ghl/ghl-client.js';
import { createStaticTokenProvider } from '../../../src/clients/ghl/token-provider.js';
import { RateBudgetExceededError } from '../../../src/clients/http/rate-budget-types.js';
import { DEFAULT_MAPPING, mappedFieldKeys } from '../../../src/config/mapping.js';
import { startGhlSimulator, type GhlSimulator } from '../../../src/sandbox/ghl/simulator.js';
import { startOpinionStageSimulator, type OpinionStageSimulator } from '../../../src/sandbox/opinionstage/simulator.js';
import { startTrustpilotSimulator, type TrustpilotSimulator } from '../../../src/sandbox/trustpilot/simulator.js';
import { createLocationConnectionStore } from '../../../src/state/location-connections.js';
import { createOAuthTokenStore } from '../../../src/state/oauth-token-store.js';
import { explainFailure } from '../../../src/observability/troubleshooting.js';
import { setupFields } from '../../../src/workers/setup-fields.js';
import { freePort, startRedisServer, type RedisServerHandle } from '../../helpers/redis-server.js';
import { runCli, type CliResult } from './run-cli.js';

const LOCATION_ID = 'locDoctorCli000000001';
const TOKEN = 'pit-doctor-cli-token-0001';
const PARTIAL_LOCATION_ID = 'locDoctorCli000000002';
const PARTIAL_TOKEN = 'pit-doctor-cli-token-0002';
const TRUSTPILOT = { apiKey: 'tp-doctor-key-0001', apiSecret: 'tp-doctor-secret-0001', username: 'owner@doctor.test', password: 'tp-doctor-password-0001', businessUnitId: 'bu_doctor_own' };
const OPINIONSTAGE_KEY = 'os-doctor-key-0001';
const ALERT_PATH_SECRET = 'T0000/B0000/alertpathsecret0001';
const CHECK_NAMES = [
  'config',
  'mapping',
  'webhook keys',
  'redis',
  'ghl token',
  'ghl scopes',
  'mapped custom fields',
  'trustpilot api key',
  'trustpilot business unit',
  'trustpilot business user',
  'opinion stage api key',
  'alert url',
  'push url',
];

describe('ghl-bridge doctor', () => {
  let redis: RedisServerHandle;
  let admin: Redis;
  let ghl: GhlSimulator;
  let trustpilot: TrustpilotSimulator;
  let opinionStage: OpinionStageSimulator;
  let hooks: Server;
  let hookHits: string[];
  let env: Record<string, string>;
  let secrets: string[];

  before(async () => {
    redis = await startRedisServer();
    admin = new Redis(redis.url, { lazyConnect: true });
    await admin.connect();
    ghl = await startGhlSimulator({ locations: [{ id: LOCATION_ID, token: TOKEN }, { id: PARTIAL_LOCATION_ID, token: PARTIAL_TOKEN }] });
    trustpilot = await startTrustpilotSimulator({ ...TRUSTPILOT, users: [{ username: TRUSTPILOT.username, password: TRUSTPILOT.password }] });
    opinionStage = await startOpinionStageSimulator({ apiKey: OPINIONSTAGE_KEY });
    hookHits = [];
    hooks = createServer((req, res) => {
      hookHits.push(`${req.method ?? ''} ${req.url ?? ''}`);
      res.writeHead(405).end();
    });
    await new Promise<void>((resolve) => hooks.listen(0, '127.0.0.1', resolve));
    const address = hooks.address();
    assert.ok(address !== null && typeof address === 'object');
    const hooksUrl = `http://127.0.0.1:${address.port}`;

    // Both locations set up as `setup-fields` does; the second then loses one field.
    for (const [locationId, token] of [[LOCATION_ID, TOKEN], [PARTIAL_LOCATION_ID, PARTIAL_TOKEN]] as const) {
      const client = createGhlClient({ baseUrl: ghl.url, version: '2021-07-28', timeoutMs: 5_000, tokens: createStaticTokenProvider(locationId, token) });
      try {
        await setupFields(client, locationId, DEFAULT_MAPPING);
      } finally {
        await client.close();
      }
    }
    const dropped = ghl.store.findCustomField(PARTIAL_LOCATION_ID, 'contact.trustpilot_review_url');
    assert.ok(dropped);
    ghl.store.removeCustomField(PARTIAL_LOCATION_ID, dropped.id);

    env = {
      REDIS_URL: redis.url,
      REDIS_PREFIX: `doctor-${randomBytes(4).toString('hex')}`,
      LOG_LEVEL: 'warn',
      GHL_API_BASE_URL: ghl.url,
      GHL_PRIVATE_TOKEN: TOKEN,
      GHL_LOCATION_ID: LOCATION_ID,
      GHL_WEBHOOK_SECRET: 'ghl-workflow-secret-0001',
      TRUSTPILOT_API_BASE_URL: trustpilot.url,
      TRUSTPILOT_API_KEY: TRUSTPILOT.apiKey,
      TRUSTPILOT_API_SECRET: TRUSTPILOT.apiSecret,
      TRUSTPILOT_USERNAME: TRUSTPILOT.username,
      TRUSTPILOT_PASSWORD: TRUSTPILOT.password,
      TRUSTPILOT_BUSINESS_UNIT_ID: TRUSTPILOT.businessUnitId,
      TRUSTPILOT_WEBHOOK_SECRET: 'tp-webhook-secret-0001',
      OPINIONSTAGE_API_BASE_URL: opinionStage.apiBaseUrl,
      OPINIONSTAGE_API_KEY: OPINIONSTAGE_KEY,
      OPINIONSTAGE_WEBHOOK_SECRET: 'os-webhook-secret-0001',
      OPINIONSTAGE_PUSH_URL: `${hooksUrl}/push`,
      OPINIONSTAGE_PUSH_SECRET: 'push-secret-0001',
      ALERT_WEBHOOK_URL: `${hooksUrl}/services/${ALERT_PATH_SECRET}`,
      ALERT_WEBHOOK_SECRET: 'alert-secret-0001',
      ADMIN_TOKEN: 'admin-token-doctor-0001',
    };
    secrets = [TOKEN, PARTIAL_TOKEN, TRUSTPILOT.apiKey, TRUSTPILOT.apiSecret, TRUSTPILOT.password, OPINIONSTAGE_KEY, ALERT_PATH_SECRET, 'alertpathsecret0001', ...Object.entries(env).filter(([name]) => /SECRET|TOKEN$/.test(name)).map(([, value]) => value)];
  });

  after(async () => {
    await new Promise<void>((resolve) => hooks.close(() => resolve()));
    await opinionStage.close();
    await trustpilot.close();
    await ghl.close();
    admin.disconnect();
    await redis.close();
  });

  function lineOf(result: CliResult, name: string): string {
    const line = result.lines.find((candidate) => candidate.slice(2).startsWith(`${name}:`) || candidate.slice(2) === name);
    assert.ok(line, `no line for ${name} in:\n${result.stdout}\n${result.stderr}`);
    return line;
  }

  function assertNoSecret(result: CliResult): void {
    const output = `${result.stdout}${result.stderr}`;
    for (const secret of secrets) assert.ok(!output.includes(secret), `a secret reached the output: ${secret.slice(0, 4)}…`);
  }

  test('everything set up: one green line per check, exit 0, no secret, nothing posted', async () => {
    const result = await runCli(['doctor'], env);
    assert.equal(result.code, 0, `${result.stdout}\n${result.stderr}`);
    for (const name of CHECK_NAMES) assert.match(lineOf(result, name), /^✔ /, name);
    assert.equal(result.lines.length, CHECK_NAMES.length + 1, result.stdout);
    assert.equal(result.lines.at(-1), `doctor: ${CHECK_NAMES.length} ok, 0 failed, 0 warnings, 0 skipped`);
    assert.match(lineOf(result, 'mapped custom fields'), new RegExp(`all ${mappedFieldKeys(DEFAULT_MAPPING).length} exist`));
    assert.match(lineOf(result, 'trustpilot business unit'), /bu_doctor_own/);
    assert.match(lineOf(result, 'alert url'), /HTTP 405 to HEAD/);
    // Reachability is a HEAD: no fake alert or event was posted.
    assert.ok(hookHits.length >= 2 && hookHits.every((hit) => hit.startsWith('HEAD ')), hookHits.join(', '));
    // The probes GHL saw: reads only.
    assert.ok(ghl.calls.filter((call) => call.method !== 'GET' && !call.path.includes('customFields')).length === 0);
    assertNoSecret(result);
  });

  test('wrong GHL token: red "token invalid" line with the fix, scopes and fields not judged, exit 1', async () => {
    const wrong = 'pit-doctor-wrong-token-9999';
    secrets.push(wrong);
    const result = await runCli(['doctor'], { ...env, GHL_PRIVATE_TOKEN: wrong });
    assert.equal(result.code, 1);
    const line = lineOf(result, 'ghl token');
    assert.match(line, /^✖ ghl token: GHL rejected GHL_PRIVATE_TOKEN: token invalid or expired .*status 401.* — fix: Reconnect location .*A private integration token is created in GHL/);
    // The dashboard's words for the same failure.
    const dashboard = explainFailure('GET /contacts/: status 401 Unauthorized', LOCATION_ID);
    assert.ok(line.includes(dashboard.what), `${line}\nlacks: ${dashboard.what}`);
    assert.ok(line.includes(`fix: ${dashboard.todo.replace(/ Then replay\.$/, '')}`), `${line}\nlacks: ${dashboard.todo}`);
    assert.match(lineOf(result, 'ghl scopes'), /^- ghl scopes: skipped/);
    assert.match(lineOf(result, 'mapped custom fields'), /^- mapped custom fields: skipped/);
    assert.match(result.lines.at(-1) ?? '', /1 failed/);
    assertNoSecret(result);
  });

  test('a scope missing: the token is fine, the scopes line names contacts.readonly, exit 1', async () => {
    const clear = ghl.injectFault({
      fault: { kind: 'status', status: 401, body: { statusCode: 401, message: 'The token is not authorized for this scope.' } },
      method: 'GET',
      path: /^\/contacts\/$/,
    });
    try {
      const result = await runCli(['doctor'], env);
      assert.equal(result.code, 1);
      assert.match(lineOf(result, 'ghl token'), /^✔ ghl token/);
      assert.match(lineOf(result, 'ghl scopes'), /^✖ ghl scopes: the token lacks contacts\.readonly — fix: .*contacts\.readonly, contacts\.write/);
      assert.match(lineOf(result, 'mapped custom fields'), /^✔ /);
    } finally {
      clear();
    }
  });

  test('a token granted without a scope: the simulator refuses as GHL does, and the scopes line names it', async () => {
    const locationId = 'locDoctorCli000000003';
    const token = 'pit-doctor-cli-token-0003';
    ghl.addLocation({ id: locationId, token, scopes: ['contacts.readonly', 'contacts.write'] });
    const result = await runCli(['doctor'], { ...env, GHL_PRIVATE_TOKEN: token, GHL_LOCATION_ID: locationId });
    assert.equal(result.code, 1);
    assert.match(lineOf(result, 'ghl token'), /^✔ ghl token/);
    assert.match(lineOf(result, 'ghl scopes'), /^✖ ghl scopes: the token lacks locations\/customFields\.readonly — fix: /);
    assert.match(lineOf(result, 'mapped custom fields'), /^- mapped custom fields: skipped/);
    assertNoSecret(result);
  });

  test('a mapped custom field missing: red line naming it and the setup-fields command, exit 1', async () => {
    const result = await runCli(['doctor'], { ...env, GHL_PRIVATE_TOKEN: PARTIAL_TOKEN, GHL_LOCATION_ID: PARTIAL_LOCATION_ID });
    assert.equal(result.code, 1);
    const total = mappedFieldKeys(DEFAULT_MAPPING).length;
    // The dashboard's words for a sync that met the missing field.
    const dashboard = explainFailure(`custom field contact.trustpilot_review_url does not exist in location ${PARTIAL_LOCATION_ID}; run setup-fields`, PARTIAL_LOCATION_ID);
    assert.equal(
      lineOf(result, 'mapped custom fields'),
      `✖ mapped custom fields: 1 of ${total} missing: ${dashboard.what} Writes to them are skipped. — fix: ${dashboard.todo.replace(/ Then replay\.$/, '')}`,
    );
    assert.match(dashboard.todo, new RegExp(`^Run \`npx ghl-bridge setup-fields --location ${PARTIAL_LOCATION_ID}\``));
    assert.match(lineOf(result, 'ghl token'), /^✔ /);
    assert.equal(result.lines.filter((line) => line.startsWith('✖')).length, 1, result.stdout);
  });

  test('Redis with an evicting policy: red line with the CONFIG SET fix, exit 1; AOF off is only a warning', async () => {
    await admin.config('SET', 'maxmemory-policy', 'allkeys-lru');
    try {
      const result = await runCli(['doctor'], env);
      assert.equal(result.code, 1);
      assert.match(lineOf(result, 'redis'), /^✖ redis: Redis maxmemory-policy is "allkeys-lru".* — fix: run `redis-cli CONFIG SET maxmemory-policy noeviction`/);
    } finally {
      await admin.config('SET', 'maxmemory-policy', 'noeviction');
    }

    await admin.config('SET', 'appendonly', 'no');
    try {
      const result = await runCli(['doctor'], env);
      assert.equal(result.code, 0, result.stdout);
      assert.match(lineOf(result, 'redis'), /^! redis: reachable, maxmemory-policy noeviction; Redis AOF is off .* — fix: run redis-server with `--appendonly yes/);
      assert.match(result.lines.at(-1) ?? '', /0 failed, 1 warning,/);
    } finally {
      await admin.config('SET', 'appendonly', 'yes');
    }
  });

  test('Redis unreachable: red line naming REDIS_URL, the rest still checked', async () => {
    const port = await freePort();
    const result = await runCli(['doctor'], { ...env, REDIS_URL: `redis://:redis-pass-doctor-0001@127.0.0.1:${port}` });
    assert.equal(result.code, 1);
    assert.match(lineOf(result, 'redis'), new RegExp(`^✖ redis: not reachable at redis://:\\*\\*\\*@127\\.0\\.0\\.1:${port}/?: ECONNREFUSED — fix: .*REDIS_URL`));
    assert.match(lineOf(result, 'ghl token'), /^✔ /);
    assert.ok(!result.stdout.includes('redis-pass-doctor-0001'));
  });

  test('alert URL unreachable, Trustpilot login and Opinion Stage key wrong: a red line each, secrets hidden', async () => {
    const port = await freePort();
    const badPassword = 'tp-doctor-wrong-password-9';
    const badKey = 'os-doctor-wrong-key-9999';
    secrets.push(badPassword, badKey);
    const result = await runCli(['doctor'], {
      ...env,
      ALERT_WEBHOOK_URL: `http://127.0.0.1:${port}/services/${ALERT_PATH_SECRET}`,
      TRUSTPILOT_PASSWORD: badPassword,
      OPINIONSTAGE_API_KEY: badKey,
    });
    assert.equal(result.code, 1);
    assert.equal(lineOf(result, 'alert url'), `✖ alert url: cannot reach 127.0.0.1:${port}: ECONNREFUSED — fix: check ALERT_WEBHOOK_URL and that the endpoint is up; until then alerts are only logged`);
    assert.match(lineOf(result, 'trustpilot api key'), /^✔ /);
    assert.match(lineOf(result, 'trustpilot business user'), /^✖ trustpilot business user: Trustpilot refused the login \(status \d+\) — fix: check TRUSTPILOT_USERNAME/);
    assert.match(lineOf(result, 'opinion stage api key'), /^✖ opinion stage api key: Opinion Stage refused the key \(status 401\) — fix: check OPINIONSTAGE_API_KEY/);
    assert.match(result.lines.at(-1) ?? '', /3 failed/);
    assertNoSecret(result);
  });

  test('nothing configured but Redis: the upstream checks are skipped, not failed', async () => {
    const result = await runCli(['doctor'], { REDIS_URL: redis.url, LOG_LEVEL: 'warn' });
    assert.equal(result.code, 0, result.stdout);
    for (const name of ['ghl token', 'ghl scopes', 'mapped custom fields', 'trustpilot api key', 'opinion stage api key', 'alert url', 'push url']) {
      assert.match(lineOf(result, name), new RegExp(`^- ${name}: skipped \\(not configured`), name);
    }
  });

  test('marketplace-app mode without GHL_APP_VERSION_ID: the config line says GHL would refuse every install', async () => {
    const oauth = { REDIS_URL: redis.url, LOG_LEVEL: 'warn', GHL_CLIENT_ID: 'client-doctor', GHL_CLIENT_SECRET: 'client-secret-doctor-0001', ENCRYPTION_KEY: Buffer.alloc(32, 6).toString('base64') };
    const without = await runCli(['doctor'], oauth);
    assert.equal(without.code, 1, without.stdout);
    assert.match(lineOf(without, 'config'), /^✖ config: .*GHL_APP_VERSION_ID is not set.* — fix: set GHL_APP_VERSION_ID/);
    const withVersion = await runCli(['doctor'], { ...oauth, GHL_APP_VERSION_ID: 'ver-doctor-0001' });
    assert.match(lineOf(withVersion, 'config'), /^✔ config: environment valid; marketplace-app \(OAuth\) mode/);
  });

  test('a spent GHL budget: the red line says until when, in the dashboard\'s words', async () => {
    // One call a day: the first probe takes it, the second finds the budget spent until midnight.
    const result = await runCli(['doctor'], { ...env, REDIS_PREFIX: `doctor-budget-${randomBytes(4).toString('hex')}`, GHL_DAILY_LIMIT: '1' });
    assert.equal(result.code, 1, result.stdout);
    const line = lineOf(result, 'ghl token');
    const midnight = new Date().setUTCHours(24, 0, 0, 0);
    const failedAt = Date.now();
    const dashboard = explainFailure(new RateBudgetExceededError('ghl', midnight - failedAt, 'day').message, LOCATION_ID, failedAt);
    assert.equal(dashboard.what, 'The GHL call budget is spent until 00:00 UTC.');
    assert.equal(line, `✖ ghl token: ${dashboard.what} — fix: ${dashboard.todo}`);
  });

  test('marketplace-app mode: a location whose refresh GHL refused is a red line, in the dashboard\'s words', async () => {
    const prefix = `doctor-oauth-${randomBytes(4).toString('hex')}`;
    const key = Buffer.alloc(32, 7);
    const store = createOAuthTokenStore({ redis: admin, prefix, encryptionKeys: [key] });
    const token = { accessToken: 'at-doctor-0001', refreshToken: 'rt-doctor-0001', expiresAt: Date.now() + 3_600_000, userType: 'Location' as const };
    await store.set('locOAuthFine000000001', token);
    await store.set('locOAuthGone000000001', { ...token, needsReconnect: true });
    secrets.push('at-doctor-0001', 'rt-doctor-0001');
    const oauth = { REDIS_URL: redis.url, REDIS_PREFIX: prefix, LOG_LEVEL: 'warn', GHL_CLIENT_ID: 'client-doctor', GHL_CLIENT_SECRET: 'client-secret-doctor-0001', GHL_APP_VERSION_ID: 'ver-doctor-0001', ENCRYPTION_KEY: key.toString('base64') };
    const result = await runCli(['doctor'], oauth);
    assert.equal(result.code, 1, result.stdout);
    const lines = result.lines.filter((line) => line.includes('ghl installs'));
    assert.equal(lines.length, 1, result.stdout);
    const dashboard = explainFailure('the GHL install for locOAuthGone000000001 must be reconnected: its refresh was refused', 'locOAuthGone000000001');
    assert.equal(lines[0], `✖ ghl installs: ${dashboard.what} — fix: ${dashboard.todo.replace(/ Then replay\.$/, '')}`);
    assert.match(dashboard.todo, /^Reconnect location locOAuthGone000000001: open \/oauth\/install/);
    assertNoSecret(result);
  });

  test("each location's own connection is checked like the environment's, on its own line, secrets hidden", async () => {
    const prefix = `doctor-connections-${randomBytes(4).toString('hex')}`;
    const key = randomBytes(32);
    const store = createLocationConnectionStore(admin, prefix, [key]);
    const wrongPassword = 'tp-doctor-conn-wrong-password-1';
    const wrongKey = 'os-doctor-conn-wrong-key-00001';
    const webhookSecret = 'os-doctor-conn-webhook-secret-1';
    secrets.push(wrongPassword, wrongKey, webhookSecret);
    await store.set('trustpilot', 'locConnGood000000001', TRUSTPILOT);
    await store.set('trustpilot', 'locConnBad0000000001', { ...TRUSTPILOT, password: wrongPassword });
    await store.set('opinionstage', 'locConnBad0000000001', { apiKey: wrongKey, itemIds: ['item-doctor'], webhookSecret });
    await createLocationConnectionStore(admin, prefix, [randomBytes(32)]).set('opinionstage', 'locConnLost000000001', { apiKey: wrongKey, itemIds: ['item-lost'], webhookSecret });
    const result = await runCli(['doctor'], { ...env, REDIS_PREFIX: prefix, ENCRYPTION_KEY: key.toString('base64') });
    assert.equal(result.code, 1, result.stdout);
    assert.match(lineOf(result, 'trustpilot business unit (location locConnGood000000001)'), /^✔ .*bu_doctor_own/);
    assert.match(lineOf(result, 'trustpilot business user (location locConnGood000000001)'), /^✔ .*token obtained/);
    assert.match(lineOf(result, 'trustpilot api key (location locConnBad0000000001)'), /^✔ /);
    assert.match(lineOf(result, 'trustpilot business user (location locConnBad0000000001)'), /^✖ .*Trustpilot refused the login .* — fix: .*\(here: the values of location locConnBad0000000001's own connection/);
    assert.match(lineOf(result, 'opinion stage api key (location locConnBad0000000001)'), /^✖ .*Opinion Stage refused the key/);
    assert.match(lineOf(result, 'opinionstage connection (location locConnLost000000001)'), /^✖ .*no ENCRYPTION_KEY opens it/);
    assert.match(lineOf(result, 'trustpilot business user'), /^✔ /, "the environment's own lines are unchanged");
    assert.match(result.lines.at(-1) ?? '', /3 failed/);
    assertNoSecret(result);
  });

  test('an unexpected argument: usage, exit 2', async () => {
    const result = await runCli(['doctor', '--fix'], env);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /usage: ghl-bridge doctor/);
  });
});
