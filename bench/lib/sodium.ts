/**
 * libsodium's Ed25519 verify through `sodium-native` (an optional dependency: prebuilt binaries for
 * the common platforms), for the verifier comparison in bench/ingest.ts. Undefined where it cannot load.
 */
import { createRequire } from 'node:module';

export type DetachedVerify = (signature: Buffer, message: Buffer, publicKey: Buffer) => boolean;

export function loadSodiumVerify(): { verify: DetachedVerify } | { error: string } {
  try {
    const loaded: unknown = createRequire(import.meta.url)('sodium-native');
    if (typeof loaded === 'object' && loaded !== null && 'crypto_sign_verify_detached' in loaded && typeof loaded.crypto_sign_verify_detached === 'function') {
      const verify = loaded.crypto_sign_verify_detached;
      return { verify: (signature, message, publicKey) => verify(signature, message, publicKey) === true };
    }
    return { error: 'sodium-native has no crypto_sign_verify_detached' };
  } catch (error) {
    return { error: error instanceof Error ? error.message.split('\n')[0] ?? 'cannot load' : 'cannot load' };
  }
}
