import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { checkSharedSecret } from '../../../src/webhooks/shared-secret.js';

const SECRET = 's3cret-value-with-some-length';

describe('checkSharedSecret', () => {
  test('not-configured when no secret is set, whatever is sent', () => {
    assert.equal(checkSharedSecret(undefined, { 'x-webhook-token': SECRET }, {}), 'not-configured');
    assert.equal(checkSharedSecret('', {}, { token: SECRET }), 'not-configured');
  });

  test('ok with the right header', () => {
    assert.equal(checkSharedSecret(SECRET, { 'x-webhook-token': SECRET }, {}), 'ok');
  });

  test('ok with the right query parameter', () => {
    assert.equal(checkSharedSecret(SECRET, {}, { token: SECRET }), 'ok');
  });

  test('missing when neither header nor query carries a token', () => {
    assert.equal(checkSharedSecret(SECRET, {}, {}), 'missing');
    assert.equal(checkSharedSecret(SECRET, { 'x-webhook-token': '' }, { token: '' }), 'missing');
    assert.equal(checkSharedSecret(SECRET, { authorization: `Bearer ${SECRET}` }, { other: SECRET }), 'missing');
    for (const query of [undefined, null, 'token=x', 42]) assert.equal(checkSharedSecret(SECRET, {}, query), 'missing', String(query));
  });

  test('invalid with a wrong header or query value, including near misses and other lengths', () => {
    for (const wrong of ['nope', `${SECRET}x`, SECRET.slice(0, -1), SECRET.toUpperCase(), ` ${SECRET}`]) {
      assert.equal(checkSharedSecret(SECRET, { 'x-webhook-token': wrong }, {}), 'invalid', wrong);
      assert.equal(checkSharedSecret(SECRET, {}, { token: wrong }), 'invalid', wrong);
    }
  });

  test('the header decides when both are sent', () => {
    assert.equal(checkSharedSecret(SECRET, { 'x-webhook-token': 'wrong' }, { token: SECRET }), 'invalid');
    assert.equal(checkSharedSecret(SECRET, { 'x-webhook-token': SECRET }, { token: 'wrong' }), 'ok');
  });

  test('a repeated value counts only when every copy matches', () => {
    assert.equal(checkSharedSecret(SECRET, {}, { token: [SECRET, SECRET] }), 'ok');
    assert.equal(checkSharedSecret(SECRET, {}, { token: [SECRET, 'other'] }), 'invalid');
    assert.equal(checkSharedSecret(SECRET, { 'x-webhook-token': ['other', SECRET] }, {}), 'invalid');
    assert.equal(checkSharedSecret(SECRET, {}, { token: { nested: SECRET } }), 'invalid');
    assert.equal(checkSharedSecret(SECRET, {}, { token: [] }), 'missing');
  });

  test('non-ASCII secrets compare by their UTF-8 bytes', () => {
    assert.equal(checkSharedSecret('geheim-ß-ü', { 'x-webhook-token': 'geheim-ß-ü' }, {}), 'ok');
    assert.equal(checkSharedSecret('geheim-ß-ü', { 'x-webhook-token': 'geheim-ss-u' }, {}), 'invalid');
  });
});
