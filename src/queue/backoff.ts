/**
 * Exponential backoff with full jitter: retries of many jobs that failed together spread over the
 * whole interval instead of hitting the upstream in one wave. A small floor keeps a retry from
 * landing immediately.
 */
export const MAX_DELAY_MS = 60 * 60_000;

export const JITTER_BACKOFF = 'jitter-exponential';

export function fullJitterBackoff(attemptsMade: number, baseDelayMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(MAX_DELAY_MS, baseDelayMs * 2 ** Math.max(0, attemptsMade - 1));
  return Math.round(Math.max(baseDelayMs / 4, random() * ceiling));
}

/**
 * Attempts whose backoff adds up to about `horizonMs` (full jitter waits half its ceiling on
 * average): with the defaults a job keeps retrying for about a day before it is dead-lettered.
 */
export function attemptsForHorizon(baseDelayMs: number, horizonMs: number): number {
  let attempts = 1;
  let expectedMs = 0;
  while (expectedMs < horizonMs && attempts < 500) {
    expectedMs += Math.min(MAX_DELAY_MS, baseDelayMs * 2 ** (attempts - 1)) / 2;
    attempts += 1;
  }
  return attempts;
}
