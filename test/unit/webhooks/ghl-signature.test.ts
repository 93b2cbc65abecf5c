import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, sign as cryptoSign } from 'node:crypto';
import { GHL_ED25519_PUBLIC_KEY_PEM, GHL_RSA_PUBLIC_KEY_PEM } from '../../../src/config/ghl-published-keys.js';
import { createGhlSignatureVerifier, GhlSignatureKeyError } from '../../../src/webhooks/ghl-signature.js';
import { createTestSigner, signedEvent } from '../../helpers/ghl-signing.js';

const signer = createTestSigner();
const verifier = createGhlSignatureVerifier({ ed25519PublicKeyPem: signer.ed25519PublicKeyPem, rsaPublicKeyPem: signer.rsaPublicKeyPem });
const body = Buffer.from(JSON.stringify({ type: 'ContactUpdate', locationId: 'loc1', id: 'c1', webhookId: 'w1' }));

describe('createGhlSignatureVerifier: verify', () => {
  test('accepts a valid Ed25519 x-ghl-signature', () => {
    assert.deepEqual(verifier.verify(body, signer.sign(body, 'ed25519')), { ok: true, scheme: 'ed25519' });
  });

  test('accepts a valid RSA x-wh-signature when there is no x-ghl-signature', () => {
    assert.deepEqual(verifier.verify(body, signer.sign(body, 'rsa')), { ok: true, scheme: 'rsa' });
  });

  test('uses Ed25519 when both headers are present', () => {
    assert.deepEqual(verifier.verify(body, signer.sign(body, 'both')), { ok: true, scheme: 'ed25519' });
  });

  test('a wrong x-ghl-signature is invalid even when x-wh-signature is valid (no fallback)', () => {
    const other = Buffer.from('{"other":true}');
    const headers = { 'x-ghl-signature': signer.sign(other, 'ed25519')['x-ghl-signature'], 'x-wh-signature': signer.sign(body, 'rsa')['x-wh-signature'] };
    assert.deepEqual(verifier.verify(body, headers), { ok: false, reason: 'invalid' });
  });

  test('a malformed x-ghl-signature does not fall back to a valid x-wh-signature either', () => {
    const headers = { 'x-ghl-signature': 'abc', 'x-wh-signature': signer.sign(body, 'rsa')['x-wh-signature'] };
    assert.deepEqual(verifier.verify(body, headers), { ok: false, reason: 'malformed' });
  });

  test('a body changed by one byte is invalid under either scheme', () => {
    for (const scheme of ['ed25519', 'rsa'] as const) {
      const headers = signer.sign(body, scheme);
      const tampered = Buffer.from(body);
      tampered[10] = (tampered[10] ?? 0) ^ 0x01;
      assert.deepEqual(verifier.verify(tampered, headers), { ok: false, reason: 'invalid' }, scheme);
      assert.deepEqual(verifier.verify(body, headers), { ok: true, scheme }, `${scheme} untouched`);
    }
  });

  test('verifies the raw bytes, not a re-serialisation', () => {
    const spaced = Buffer.from('{ "type": "ContactUpdate",  "id": "c1" }');
    const compact = Buffer.from(JSON.stringify(JSON.parse(spaced.toString())));
    const headers = signer.sign(spaced, 'both');
    assert.deepEqual(verifier.verify(spaced, headers), { ok: true, scheme: 'ed25519' });
    assert.deepEqual(verifier.verify(compact, headers), { ok: false, reason: 'invalid' });
  });

  test('no signature header at all is missing', () => {
    assert.deepEqual(verifier.verify(body, {}), { ok: false, reason: 'missing' });
    assert.deepEqual(verifier.verify(body, { 'content-type': 'application/json', 'x-ghl-signature': undefined }), { ok: false, reason: 'missing' });
  });

  test('x-ghl-signature "N/A" (or blank) is treated as absent and falls through to RSA', () => {
    const rsa = signer.sign(body, 'rsa');
    for (const placeholder of ['N/A', 'n/a', ' N/A ', '']) {
      assert.deepEqual(verifier.verify(body, { 'x-ghl-signature': placeholder, ...rsa }), { ok: true, scheme: 'rsa' }, JSON.stringify(placeholder));
      assert.deepEqual(verifier.verify(body, { 'x-ghl-signature': placeholder }), { ok: false, reason: 'missing' }, JSON.stringify(placeholder));
    }
    assert.deepEqual(verifier.verify(body, { 'x-ghl-signature': 'N/A', 'x-wh-signature': 'N/A' }), { ok: false, reason: 'missing' });
  });

  test('malformed base64 or a signature of the wrong length is malformed, never a throw', () => {
    const cases: Array<[string, string]> = [
      ['x-ghl-signature', 'not base64!!'],
      ['x-ghl-signature', '%%%%'],
      ['x-ghl-signature', 'QUJD'], // valid base64, 3 bytes
      ['x-ghl-signature', Buffer.alloc(65).toString('base64')],
      ['x-ghl-signature', 'A'.repeat(10_000)],
      ['x-ghl-signature', `${Buffer.alloc(64).toString('base64')}\u0000`],
      ['x-wh-signature', '****'],
      ['x-wh-signature', Buffer.alloc(256).toString('base64')], // an RSA-2048-sized signature
      ['x-wh-signature', Buffer.alloc(64).toString('base64')],
    ];
    for (const [header, value] of cases) {
      assert.deepEqual(verifier.verify(body, { [header]: value }), { ok: false, reason: 'malformed' }, `${header}: ${value.slice(0, 20)}`);
    }
  });

  test('a well-formed signature of the right length that does not verify is invalid', () => {
    assert.deepEqual(verifier.verify(body, { 'x-ghl-signature': Buffer.alloc(64).toString('base64') }), { ok: false, reason: 'invalid' });
    assert.deepEqual(verifier.verify(body, { 'x-wh-signature': Buffer.alloc(512).toString('base64') }), { ok: false, reason: 'invalid' });
  });

  test('a signature made with another key is invalid', () => {
    const stranger = generateKeyPairSync('ed25519');
    const foreign = cryptoSign(null, body, stranger.privateKey).toString('base64');
    assert.deepEqual(verifier.verify(body, { 'x-ghl-signature': foreign }), { ok: false, reason: 'invalid' });
    // Our test RSA signature, checked against GHL's real 4096-bit key: right length, wrong key.
    const ghlVerifier = createGhlSignatureVerifier({ ed25519PublicKeyPem: GHL_ED25519_PUBLIC_KEY_PEM, rsaPublicKeyPem: GHL_RSA_PUBLIC_KEY_PEM });
    assert.deepEqual(ghlVerifier.verify(body, signer.sign(body, 'rsa')), { ok: false, reason: 'invalid' });
    assert.deepEqual(ghlVerifier.verify(body, signer.sign(body, 'ed25519')), { ok: false, reason: 'invalid' });
  });

  test('a repeated signature header is malformed; a single-element array is read as the value', () => {
    const ed = signer.sign(body, 'ed25519')['x-ghl-signature'] ?? '';
    assert.deepEqual(verifier.verify(body, { 'x-ghl-signature': [ed, ed] }), { ok: false, reason: 'malformed' });
    assert.deepEqual(verifier.verify(body, { 'x-ghl-signature': [ed] }), { ok: true, scheme: 'ed25519' });
    assert.deepEqual(verifier.verify(body, { 'x-ghl-signature': [] }), { ok: false, reason: 'missing' });
  });

  test('header names are matched without regard to case', () => {
    const ed = signer.sign(body, 'ed25519')['x-ghl-signature'] ?? '';
    assert.deepEqual(verifier.verify(body, { 'X-GHL-Signature': ed }), { ok: true, scheme: 'ed25519' });
  });

  test('an empty body is verified like any other', () => {
    const empty = Buffer.alloc(0);
    assert.deepEqual(verifier.verify(empty, signer.sign(empty, 'both')), { ok: true, scheme: 'ed25519' });
    assert.deepEqual(verifier.verify(empty, signer.sign(body, 'rsa')), { ok: false, reason: 'invalid' });
  });
});

