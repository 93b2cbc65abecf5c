/**
 * The one error vocabulary. Every error our code raises extends BridgeError, so a caller (the job
 * classifier, a route, a log line) can read what it needs from properties instead of knowing every
 * class: a stable machine `code`, and `permanent` when trying the same thing again cannot help (bad
 * input, a missing credential, an unserved location). It lives in observability/ so every floor,
 * clients/ included, can import it.
 */

export interface BridgeErrorOptions {
  /** Retrying cannot help; a job failing with it is dead-lettered at once. Default false. */
  permanent?: boolean;
  cause?: unknown;
}

export class BridgeError<Code extends string = string> extends Error {
  readonly code: Code;
  readonly permanent: boolean;

  constructor(code: Code, message: string, options: BridgeErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.permanent = options.permanent ?? false;
  }
}
