// One prefix for every line the setup scripts print, so it stands apart from the service's own logs.
const PREFIX = '[ghl-bridge]';

export function log(message) {
  console.log(`${PREFIX} ${message}`);
}

export function warn(message) {
  console.error(`${PREFIX} warning: ${message}`);
}

/** Prints the reason and ends the process; for setup steps that cannot go on. */
export function fail(message, exitCode = 1) {
  console.error(`${PREFIX} ${message}`);
  process.exit(exitCode);
}
