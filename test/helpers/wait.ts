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
