/**
 * Exponential backoff with full jitter: retries of many jobs that failed together spread over the
 * whole interval instead of hitting the upstream in one wave. A small floor keeps a retry from
 * landing immediately.
 */
const MAX_DELAY_MS = 60 * 60_000;

export const JITTER_BACKOFF = 'jitter-exponential';

export function fullJitterBackoff(attemptsMade: number, baseDelayMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(MAX_DELAY_MS, baseDelayMs * 2 ** Math.max(0, attemptsMade - 1));
  return Math.round(Math.max(baseDelayMs / 4, random() * ceiling));
}
