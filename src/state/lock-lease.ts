/**
 * How long a token-refresh lock is leased. The holder spends a single-use refresh token; if the
 * lease ran out while its call was still waiting on the upstream, a second worker could take the
 * lock and spend the same token. So the lease outlives the longest call the holder can make
 * (`calls` × UPSTREAM_TIMEOUT) with a margin for Redis and the event loop, and never drops below
 * the historic 30 s.
 */
export const LOCK_LEASE_MARGIN_MS = 10_000;
export const MIN_LOCK_LEASE_MS = 30_000;

export function lockLeaseMs(upstreamTimeoutMs: number, calls = 1): number {
  return Math.max(MIN_LOCK_LEASE_MS, calls * upstreamTimeoutMs + LOCK_LEASE_MARGIN_MS);
}

/** Lease and wait together: a waiter waits as long as a holder may legitimately hold the lock. */
export function refreshLockTiming(upstreamTimeoutMs: number, calls = 1): { lockTtlMs: number; lockWaitMs: number } {
  const lease = lockLeaseMs(upstreamTimeoutMs, calls);
  return { lockTtlMs: lease, lockWaitMs: lease };
}
