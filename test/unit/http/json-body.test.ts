import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_JSON_DEPTH, parseJsonBody } from '../../../src/http/json-body.js';

const parsed = (raw: Buffer) => {
  const result = parseJsonBody(raw);
  assert.ok(result.ok, result.ok ? '' : result.message);
  return result.value;
};

test('plain ASCII and non-ASCII UTF-8 bodies read as the same text', () => {
  assert.deepEqual(parsed(Buffer.from('{"firstName":"Jose","n":1}')), { firstName: 'Jose', n: 1 });
  assert.deepEqual(parsed(Buffer.from('{"firstName":"José","note":"👍 ok","city":"Zürich"}', 'utf8')), { firstName: 'José', note: '👍 ok', city: 'Zürich' });
  // Escapes are JSON's business, not the decoder's.
  assert.deepEqual(parsed(Buffer.from('{"a":"\\u00e9"}')), { a: 'é' });
});

test('bytes that are not UTF-8 are refused, never read as Latin-1', () => {
  // "José" in Latin-1: 0xE9 alone is not UTF-8.
  const latin1 = Buffer.from('{"firstName":"José"}', 'latin1');
  assert.deepEqual(parseJsonBody(latin1), { ok: false, message: 'the body is not valid UTF-8' });
  assert.deepEqual(parseJsonBody(Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d])), { ok: false, message: 'the body is not valid UTF-8' });
});

test('a leading byte order mark is left out', () => {
  assert.deepEqual(parsed(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"a":1}')])), { a: 1 });
});

test('invalid JSON and deep nesting are refused with a message', () => {
  const invalid = parseJsonBody(Buffer.from('{"a":'));
  assert.equal(invalid.ok, false);
  const deep = parseJsonBody(Buffer.from(`${'['.repeat(MAX_JSON_DEPTH + 1)}${']'.repeat(MAX_JSON_DEPTH + 1)}`));
  assert.deepEqual(deep, { ok: false, message: `the body nests deeper than ${MAX_JSON_DEPTH} levels` });
  assert.ok(parseJsonBody(Buffer.from(`${'['.repeat(MAX_JSON_DEPTH)}${']'.repeat(MAX_JSON_DEPTH)}`)).ok);
});
