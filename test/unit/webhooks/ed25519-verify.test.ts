import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey, generateKeyPairSync, sign as cryptoSign, type KeyObject } from 'node:crypto';
import { createRequire } from 'node:module';
import { GHL_ED25519_PUBLIC_KEY_PEM } from '../../../src/config/ghl-published-keys.js';
import { createEd25519Verifier, ed25519KeyProblem } from '../../../src/webhooks/ed25519-verify.js';
import { createGhlSignatureVerifier, GhlSignatureKeyError } from '../../../src/webhooks/ghl-signature.js';
import { createTestSigner } from '../../helpers/ghl-signing.js';

type Sodium = { crypto_sign_verify_detached(signature: Buffer, message: Buffer, publicKey: Buffer): boolean };
/** sodium-native is optional: where its binary cannot load, the libsodium side of these tests is skipped. */
const sodium = ((): Sodium | undefined => {
  try {
    return createRequire(import.meta.url)('sodium-native') as Sodium;
  } catch {
    return undefined;
  }
})();
const withSodium = { skip: sodium === undefined ? 'sodium-native cannot load here' : false };

const pair = generateKeyPairSync('ed25519');
const other = generateKeyPairSync('ed25519');
const message = Buffer.from(JSON.stringify({ type: 'ContactUpdate', locationId: 'loc1', id: 'c1', webhookId: 'w1' }));
const valid = cryptoSign(null, message, pair.privateKey);

const preferred = createEd25519Verifier(pair.publicKey);
const fallback = createEd25519Verifier(pair.publicKey, { backend: 'node:crypto' });

function flipped(bytes: Buffer, index: number): Buffer {
  const copy = Buffer.from(bytes);
  copy[index] = (copy[index] ?? 0) ^ 0x01;
  return copy;
}

describe('createEd25519Verifier', () => {
  test('uses libsodium where sodium-native loads, node:crypto when forced', withSodium, () => {
    assert.equal(preferred.backend, 'libsodium');
    assert.equal(fallback.backend, 'node:crypto');
  });

  const cases: { name: string; message: Buffer; signature: Buffer; expected: boolean }[] = [
    { name: 'a valid signature', message, signature: valid, expected: true },
    { name: 'a tampered body', message: flipped(message, 5), signature: valid, expected: false },
    { name: 'a signature with one bit flipped in R', message, signature: flipped(valid, 3), expected: false },
    { name: 'a signature with one bit flipped in S', message, signature: flipped(valid, 40), expected: false },
    { name: 'a signature by another key', message, signature: cryptoSign(null, message, other.privateKey), expected: false },
    { name: 'all zero bytes', message, signature: Buffer.alloc(64), expected: false },
    { name: 'all 0xff bytes (S not reduced)', message, signature: Buffer.alloc(64, 0xff), expected: false },
    { name: 'a short signature', message, signature: valid.subarray(0, 63), expected: false },
    { name: 'a long signature', message, signature: Buffer.concat([valid, Buffer.alloc(1)]), expected: false },
    { name: 'an empty signature', message, signature: Buffer.alloc(0), expected: false },
    { name: 'an empty body with its own valid signature', message: Buffer.alloc(0), signature: cryptoSign(null, Buffer.alloc(0), pair.privateKey), expected: true },
  ];
  for (const { name, message: body, signature, expected } of cases) {
    test(`both backends agree on ${name} (${expected ? 'valid' : 'invalid'})`, () => {
      assert.equal(preferred.verify(body, signature), expected);
      assert.equal(fallback.verify(body, signature), expected);
    });
  }

  test("both backends agree under GHL's published key (a foreign signature is invalid)", () => {
    const ghlKey = createPublicKey(GHL_ED25519_PUBLIC_KEY_PEM);
    for (const verifier of [createEd25519Verifier(ghlKey), createEd25519Verifier(ghlKey, { backend: 'node:crypto' })]) {
      assert.equal(verifier.verify(message, valid), false);
    }
  });

  test('a key that is not Ed25519 falls back to node:crypto, which refuses every signature', () => {
    const rsa = createPublicKey(createTestSigner().rsaPublicKeyPem);
    const verifier = createEd25519Verifier(rsa);
    assert.equal(verifier.backend, 'node:crypto');
    assert.equal(verifier.verify(message, valid), false);
  });
});

