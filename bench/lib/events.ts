/**
 * Signed GHL webhook bodies for the load generator: built once, before the clock starts, since an
 * RSA-4096 signature costs milliseconds and the generator must not spend its core on signing.
 */
import { randomUUID } from 'node:crypto';
import { createTestSigner, loadGhlFixture, type SigningScheme } from '../../test/helpers/ghl-signing.js';
import type { PreparedRequest } from './load.js';

export function signedContactEvents(count: number, scheme: SigningScheme, overrides: Record<string, unknown>, type = 'ContactUpdate'): PreparedRequest[] {
  const signer = createTestSigner();
  const fixture = loadGhlFixture(type);
  const requests: PreparedRequest[] = [];
  for (let i = 0; i < count; i++) {
    const body = JSON.stringify({ ...fixture, webhookId: randomUUID(), timestamp: new Date().toISOString(), ...overrides });
    requests.push({ body, headers: { 'content-type': 'application/json', ...signer.sign(body, scheme) } });
  }
  return requests;
}