describe('createGhlSignatureVerifier: keys', () => {
  test("GHL's published keys parse", () => {
    assert.doesNotThrow(() => createGhlSignatureVerifier({ ed25519PublicKeyPem: GHL_ED25519_PUBLIC_KEY_PEM, rsaPublicKeyPem: GHL_RSA_PUBLIC_KEY_PEM }));
  });

  test('a malformed Ed25519 key throws at creation, naming that key', () => {
    assert.throws(
      () => createGhlSignatureVerifier({ ed25519PublicKeyPem: '-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----\n', rsaPublicKeyPem: GHL_RSA_PUBLIC_KEY_PEM }),
      (error: unknown) => error instanceof GhlSignatureKeyError && error.key === 'ed25519PublicKeyPem' && error.code === 'GHL_SIGNATURE_KEY_INVALID' && error.message.includes('ed25519PublicKeyPem'),
    );
  });

  test('a malformed RSA key throws at creation, naming that key', () => {
    assert.throws(
      () => createGhlSignatureVerifier({ ed25519PublicKeyPem: GHL_ED25519_PUBLIC_KEY_PEM, rsaPublicKeyPem: 'not a pem' }),
      (error: unknown) => error instanceof GhlSignatureKeyError && error.key === 'rsaPublicKeyPem' && error.message.includes('rsaPublicKeyPem'),
    );
  });

  test('swapped keys are refused: each must be of its own kind', () => {
    assert.throws(
      () => createGhlSignatureVerifier({ ed25519PublicKeyPem: GHL_RSA_PUBLIC_KEY_PEM, rsaPublicKeyPem: GHL_ED25519_PUBLIC_KEY_PEM }),
      (error: unknown) => error instanceof GhlSignatureKeyError && error.key === 'ed25519PublicKeyPem' && /found a rsa key/.test(error.message),
    );
    assert.throws(
      () => createGhlSignatureVerifier({ ed25519PublicKeyPem: GHL_ED25519_PUBLIC_KEY_PEM, rsaPublicKeyPem: GHL_ED25519_PUBLIC_KEY_PEM }),
      (error: unknown) => error instanceof GhlSignatureKeyError && error.key === 'rsaPublicKeyPem' && /found a ed25519 key/.test(error.message),
    );
  });
});

