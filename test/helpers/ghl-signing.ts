/**
 * Signs test bodies the way GHL does (NOTES §6.3): `x-ghl-signature` = base64 Ed25519 over the raw bytes,
 * `x-wh-signature` = base64 RSA-SHA256 (PKCS#1 v1.5, 4096-bit key like GHL's).
 */
import { generateKeyPairSync, randomUUID, sign as cryptoSign, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';

export type SigningScheme = 'both' | 'ed25519' | 'rsa';

export interface TestSigner {
  readonly ed25519PublicKeyPem: string;
  readonly rsaPublicKeyPem: string;
  /** For simulators that must sign with the same keys (e.g. `startGhlSimulator({ signingKeys })`). */
  readonly ed25519PrivateKeyPem: string;
  readonly rsaPrivateKeyPem: string;
  /** Signature headers for `body`, byte for byte as it will be sent. */
  sign(body: string | Buffer, scheme?: SigningScheme): Record<string, string>;
}

let cached: TestSigner | undefined;

/** One key pair of each kind per process: RSA-4096 generation takes about a second. */
export function createTestSigner(): TestSigner {
  cached ??= generateSigner();
  return cached;
}

function generateSigner(): TestSigner {
  const ed25519 = generateKeyPairSync('ed25519');
  const rsa = generateKeyPairSync('rsa', { modulusLength: 4096 });
  return {
    ed25519PublicKeyPem: exportPublic(ed25519.publicKey),
    rsaPublicKeyPem: exportPublic(rsa.publicKey),
    ed25519PrivateKeyPem: exportPrivate(ed25519.privateKey),
    rsaPrivateKeyPem: exportPrivate(rsa.privateKey),
    sign(body, scheme = 'both') {
      const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
      const headers: Record<string, string> = {};
      if (scheme !== 'rsa') headers['x-ghl-signature'] = cryptoSign(null, bytes, ed25519.privateKey).toString('base64');
      if (scheme !== 'ed25519') headers['x-wh-signature'] = cryptoSign('sha256', bytes, rsa.privateKey).toString('base64');
      return headers;
    },
  };
}

function exportPublic(key: KeyObject): string {
  return key.export({ type: 'spki', format: 'pem' }).toString();
}

function exportPrivate(key: KeyObject): string {
  return key.export({ type: 'pkcs8', format: 'pem' }).toString();
}

const FIXTURES = new URL('../fixtures/ghl/', import.meta.url);

/** A documented GHL example payload (`test/fixtures/ghl/<name>.example.json`), e.g. `ContactUpdate` or `AppInstall.agency`. */
export function loadGhlFixture(name: string): Record<string, unknown> {
  const parsed: unknown = JSON.parse(readFileSync(new URL(`${name}.example.json`, FIXTURES), 'utf8'));
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error(`fixture ${name} is not a JSON object`);
  return { ...parsed };
}

export interface SignedEvent {
  body: string;
  headers: Record<string, string>;
}

/**
 * A fixture as GHL would deliver it: with a fresh `webhookId` and `timestamp` (now), `overrides` applied last
 * (an override of `undefined` removes the field), serialised once and signed.
 */
export function signedEvent(fixtureName: string, overrides: Record<string, unknown> = {}, scheme: SigningScheme = 'both'): SignedEvent {
  const payload = { ...loadGhlFixture(fixtureName), webhookId: randomUUID(), timestamp: new Date().toISOString(), ...overrides };
  const body = JSON.stringify(payload);
  return { body, headers: { 'content-type': 'application/json', ...createTestSigner().sign(body, scheme) } };
}
