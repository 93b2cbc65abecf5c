import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { EnvSchema, loadConfig, secretValues } from '../../../src/config/env.js';
import {
  ConfigDocsError,
  SECRET_VARIABLES,
  extractConfigSection,
  formatDefault,
  generateConfigDocs,
  parseEnvGroups,
  replaceConfigSection,
} from '../../../scripts/generate-config-docs.js';

const exampleText = readFileSync(new URL('../../../.env.example', import.meta.url), 'utf8');
const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
const schemaKeys = Object.keys(EnvSchema.shape);
const shape: Record<string, z.ZodType> = EnvSchema.shape;

test("README's configuration reference matches the schema (run `npm run docs:config` when this fails)", () => {
  assert.equal(extractConfigSection(readme), generateConfigDocs(exampleText));
});

test('every EnvSchema variable appears in the README table exactly once', () => {
  const rows = extractConfigSection(readme)
    .split('\n')
    .flatMap((line) => /^\| `([A-Z][A-Z0-9_]*)`/.exec(line)?.[1] ?? []);
  const missing = schemaKeys.filter((key) => !rows.includes(key));
  const unknown = rows.filter((key) => !schemaKeys.includes(key));
  const duplicated = rows.filter((key, index) => rows.indexOf(key) !== index);
  assert.deepEqual({ missing, unknown, duplicated }, { missing: [], unknown: [], duplicated: [] });
});

test('every EnvSchema variable has a non-empty description', () => {
  const undescribed = schemaKeys.filter((key) => !shape[key]?.description?.trim());
  assert.deepEqual(undescribed, []);
});

test('the secret list matches secretValues() and the descriptions that say "secret"', () => {
  const source: Record<string, string> = { GHL_LOCATION_ID: 'loc-1' };
  for (const key of SECRET_VARIABLES) source[key] = `value-of-${key.toLowerCase()}-0123456789`;
  source.ENCRYPTION_KEY = Buffer.alloc(32, 7).toString('base64');
  const collected = secretValues(loadConfig(source));
  assert.deepEqual([...collected].sort(), SECRET_VARIABLES.map((key) => source[key]).sort());

  const saysSecret = schemaKeys.filter((key) => /\bsecret\)/.test(shape[key]?.description ?? ''));
  assert.deepEqual([...saysSecret].sort(), [...SECRET_VARIABLES].sort());
});

test('groups follow .env.example headers; variables it lacks go under Other', () => {
  const text = ['# intro', '# --- One ---', '# a', 'B=1', 'A=', '', '# --- Empty ---', '# --- Two ---', 'C=x', 'UNKNOWN=1'].join('\n');
  assert.deepEqual(parseEnvGroups(text, ['A', 'B', 'C', 'D']), [
    { name: 'One', variables: ['B', 'A'] },
    { name: 'Two', variables: ['C'] },
    { name: 'Other', variables: ['D'] },
  ]);
});

test('defaults are shown as they would be written in .env', () => {
  assert.equal(formatDefault(EnvSchema.shape.PORT), '`3000`');
  assert.equal(formatDefault(EnvSchema.shape.RECONCILE_INTERVAL), '`15m`');
  assert.equal(formatDefault(EnvSchema.shape.RETRY_HORIZON), '`24h`');
  assert.equal(formatDefault(EnvSchema.shape.GHL_RATE_LIMIT), '`100/10`');
  assert.equal(formatDefault(EnvSchema.shape.DRY_RUN), '`false`');
  assert.equal(formatDefault(EnvSchema.shape.OPINIONSTAGE_ITEM_IDS), 'none');
  assert.equal(formatDefault(EnvSchema.shape.GHL_PRIVATE_TOKEN), 'none');
  assert.equal(formatDefault(EnvSchema.shape.GHL_WEBHOOK_PUBLIC_KEY), 'built-in PEM key');
  assert.equal(formatDefault(z.string().transform((text) => text.length).default(250)), '`250ms`');
  assert.equal(formatDefault(z.string()), 'none');
});

test('replacing the section keeps the rest of README and round-trips through extract', () => {
  const before = 'intro\n<!-- config:start -->\nold table\n<!-- config:end -->\noutro\n';
  const after = replaceConfigSection(before, 'new | table');
  assert.equal(after, 'intro\n<!-- config:start -->\nnew | table\n<!-- config:end -->\noutro\n');
  assert.equal(extractConfigSection(after), 'new | table');
});

test('a README without the markers is a ConfigDocsError', () => {
  assert.throws(() => extractConfigSection('no markers here'), (error: unknown) => error instanceof ConfigDocsError && error.code === 'CONFIG_DOCS_INVALID');
  assert.throws(() => replaceConfigSection('<!-- config:end --> <!-- config:start -->', 'x'), ConfigDocsError);
});
