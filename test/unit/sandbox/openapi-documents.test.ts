/**
 * Loading GHL's OpenAPI documents: `$ref`s resolved across files, OpenAPI's `nullable` turned into a
 * null type, request bodies closed, overlay entries put in place (and refused when their target is
 * gone), and every operation of the copied documents compiles.
 */
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { GHL_DOCUMENTS, loadGhlOperations } from '../../../src/sandbox/ghl/openapi-documents.js';
import { SCHEMA_OVERLAY } from '../../../src/sandbox/ghl/openapi-overlay.js';
import { createGhlRequestValidator } from '../../../src/sandbox/ghl/openapi-validator.js';

const root = mkdtempSync(join(tmpdir(), 'ghl-openapi-'));
mkdirSync(join(root, 'apps'));
mkdirSync(join(root, 'common'));
writeFileSync(
  join(root, 'common/common.json'),
  JSON.stringify({ components: { schemas: { Name: { type: 'string', nullable: true, example: 'Ada' } } } }),
);
writeFileSync(
  join(root, 'apps/people.json'),
  JSON.stringify({
    openapi: '3.0.0',
    paths: {
      '/people/{id}': {
        put: {
          operationId: 'update-person',
          parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
          requestBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/PersonDto' } } } },
          security: [{ bearer: [] }],
        },
      },
    },
    components: {
      schemas: {
        PersonDto: { type: 'object', properties: { name: { $ref: '../common/common.json#/components/schemas/Name' }, age: { type: 'number' } } },
      },
    },
  }),
);

describe('GHL OpenAPI documents', () => {
  after(() => rmSync(root, { recursive: true, force: true }));

  test('a $ref into another file is inlined, nullable becomes a null type, the body is closed', () => {
    const [operation, ...rest] = loadGhlOperations(root, {}, ['apps/people.json']);
    assert.deepEqual(rest, []);
    assert.equal(operation?.operationId, 'update-person');
    assert.equal(operation?.secured, true);
    assert.deepEqual(operation?.body?.content['application/json'], {
      type: 'object',
      properties: { name: { type: ['string', 'null'] }, age: { type: 'number' } },
      additionalProperties: false,
    });
  });

  test('an overlay entry replaces its target; one whose target is gone is refused', () => {
    const [operation] = loadGhlOperations(root, { 'apps/people.json#/components/schemas/PersonDto/properties/age': { type: 'integer' } }, ['apps/people.json']);
    assert.deepEqual(operation?.body?.content['application/json']?.properties, { name: { type: ['string', 'null'] }, age: { type: 'integer' } });
    assert.throws(
      () => loadGhlOperations(root, { 'apps/people.json#/components/schemas/Gone/properties/x': { type: 'string' } }, ['apps/people.json']),
      /overlay target apps\/people.json#\/components\/schemas\/Gone\/properties\/x does not exist/,
    );
  });

  test('the copied documents load with the overlay, and every operation compiles', () => {
    const operations = loadGhlOperations(undefined, SCHEMA_OVERLAY, GHL_DOCUMENTS);
    assert.ok(operations.length > 70, `${operations.length} operations`);
    const validator = createGhlRequestValidator();
    for (const operation of operations) {
      const concrete = operation.path.replace(/\{[^}]+\}/g, 'x1');
      const matched = validator.match(operation.method, concrete);
      assert.ok(matched, `${operation.method} ${operation.path} is matched`);
      assert.ok(Array.isArray(matched.checkInput({}, 'application/json', undefined)));
    }
  });
});
