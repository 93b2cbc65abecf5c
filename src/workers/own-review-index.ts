/**
 * Answers "which review of us did this contact write?" from one shared, paged listing of our business
 * unit's private reviews instead of two Trustpilot calls per contact. The listing is refreshed at most
 * once per window, by one worker under a Redis lock, newest first down to the last high-water mark;
 * the first build reads a bounded number of pages. Review notifications keep it current in between.
 * A miss is an answer ("no review") only when the index holds every review and is fresh; otherwise
 * the caller falls back to its per-contact lookup.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { PrivateReview } from '../clients/trustpilot/schemas.js';
import type { TrustpilotClient } from '../clients/trustpilot/trustpilot-client.js';
import type { ReviewFacts } from '../domain/trustpilot-plan.js';
import type { Logger } from '../observability/logger.js';
import type { IndexedReview, ReviewIndexMeta, ReviewIndexStore, ReviewKey } from '../state/review-index.js';
import { reviewFacts } from './trustpilot-lookup.js';

/** The most the private reviews endpoint gives per page (perPage 1–100). */
const PER_PAGE = 100;

export interface OwnReviewIndexDeps {
  client: TrustpilotClient;
  store: ReviewIndexStore;
  businessUnitId: string;
  /** TRUSTPILOT_INDEX_REFRESH: at most one refresh per this window, across workers (> 0). */
  refreshMs: number;
  /** TRUSTPILOT_INDEX_MAX_PAGES: pages one refresh reads at most. */
  maxPages: number;
  /** A refresh that reads every page it may (not only down to the high-water mark) at least this often: edits without a notification. */
  rescanMs: number;
  logger?: Logger;
  /** Lease of the refresh lock; default 60 s. */
  lockTtlMs?: number;
  /** How long a lookup waits for another worker's refresh; default 10 s. */
  lockWaitMs?: number;
  lockPollMs?: number;
  now?: () => number;
}

export type IndexAnswer = { kind: 'found'; review: ReviewFacts } | { kind: 'none' } | { kind: 'unknown' };

export interface OwnReviewIndex {
  /** Tries the keys in order (the mapping's matchBy); refreshes first when the window has passed. */
  find(keys: { kind: ReviewKey; value: string }[]): Promise<IndexAnswer>;
  /** A review re-fetched after a notification: indexed as it is now. */
  observe(review: PrivateReview): Promise<void>;
  /** A deleted review. */
  forget(reviewId: string): Promise<void>;
  /** Refreshes when due (or waits for the worker that does); the state afterwards. */
  refresh(): Promise<ReviewIndexMeta>;
}

