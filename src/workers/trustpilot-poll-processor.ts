/**
 * The scheduled Trustpilot poll: one delta refresh of the shared index of our unit's reviews (a full
 * rescan when one is due), shared with any lookup waiting at that moment. The refresh routes new and
 * edited reviews to their contacts as it reads them (see trustpilot-review-router.ts), so a review
 * written after its contact's last sync reaches GHL without notifications.
 */
import type { Logger } from '../observability/logger.js';
import type { OwnReviewIndex } from './own-review-index.js';

export interface TrustpilotPollDeps {
  index: Pick<OwnReviewIndex, 'refreshSince'>;
  logger: Logger;
  now?: () => number;
}

export type TrustpilotPollOutcome = { outcome: 'refreshed' | 'failed'; complete: boolean };

export function createTrustpilotPollProcessor(deps: TrustpilotPollDeps) {
  const now = deps.now ?? Date.now;
  return async (): Promise<TrustpilotPollOutcome> => {
    const startedAt = now();
    const meta = await deps.index.refreshSince(startedAt);
    const refreshed = meta.ok && meta.listedAt !== undefined && meta.listedAt >= startedAt;
    // A failed refresh is not retried here: the next poll reads from the same high-water mark.
    if (!refreshed) deps.logger.warn({ ok: meta.ok }, 'trustpilot poll: the reviews listing could not be read');
    return { outcome: refreshed ? 'refreshed' : 'failed', complete: meta.complete };
  };
}
