/**
 * The base of the errors a client raises itself, before any request leaves (bad input, a missing
 * credential, no token for a location). Each client lists its codes and which of them no retry can
 * fix; the class it extends is built here from that table.
 */
import { BridgeError } from '../../observability/errors.js';

export type ClientErrorClass<Code extends string> = new (code: Code, message: string) => BridgeError<Code>;

/** `permanent[code]`: retrying the same call cannot help, so the job is dead-lettered at once. */
export function clientErrorClass<Code extends string>(permanent: Readonly<Record<Code, boolean>>): ClientErrorClass<Code> {
  return class extends BridgeError<Code> {
    constructor(code: Code, message: string) {
      super(code, message, { permanent: permanent[code] });
    }
  };
}
