/**
 * Ed25519 verification alone, node:crypto against libsodium (sodium-native), on the benchmark's own
 * signed bodies, in this process. Time-based and interleaved: rounds of each in turn, so a busy
 * neighbour slows both alike; the median round of each is reported.
 */
import { createPublicKey, verify as cryptoVerify } from 'node:crypto';
import type { PreparedRequest } from './load.js';
import { median } from './report.js';
import { loadSodiumVerify } from './sodium.js';

export interface VerifierFigures {
  nodeUs: number;
  sodiumUs?: number;
  /** Why sodium was not measured. */
  sodiumError?: string;
  rounds: number;
}

/** Runs `fn` over the bodies for `ms`; µs per call. */
function timed(ms: number, bodies: { message: Buffer; signature: Buffer }[], fn: (message: Buffer, signature: Buffer) => boolean): number {
  let calls = 0;
  const started = performance.now();
  let now = started;
  while (now - started < ms) {
    for (let i = 0; i < 200; i++) {
      const body = bodies[calls % bodies.length];
      if (body && !fn(body.message, body.signature)) throw new Error('a valid signature did not verify');
      calls++;
    }
    now = performance.now();
  }
  return ((now - started) * 1000) / calls;
}

export function compareVerifiers(requests: PreparedRequest[], publicKeyPem: string, roundMs = 1_000, rounds = 5): VerifierFigures {
  const key = createPublicKey({ key: publicKeyPem, format: 'pem' });
  // An Ed25519 SPKI is a fixed 12-byte header and the 32-byte raw key.
  const rawKey = key.export({ type: 'spki', format: 'der' }).subarray(-32);
  const bodies = requests.slice(0, 2_000).map((request) => ({ message: Buffer.from(request.body, 'utf8'), signature: Buffer.from(request.headers['x-ghl-signature'] ?? '', 'base64') }));
  const sodium = loadSodiumVerify();
  const nodeRounds: number[] = [];
  const sodiumRounds: number[] = [];
  for (let round = 0; round < rounds; round++) {
    nodeRounds.push(timed(roundMs, bodies, (message, signature) => cryptoVerify(null, message, key, signature)));
    if ('verify' in sodium) sodiumRounds.push(timed(roundMs, bodies, (message, signature) => sodium.verify(signature, message, rawKey)));
  }
  return 'verify' in sodium ? { nodeUs: median(nodeRounds), sodiumUs: median(sodiumRounds), rounds } : { nodeUs: median(nodeRounds), sodiumError: sodium.error, rounds };
}
