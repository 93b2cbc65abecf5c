/**
 * Routes reviews the index listing reads to their contacts, so a review written after its contact's
 * last sync reaches GHL without Trustpilot notifications: every review created or edited since routing
 * began, and not routed in that version yet (review id + updatedAt, else createdAt, + the company
 * reply's time: a reply changes the note but not the review's updatedAt), becomes a job on
 * the same queue a review notification takes, carrying the review as read (no second call). Reviews
 * with neither a referenceId nor a referral email cannot be tied to a contact and are skipped, as are
 * reviews older than routing (the contact gets those on its next event, or through a backfill).
 *
 * Trustpilot's private reviews listing orders and filters by creation time only (`orderBy`
 * createdat/stars, `startDateTime`/`endDateTime`): an edit to an older review shows in the periodic
 * full rescan of the index, not in a delta refresh.
 */
import type { PrivateReview } from '../clients/trustpilot/schemas.js';
import type { Logger } from '../observability/logger.js';
import type { TrustpilotEventJob } from '../queue/catalog.js';
import type { ReviewIndexStore } from '../state/review-index.js';

export interface ReviewRouterDeps {
  store: Pick<ReviewIndexStore, 'meta' | 'startRouting' | 'routedVersions' | 'markRouted'>;
  /** Adds the job to the review-notification queue; one dedupe key (review id + version) is one job. */
  enqueue(job: TrustpilotEventJob, dedupeKey: string): Promise<void>;
  logger?: Logger;
  now?: () => number;
}

export interface ReviewRouter {
  /** A page the index listing read (started at `startedAt`): routes what is new or edited. */
  route(reviews: PrivateReview[], startedAt: number): Promise<void>;
  /** A review a notification brought: already on its way to its contact, so the listing does not route this version again. */
  seen(review: PrivateReview): Promise<void>;
}

export function createReviewRouter(deps: ReviewRouterDeps): ReviewRouter {
  const now = deps.now ?? Date.now;
  const route = async (reviews: PrivateReview[], startedAt: number): Promise<void> => {
    // The first listing ever marks the start; everything older is history.
    await deps.store.startRouting(startedAt);
    const since = (await deps.store.meta()).routeSince ?? startedAt;
    const candidates = reviews
      .filter((review) => (review.referenceId ?? '') !== '' || (review.referralEmail ?? '').trim() !== '')
      .map((review) => ({ review, ...versionOf(review) }))
      .filter(({ changedAt }) => changedAt >= since);
    if (candidates.length === 0) return;
    const routed = await deps.store.routedVersions(candidates.map(({ review }) => review.id));
    const fresh = candidates.filter((candidate, i) => routed[i] !== candidate.version);
    for (const { review, version } of fresh) {
      const eventName = review.updatedAt && review.updatedAt !== review.createdAt ? 'service-review-updated' : 'service-review-created';
      await deps.enqueue({ eventName, reviewId: review.id, receivedAt: now(), source: 'poll', eventData: { ...review } }, `${review.id}|${version}`);
    }
    // Marked after the jobs exist: a crash in between routes the review again, which its job id absorbs.
    await deps.store.markRouted(fresh.map(({ review, version }) => ({ reviewId: review.id, version })));
    if (fresh.length > 0) deps.logger?.info({ routed: fresh.length }, 'trustpilot reviews routed to their contacts');
  };
  return {
    route,
    async seen(review) {
      await deps.store.markRouted([{ reviewId: review.id, version: versionOf(review).version }]);
    },
  };
}

/** The review's version (its edit, else creation, time and its reply's) and the latest of those times (ms; 0 when none is a date). */
function versionOf(review: PrivateReview): { version: string; changedAt: number } {
  const own = review.updatedAt ?? review.createdAt ?? '';
  const reply = review.companyReply?.updatedAt ?? review.companyReply?.createdAt ?? '';
  const times = [own, reply].map((value) => Date.parse(value)).filter((ms) => Number.isFinite(ms));
  return { version: `${own}|${reply}`, changedAt: Math.max(0, ...times) };
}
