/** `ghl-bridge setup-fields --location ID` as a child process against the GHL simulator. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DEFAULT_MAPPING, mappedFieldKeys } from '../../../src/config/mapping.js';
import { startGhlSimulator, type GhlSimulator } from '../../../src/sandbox/ghl/simulator.js';
import { runCli } from './run-cli.js';

const LOCATION_ID = 'locSetupFields0000001';
const TOKEN = 'pit-setup-fields-token-01';

describe('ghl-bridge setup-fields', () => {
  let ghl: GhlSimulator;
  let env: Record<string, string>;
  const keys = mappedFieldKeys(DEFAULT_MAPPING);

  before(async () => {
    ghl = await startGhlSimulator({ locations: [{ id: LOCATION_ID, token: TOKEN }] });
    env = { GHL_API_BASE_URL: ghl.url, GHL_PRIVATE_TOKEN: TOKEN, GHL_LOCATION_ID: LOCATION_ID, LOG_LEVEL: 'warn' };
  });

  after(() => ghl.close());

  const fieldKeys = () => ghl.store.listCustomFields(LOCATION_ID).map((field) => field.fieldKey);

  test('without --location: usage, exit 2, nothing created', async () => {
    const result = await runCli(['setup-fields'], env);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /--location is required/);
    assert.match(result.stderr, /usage: ghl-bridge setup-fields --location/);
    assert.deepEqual(fieldKeys(), []);
  });

  test('a location the bridge does not serve: exit 1 with a clear line, no GHL call', async () => {
    const before = ghl.calls.length;
    const result = await runCli(['setup-fields', '--location', 'locNotOurs0000000001'], env);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /location locNotOurs0000000001 is not served by this bridge/);
    assert.equal(ghl.calls.length, before);
  });

  test('no GHL credentials: exit 1 naming the variables', async () => {
    const result = await runCli(['setup-fields', '--location', LOCATION_ID], { GHL_API_BASE_URL: ghl.url, LOG_LEVEL: 'warn' });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /GHL_PRIVATE_TOKEN and GHL_LOCATION_ID/);
  });

  test('creates every mapped field, one line each, then reports them as existing', async () => {
    const first = await runCli(['setup-fields', '--location', LOCATION_ID], env);
    assert.equal(first.code, 0, first.stderr);
    assert.deepEqual(first.lines.filter((line) => line.startsWith('created ')).sort(), keys.map((key) => `created ${key}`).sort());
    assert.equal(first.lines.at(-1), `${keys.length} created, 0 already there`);
    assert.deepEqual(fieldKeys().sort(), [...keys].sort(), 'the simulator holds the fields');
    const stars = ghl.store.findCustomField(LOCATION_ID, 'contact.trustpilot_review_stars');
    assert.equal(stars?.dataType, 'NUMERICAL');

    const second = await runCli(['setup-fields', '--location', LOCATION_ID], env);
    assert.equal(second.code, 0, second.stderr);
    assert.deepEqual(second.lines.filter((line) => line.startsWith('exists ')).sort(), keys.map((key) => `exists ${key}`).sort());
    assert.ok(!second.lines.some((line) => line.startsWith('created ')));
    assert.equal(fieldKeys().length, keys.length, 'nothing created twice');
  });

  test('GHL refuses: exit 1 with the call and status, never the token', async () => {
    const clear = ghl.injectFault({ fault: { kind: 'status', status: 403, body: { statusCode: 403, message: 'forbidden' } }, method: 'GET', path: /\/customFields$/ });
    try {
      const result = await runCli(['setup-fields', '--location', LOCATION_ID], env);
      assert.equal(result.code, 1);
      assert.match(result.stderr, /GHL refused GET \/locations\/locSetupFields0000001\/customFields: status 403/);
      assert.ok(!`${result.stdout}${result.stderr}`.includes(TOKEN));
    } finally {
      clear();
    }
  });
});