describe('createGhlSignatureVerifier: Ed25519 backends', () => {
  const signer = createTestSigner();
  const keys = { ed25519PublicKeyPem: signer.ed25519PublicKeyPem, rsaPublicKeyPem: signer.rsaPublicKeyPem };
  const verifiers = [createGhlSignatureVerifier(keys), createGhlSignatureVerifier(keys, { ed25519Backend: 'node:crypto' })];

  test('reports its backend', withSodium, () => {
    assert.deepEqual(verifiers.map((verifier) => verifier.ed25519Backend), ['libsodium', 'node:crypto']);
  });

  test('valid, invalid and malformed x-ghl-signature headers get the same answer from both', () => {
    const good = signer.sign(message, 'ed25519')['x-ghl-signature'] ?? '';
    const headerCases: [Record<string, string>, unknown][] = [
      [{ 'x-ghl-signature': good }, { ok: true, scheme: 'ed25519' }],
      [{ 'x-ghl-signature': flipped(Buffer.from(good, 'base64'), 10).toString('base64') }, { ok: false, reason: 'invalid' }],
      [{ 'x-ghl-signature': Buffer.alloc(64).toString('base64') }, { ok: false, reason: 'invalid' }],
      [{ 'x-ghl-signature': Buffer.alloc(63).toString('base64') }, { ok: false, reason: 'malformed' }],
      [{ 'x-ghl-signature': 'not base64!' }, { ok: false, reason: 'malformed' }],
      [{}, { ok: false, reason: 'missing' }],
    ];
    for (const [headers, expected] of headerCases) {
      for (const verifier of verifiers) assert.deepEqual(verifier.verify(message, headers), expected, `${verifier.ed25519Backend} on ${JSON.stringify(headers)}`);
    }
  });
});

const P = 2n ** 255n - 19n;
const Y8 = 2707385501144840649318225287225658788936804267575313519463743609750303402022n;
function encode(y: bigint, signBit: boolean): Buffer {
  const bytes = Buffer.alloc(32);
  let rest = y;
  for (let index = 0; index < 32; index++) {
    bytes[index] = Number(rest & 0xffn);
    rest >>= 8n;
  }
  if (signBit) bytes[31] = (bytes[31] ?? 0) | 0x80;
  return bytes;
}
const smallOrder = [0n, 1n, Y8, P - Y8, P - 1n, P, P + 1n].flatMap((y) => [encode(y, false), encode(y, true)]);

function keyFrom(raw: Buffer): KeyObject | undefined {
  try {
    return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') }, format: 'jwk' });
  } catch {
    return undefined;
  }
}

describe('degenerate points: the node:crypto path refuses what libsodium refuses', () => {
  test('small-order and non-canonical public keys are refused at load (node:crypto alone would accept a forgery)', () => {
    const forgery = Buffer.concat([encode(1n, false), Buffer.alloc(32)]);
    let loaded = 0;
    for (const raw of [...smallOrder, encode(P + 5n, false)]) {
      if (sodium) assert.equal(sodium.crypto_sign_verify_detached(forgery, message, raw), false, `libsodium refuses ${raw.toString('hex')}`);
      const key = keyFrom(raw);
      if (key === undefined) continue;
      loaded++;
      assert.notEqual(ed25519KeyProblem(key), undefined, raw.toString('hex'));
      const pem = key.export({ format: 'pem', type: 'spki' }).toString();
      assert.throws(() => createGhlSignatureVerifier({ ed25519PublicKeyPem: pem, rsaPublicKeyPem: createTestSigner().rsaPublicKeyPem }), GhlSignatureKeyError);
    }
    assert.ok(loaded > 0, 'node:crypto loads degenerate keys, so the check has something to refuse');
    assert.equal(ed25519KeyProblem(pair.publicKey), undefined);
  });

  test('a signature whose R has small order is invalid under both backends', () => {
    for (const r of smallOrder) {
      for (const s of [Buffer.alloc(32), valid.subarray(32)]) {
        const signature = Buffer.concat([r, s]);
        assert.equal(preferred.verify(message, signature), false);
        assert.equal(fallback.verify(message, signature), false);
      }
    }
  });
});
