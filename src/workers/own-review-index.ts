/**
 * Answers "which review of us did this contact write?" from one shared, paged listing of our business
 * unit's private reviews instead of two Trustpilot calls per contact. A refresh reads newest first
 * down to the last high-water mark (normally one page), by one worker under a Redis lock while the
 * others wait for its result; the first build reads a bounded number of pages. Review notifications
 * keep it current in between.
 *
 * A found review is an answer whenever it is found. A miss for an event received at time T is an
 * answer ("no review") only from a complete listing that started reading after T: otherwise one delta
 * refresh runs first, shared by every lookup waiting at that moment, and when even that fails the
 * caller falls back to its per-contact lookup. A review written a second before the contact's event
 * is therefore never answered "no review" from an older listing.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { PrivateReview } from '../clients/trustpilot/schemas.js';
import type { TrustpilotClient } from '../clients/trustpilot/trustpilot-client.js';
import type { ReviewFacts } from '../domain/trustpilot-plan.js';
import { reviewFacts } from '../domain/trustpilot-review-facts.js';
import type { Logger } from '../observability/logger.js';
import type { IndexedReview, ReviewIndexMeta, ReviewIndexStore, ReviewKey } from '../state/review-index.js';
import type { ReviewRouter } from './trustpilot-review-router.js';

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
  /** Routes new and edited reviews of each page a refresh reads to their contacts; absent: polling is off. */
  router?: ReviewRouter;
  /** How long a lookup waits for another worker's refresh; default 10 s. */
  lockWaitMs?: number;
  lockPollMs?: number;
  now?: () => number;
}

/** `none` holds when the listing that answered started reading (ms): the "no review" is true as of then. */
export type IndexAnswer = { kind: 'found'; review: ReviewFacts } | { kind: 'none'; at: number } | { kind: 'unknown' };

export interface OwnReviewIndex {
  /**
   * Tries the keys in order (the mapping's matchBy). A miss is "no review" only from a complete
   * listing that started after `asOf` (the triggering event's receipt); one shared refresh runs first
   * when the last one is older.
   */
  find(keys: { kind: ReviewKey; value: string }[], asOf: number): Promise<IndexAnswer>;
  /** Makes sure a refresh started at or after `asOf` (shared with every caller waiting); the state afterwards. */
  refreshSince(asOf: number): Promise<ReviewIndexMeta>;
  /** A review re-fetched after a notification: indexed as it is now. */
  observe(review: PrivateReview): Promise<void>;
  /** A deleted review. */
  forget(reviewId: string): Promise<void>;
  /** Refreshes when due (or waits for the worker that does); the state afterwards. */
  refresh(): Promise<ReviewIndexMeta>;
}

type Settings = Required<Pick<OwnReviewIndexDeps, 'lockTtlMs' | 'lockWaitMs' | 'lockPollMs' | 'now'>>;

export function createOwnReviewIndex(deps: OwnReviewIndexDeps): OwnReviewIndex {
  const { store, businessUnitId } = deps;
  const settings: Settings = { lockTtlMs: deps.lockTtlMs ?? 60_000, lockWaitMs: deps.lockWaitMs ?? 10_000, lockPollMs: deps.lockPollMs ?? 50, now: deps.now ?? Date.now };
  const { refresh, refreshSince } = createRefresher(deps, settings);

  return {
    refresh,
    refreshSince,

    async find(keys, asOf) {
      // The index's state is read before the keys (one round trip): a listing it shows as done had
      // stored its reviews before they were looked for, so a miss then is that listing's answer.
      const first = await store.lookup(keys);
      // A review already indexed is a true answer however old the listing: no refresh needed.
      if (first.review) return { kind: 'found', review: first.review };
      // Beyond the page budget a miss is never an answer: the per-contact lookup is, and a refresh would not change that.
      if (first.meta.ok && first.meta.listedAt !== undefined && !first.meta.complete) return { kind: 'unknown' };
      if (listedSince(first.meta, asOf)) return missAnswer(first.meta, asOf);
      const meta = await refreshSince(asOf);
      const { review } = await store.lookup(keys);
      return review ? { kind: 'found', review } : missAnswer(meta, asOf);
    },

    async observe(review) {
      const unit = review.businessUnit?.id;
      if (unit && unit !== businessUnitId) return;
      const entry = indexed(review);
      // A review with neither key can never be tied to a contact: not worth the space.
      if (entry.referenceId === undefined && entry.referralEmail === undefined) return;
      await store.upsert([entry]);
      await deps.router?.seen(review);
    },

    async forget(reviewId) {
      await store.remove(reviewId);
    },
  };
}

