/** The checked-in OpenAPI file is what the route schemas generate today. */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { buildOpenApiDocument, serializeOpenApi } from '../../../src/http/openapi.js';

test('openapi/openapi.json matches the route schemas (run `npm run openapi` when this fails)', async () => {
  const pkg = JSON.parse(await readFile(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  const generated = serializeOpenApi(await buildOpenApiDocument(pkg.version));
  const checkedIn = await readFile(new URL('../../../openapi/openapi.json', import.meta.url), 'utf8');
  assert.equal(checkedIn, generated);
  const document = JSON.parse(generated) as { paths: Record<string, Record<string, { responses: Record<string, unknown> }>> };
  for (const path of ['/webhooks/ghl', '/webhooks/ghl/workflow', '/health', '/ready', '/metrics']) assert.ok(document.paths[path], `${path} is documented`);
  const ingest = document.paths['/webhooks/ghl']?.post;
  assert.deepEqual(Object.keys(ingest?.responses ?? {}).sort(), ['200', '400', '401', '403', '413', '415', '429']);
});

test('openapi/mapping.schema.json matches the mapping schema, and the defaults validate against it', async () => {
  const { mappingJsonSchema, DEFAULT_MAPPING, parseMapping } = await import('../../../src/config/mapping.js');
  const checkedIn = await readFile(new URL('../../../openapi/mapping.schema.json', import.meta.url), 'utf8');
  assert.equal(checkedIn, serializeOpenApi(mappingJsonSchema()));
  assert.deepEqual(parseMapping(JSON.parse(JSON.stringify(DEFAULT_MAPPING))), DEFAULT_MAPPING);
  assert.throws(() => parseMapping({ trustpilot: { fields: { reviewStars: 'not a key' } } }), /trustpilot\.fields\.reviewStars/);
});
