/**
 * The one way tests wait: poll a probe until it answers, with a deadline and a message naming what
 * was awaited. Never a fixed sleep, never a hand-written `while` loop in a test.
 */

/**
 * Polls `probe` until it returns a value other than undefined, or fails after `timeoutMs` with
 * "timed out ... waiting for <what>". `intervalMs` is the pause between probes.
 */
export async function waitFor<T>(probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 10_000, what = 'condition', intervalMs = 25): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await pause(intervalMs);
  }
}

/** waitFor for a yes/no check: resolves once `check` holds. */
export async function waitUntil(check: () => Promise<boolean> | boolean, what: string, timeoutMs = 10_000, intervalMs = 10): Promise<void> {
  await waitFor(async () => ((await check()) ? true : undefined), timeoutMs, what, intervalMs);
}

/** Lets other work run for `ms` (between probes, or to pace a load generator); not a way to wait for a state. */
export function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * What ioredis reports while a server restarts, loads its AOF, or a cluster heals, or when a loaded
 * box answers later than the bridge's producer connections wait (a 2 s command timeout and one retry,
 * src/queue/connections.ts): worth reading again, not a finding.
 */
const PASSING_REDIS_TROUBLE =
  /Command timed out|Connection is closed|Stream isn't writeable|max retries per request|CLUSTERDOWN|TRYAGAIN|LOADING|ECONNREFUSED|ECONNRESET|refresh slots cache|startup nodes/i;

export function isPassingRedisTrouble(error: unknown): boolean {
  return error instanceof Error && PASSING_REDIS_TROUBLE.test(error.message);
}

/**
 * A test's own read of Redis around a restart or a node failure, through the bridge's fail-fast
 * connections: repeated while it meets passing trouble, up to `timeoutMs`; any other error is thrown
 * at once. Failing, it names what was read and the last error met.
 */
export async function readPatiently<T>(read: () => Promise<T>, what: string, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await read();
    } catch (error) {
      if (!isPassingRedisTrouble(error)) throw error;
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms reading ${what}; the last Redis error: ${(error as Error).message}`, { cause: error });
    }
    await pause(100);
  }
}
