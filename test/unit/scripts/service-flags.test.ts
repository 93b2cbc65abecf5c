/**
 * The service's V8 memory flags: one list for `npm start` and the benchmarks, copied into the
 * Dockerfile's NODE_OPTIONS (kept equal here), and never overriding what an operator set.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { SERVICE_NODE_FLAGS, serviceNodeFlags } from '../../../scripts/lib/service-flags.mjs';

test('the Dockerfile runs the service with the same V8 flags as npm start', () => {
  const dockerfile = readFileSync(new URL('../../../Dockerfile', import.meta.url), 'utf8');
  const match = /^ENV NODE_OPTIONS="([^"]*)"$/m.exec(dockerfile);
  assert.ok(match, 'Dockerfile sets NODE_OPTIONS');
  assert.deepEqual(match[1]?.split(' '), SERVICE_NODE_FLAGS);
});

test('every flag is a heap size in MB that node accepts', () => {
  for (const flag of SERVICE_NODE_FLAGS) assert.match(flag, /^--max-(semi|old)-space-size=\d+$/);
  assert.ok(process.allowedNodeEnvironmentFlags.has('--max-old-space-size'));
});

test('a flag the operator already put in NODE_OPTIONS is left to them', () => {
  assert.deepEqual(serviceNodeFlags(''), SERVICE_NODE_FLAGS);
  assert.deepEqual(
    serviceNodeFlags('--max-old-space-size=512'),
    SERVICE_NODE_FLAGS.filter((flag) => !flag.startsWith('--max-old-space-size=')),
  );
  assert.deepEqual(serviceNodeFlags('--enable-source-maps --max-semi-space-size=16 --max-old-space-size=1024'), []);
});