export function createOwnReviewIndex(deps: OwnReviewIndexDeps): OwnReviewIndex {
  const { client, store, businessUnitId, refreshMs, maxPages, rescanMs } = deps;
  const now = deps.now ?? Date.now;
  const lockTtlMs = deps.lockTtlMs ?? 60_000;
  const lockWaitMs = deps.lockWaitMs ?? 10_000;
  const lockPollMs = deps.lockPollMs ?? 50;
  let pending: Promise<ReviewIndexMeta> | undefined;

  const due = (meta: ReviewIndexMeta) => meta.attemptedAt === undefined || now() - meta.attemptedAt >= refreshMs;
  // One missed refresh (another worker's, still running) is tolerated before the index stops answering.
  const fresh = (meta: ReviewIndexMeta) => meta.ok && meta.refreshedAt !== undefined && now() - meta.refreshedAt < 2 * refreshMs;

  async function refresh(): Promise<ReviewIndexMeta> {
    // Lookups in this process share one refresh.
    if (pending) return pending;
    const meta = await store.meta();
    if (!due(meta)) {
      // Not due because another worker is refreshing right now: its answer is worth the wait.
      if (!fresh(meta) && (await store.isLocked())) {
        await waitForUnlock();
        return store.meta();
      }
      return meta;
    }
    pending ??= refreshUnderLock().finally(() => {
      pending = undefined;
    });
    return pending;
  }

  async function refreshUnderLock(): Promise<ReviewIndexMeta> {
    const token = await store.tryLock(lockTtlMs);
    if (token === undefined) {
      await waitForUnlock();
      return store.meta();
    }
    try {
      const meta = await store.meta();
      // Another worker refreshed while we were taking the lock.
      if (!due(meta)) return meta;
      const startedAt = now();
      await store.markAttempt(startedAt);
      try {
        await readPages(meta, startedAt);
      } catch (error) {
        // The reviews read so far stay (each is a true fact); the mark and "complete" do not move.
        await store.markFailed();
        deps.logger?.warn({ err: { message: error instanceof Error ? error.message : String(error) } }, 'trustpilot review index refresh failed');
      }
      return await store.meta();
    } finally {
      await store.releaseLock(token);
    }
  }

  async function readPages(meta: ReviewIndexMeta, startedAt: number): Promise<void> {
    const full = meta.scannedAt === undefined || startedAt - meta.scannedAt >= rescanMs;
    const mark = meta.highWater;
    let newest = mark;
    let reachedEnd = false;
    let passedMark = false;
    let page = 1;
    let pagesRead = 0;
    while (pagesRead < maxPages) {
      pagesRead += 1;
      const answer = await client.listPrivateReviews(businessUnitId, { page, perPage: PER_PAGE, orderBy: 'createdat.desc' });
      const entries = answer.reviews.map(indexed);
      await store.upsert(entries.filter((entry) => entry.referenceId !== undefined || entry.referralEmail !== undefined));
      for (const entry of entries) {
        if (newest === undefined || entry.createdAtMs > newest) newest = entry.createdAtMs;
        if (mark !== undefined && entry.createdAtMs < mark) passedMark = true;
      }
      if (answer.nextPage === undefined) {
        reachedEnd = true;
        break;
      }
      if (passedMark && !full) break;
      // A next page that does not move forward would loop; stop short and stay incomplete.
      if (answer.nextPage <= page) break;
      page = answer.nextPage;
    }
    deps.logger?.debug({ pages: pagesRead, reachedEnd, passedMark, full }, 'trustpilot review index refreshed');
    await store.commit({
      highWater: newest,
      // Everything up to the old mark was in; what we read since reaches down past it, or to the end.
      complete: reachedEnd || (meta.complete && passedMark),
      refreshedAt: now(),
      ...(full ? { scannedAt: startedAt } : {}),
    });
  }

  async function waitForUnlock(): Promise<void> {
    const deadline = now() + lockWaitMs;
    while ((await store.isLocked()) && now() < deadline) await sleep(lockPollMs);
  }

  function indexed(review: PrivateReview): IndexedReview {
    const facts = reviewFacts(review);
    const createdAtMs = Date.parse(facts.createdAt);
    const referenceId = review.referenceId ?? '';
    const referralEmail = review.referralEmail?.trim().toLowerCase() ?? '';
    return {
      facts,
      createdAtMs: Number.isFinite(createdAtMs) ? createdAtMs : 0,
      ...(referenceId !== '' ? { referenceId } : {}),
      ...(referralEmail !== '' ? { referralEmail } : {}),
    };
  }

  return {
    refresh,

    async find(keys) {
      const meta = await refresh();
      if (!fresh(meta)) return { kind: 'unknown' };
      for (const { kind, value } of keys) {
        const review = await store.find(kind, value);
        if (review) return { kind: 'found', review };
      }
      return meta.complete ? { kind: 'none' } : { kind: 'unknown' };
    },

    async observe(review) {
      const unit = review.businessUnit?.id;
      if (unit && unit !== businessUnitId) return;
      const entry = indexed(review);
      // A review with neither key can never be tied to a contact: not worth the space.
      if (entry.referenceId === undefined && entry.referralEmail === undefined) return;
      await store.upsert([entry]);
    },

    async forget(reviewId) {
      await store.remove(reviewId);
    },
  };
}
