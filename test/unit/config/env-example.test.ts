import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseEnv } from 'node:util';
import { EnvSchema, loadConfig, secretValues } from '../../../src/config/env.js';

const exampleText = readFileSync(new URL('../../../.env.example', import.meta.url), 'utf8');
const assignment = /^([A-Z][A-Z0-9_]*)=/;

test('.env.example lists exactly the variables of EnvSchema', () => {
  const listed = exampleText.split('\n').flatMap((line) => assignment.exec(line)?.[1] ?? []);
  const schemaKeys = Object.keys(EnvSchema.shape);
  const missing = schemaKeys.filter((key) => !listed.includes(key));
  const unknown = listed.filter((key) => !schemaKeys.includes(key));
  const duplicated = listed.filter((key, index) => listed.indexOf(key) !== index);
  assert.deepEqual(
    { missing, unknown, duplicated },
    { missing: [], unknown: [], duplicated: [] },
    `.env.example out of sync with src/config/env.ts: missing ${missing.join(', ') || '-'}; not in the schema ${unknown.join(', ') || '-'}; listed twice ${duplicated.join(', ') || '-'}`,
  );
});

test('every variable in .env.example has a one-line comment right above it', () => {
  const lines = exampleText.split('\n');
  const undocumented = lines.flatMap((line, index) => {
    const name = assignment.exec(line)?.[1];
    return name && !lines[index - 1]?.startsWith('# ') ? [name] : [];
  });
  assert.deepEqual(undocumented, [], `variables without a comment line: ${undocumented.join(', ')}`);
});

test('.env.example loads through loadConfig, in sandbox mode with no secrets set', () => {
  const config = loadConfig(parseEnv(exampleText));
  assert.equal(config.sandbox, true);
  assert.equal(config.PORT, 3000);
  assert.deepEqual(config.GHL_RATE_LIMIT, { max: 100, windowMs: 10_000 });
  assert.equal(config.REDIS_URL, undefined);
  assert.deepEqual(secretValues(config), []);
});
