import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { bodyHash } from '../../../src/webhooks/body-hash.js';

describe('bodyHash', () => {
  test('is the SHA-256 of the raw bytes, in hex', () => {
    assert.equal(bodyHash(Buffer.alloc(0)), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    assert.equal(bodyHash(Buffer.from('abc')), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  test('the same bytes give the same hash; one changed byte or different whitespace gives another', () => {
    const body = Buffer.from('{"type":"ContactUpdate","id":"c1"}');
    assert.equal(bodyHash(body), bodyHash(Buffer.from(body)));
    assert.notEqual(bodyHash(body), bodyHash(Buffer.from('{"type":"ContactUpdate","id":"c2"}')));
    assert.notEqual(bodyHash(body), bodyHash(Buffer.from('{"type": "ContactUpdate","id":"c1"}')));
  });
});