/** A refresh (successful or not) started at or after `asOf`: a further one would learn nothing new about that moment. */
const attemptedSince = (meta: ReviewIndexMeta, asOf: number) => meta.attemptedAt !== undefined && meta.attemptedAt >= asOf;
/** Every review that existed at `asOf` is in the index. */
const listedSince = (meta: ReviewIndexMeta, asOf: number) => meta.ok && meta.complete && meta.listedAt !== undefined && meta.listedAt >= asOf;
/** What a miss means in the index as `meta` describes it: "no review" as of its listing when that covers `asOf`, else unknown. */
const missAnswer = (meta: ReviewIndexMeta, asOf: number): IndexAnswer =>
  listedSince(meta, asOf) && meta.listedAt !== undefined ? { kind: 'none', at: meta.listedAt } : { kind: 'unknown' };

/** Refreshes shared by every lookup of this process, and across workers by the store's lock. */
function createRefresher(deps: OwnReviewIndexDeps, settings: Settings): Pick<OwnReviewIndex, 'refresh' | 'refreshSince'> {
  const { store, refreshMs } = deps;
  const { now } = settings;
  let pending: Promise<ReviewIndexMeta> | undefined;
  const due = (meta: ReviewIndexMeta) => meta.attemptedAt === undefined || now() - meta.attemptedAt >= refreshMs;
  // One missed refresh (another worker's, still running) is tolerated before the index stops answering.
  const fresh = (meta: ReviewIndexMeta) => meta.ok && meta.refreshedAt !== undefined && now() - meta.refreshedAt < 2 * refreshMs;
  const shared = (done: (meta: ReviewIndexMeta) => boolean) =>
    (pending ??= refreshUnderLock(deps, settings, done).finally(() => {
      pending = undefined;
    }));

  async function refreshSince(asOf: number): Promise<ReviewIndexMeta> {
    // Three rounds at most: one refresh of this process that started too early, one of another worker, one of ours.
    for (let round = 0; round < 3; round++) {
      const meta = await store.meta();
      if (attemptedSince(meta, asOf) && !(await store.isLocked())) return meta;
      await shared((current) => attemptedSince(current, asOf));
    }
    return store.meta();
  }

  async function refresh(): Promise<ReviewIndexMeta> {
    // Lookups in this process share one refresh.
    if (pending) return pending;
    const meta = await store.meta();
    if (!due(meta)) {
      // Not due because another worker is refreshing right now: its answer is worth the wait.
      if (!fresh(meta) && (await store.isLocked())) {
        await waitForUnlock(store, settings);
        return store.meta();
      }
      return meta;
    }
    return shared((current) => !due(current));
  }

  return { refresh, refreshSince };
}

/** Refreshes unless `done` says another worker already did what is needed; waits for the lock holder otherwise. */
async function refreshUnderLock(deps: OwnReviewIndexDeps, settings: Settings, done: (meta: ReviewIndexMeta) => boolean): Promise<ReviewIndexMeta> {
  const { store } = deps;
  const token = await store.tryLock(settings.lockTtlMs);
  if (token === undefined) {
    await waitForUnlock(store, settings);
    return store.meta();
  }
  try {
    const meta = await store.meta();
    // Another worker refreshed while we were taking the lock.
    if (done(meta)) return meta;
    const startedAt = settings.now();
    await store.markAttempt(startedAt);
    try {
      await readPages(deps, settings, meta, startedAt);
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

async function readPages(deps: OwnReviewIndexDeps, settings: Settings, meta: ReviewIndexMeta, startedAt: number): Promise<void> {
  const { client, store } = deps;
  const full = meta.scannedAt === undefined || startedAt - meta.scannedAt >= deps.rescanMs;
  const mark = meta.highWater;
  let newest = mark;
  let reachedEnd = false;
  let passedMark = false;
  let page = 1;
  let pagesRead = 0;
  while (pagesRead < deps.maxPages) {
    pagesRead += 1;
    const answer = await client.listPrivateReviews(deps.businessUnitId, { page, perPage: PER_PAGE, orderBy: 'createdat.desc' });
    const entries = answer.reviews.map(indexed);
    await store.upsert(entries.filter((entry) => entry.referenceId !== undefined || entry.referralEmail !== undefined));
    await deps.router?.route(answer.reviews, startedAt);
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
    refreshedAt: settings.now(),
    listedAt: startedAt,
    ...(full ? { scannedAt: startedAt } : {}),
  });
}

async function waitForUnlock(store: ReviewIndexStore, settings: Settings): Promise<void> {
  const deadline = settings.now() + settings.lockWaitMs;
  while ((await store.isLocked()) && settings.now() < deadline) await sleep(settings.lockPollMs);
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