describe('test helper signedEvent', () => {
  test('returns a fixture with a fresh webhookId and timestamp, overrides applied, signed over the exact body', () => {
    const before = Date.now();
    const { body: text, headers } = signedEvent('TaskCreate', { contactId: undefined, title: 'Call back' });
    const parsed: unknown = JSON.parse(text);
    assert.ok(typeof parsed === 'object' && parsed !== null);
    const event = new Map(Object.entries(parsed));
    assert.equal(event.get('type'), 'TaskCreate');
    assert.equal(event.get('title'), 'Call back');
    assert.equal(event.has('contactId'), false);
    assert.match(String(event.get('webhookId')), /^[0-9a-f-]{36}$/);
    assert.ok(Date.parse(String(event.get('timestamp'))) >= before - 1000);
    assert.equal(headers['content-type'], 'application/json');
    assert.deepEqual(verifier.verify(Buffer.from(text), headers), { ok: true, scheme: 'ed25519' });
    assert.notEqual(signedEvent('TaskCreate').body, signedEvent('TaskCreate').body, 'each call gets a new webhookId');
  });

  test('signs with one scheme when asked', () => {
    const { body: text, headers } = signedEvent('ContactUpdate', {}, 'rsa');
    assert.equal(headers['x-ghl-signature'], undefined);
    assert.deepEqual(verifier.verify(Buffer.from(text), headers), { ok: true, scheme: 'rsa' });
  });
});
