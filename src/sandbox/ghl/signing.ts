/**
 * Webhook signatures as GHL's webhook documentation describes them: `x-ghl-signature` = base64 Ed25519 over the raw
 * body; legacy `x-wh-signature` = base64 RSA-SHA256 (PKCS#1 v1.5) with a 4096-bit key like GHL's.
 */
import { createPrivateKey, createPublicKey, generateKeyPair, sign, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';

export type WebhookSignatureMode = 'both' | 'ed25519' | 'rsa' | 'none';

export interface SigningKeyPems {
  ed25519PrivateKeyPem: string;
  rsaPrivateKeyPem: string;
}

export interface WebhookSigner {
  /** PEM SPKI public keys, what a receiver verifies with. */
  readonly publicKeys: { ed25519: string; rsa: string };
  headers(body: Buffer, mode: WebhookSignatureMode): Record<string, string>;
}

const generate = promisify(generateKeyPair);

let generatedPems: Promise<SigningKeyPems> | undefined;

// RSA-4096 generation takes about a second, so the pair is made once per process and shared.
// The async generator keeps the event loop free meanwhile (other servers in a test keep serving).
function processKeyPems(): Promise<SigningKeyPems> {
  generatedPems ??= Promise.all([
    generate('ed25519', {
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    }),
    generate('rsa', {
      modulusLength: 4096,
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    }),
  ]).then(([ed, rsa]) => ({ ed25519PrivateKeyPem: ed.privateKey, rsaPrivateKeyPem: rsa.privateKey }));
  return generatedPems;
}

function publicPem(privateKey: KeyObject): string {
  const pem = createPublicKey(privateKey).export({ type: 'spki', format: 'pem' });
  return typeof pem === 'string' ? pem : pem.toString('utf8');
}

export async function createWebhookSigner(pems?: SigningKeyPems): Promise<WebhookSigner> {
  const source = pems ?? (await processKeyPems());
  const ed25519 = createPrivateKey(source.ed25519PrivateKeyPem);
  const rsa = createPrivateKey(source.rsaPrivateKeyPem);
  return {
    publicKeys: { ed25519: publicPem(ed25519), rsa: publicPem(rsa) },
    headers(body, mode) {
      const headers: Record<string, string> = {};
      if (mode === 'both' || mode === 'ed25519') headers['x-ghl-signature'] = sign(null, body, ed25519).toString('base64');
      if (mode === 'both' || mode === 'rsa') headers['x-wh-signature'] = sign('sha256', body, rsa).toString('base64');
      return headers;
    },
  };
}
