/**
 * The Opinion Stage poll: for each configured item (or every item of the account), read the responses
 * created since the previous poll and queue those it has not queued before. The same dedupe key as the
 * webhook makes a response arriving both ways one job.
 *
 * No source documents the order the API lists responses in, so nothing here depends on it: each page's
 * created times say which end is newest (see opinionstage-poll-walk.ts), a created-time watermark
 * bounds how far back a poll reads, and the ids seen near the watermark keep a response from being
 * queued twice (src/state/opinionstage-poll-seen.ts). A poll of a quiet item costs one or two pages.
 * The first poll of an item takes its newest page only, rather than importing all history.
 */
import type { Job } from 'bullmq';
import type { OpinionStageClient } from '../clients/opinionstage/opinionstage-client.js';
import { createdMs } from '../domain/opinionstage-poll-order.js';
import type { OsResponse } from '../clients/opinionstage/schemas.js';
import type { Logger } from '../observability/logger.js';
import { OPINIONSTAGE_DEDUPE_TTL_SECONDS, OpinionStageResponseJobSchema, opinionStageDedupeKey, QUEUE_NAMES } from '../queue/catalog.js';
import type { WebhookProducer } from '../queue/webhook-producer.js';
import { POLL_SLACK_MS, type OsPollSeen } from '../state/opinionstage-poll-seen.js';
import { readNewestPage, readSince, type WalkOutcome } from './opinionstage-poll-walk.js';

export interface OpinionStagePollDeps {
  client: Pick<OpinionStageClient, 'listAllItems' | 'listResponses'>;
  producer: WebhookProducer;
  seen: OsPollSeen;
  /** OPINIONSTAGE_ITEM_IDS; empty: every item of the account. */
  itemIds: string[];
  logger: Logger;
  now?: () => number;
}

export interface PollOutcome {
  items: number;
  pages: number;
  queued: number;
  /** Records on the pages read that were not readable responses (each logged with its reason). */
  unreadable: number;
}

export function createOpinionStagePollProcessor(deps: OpinionStagePollDeps) {
  const now = deps.now ?? Date.now;

  return async (_job: Job): Promise<PollOutcome> => {
    const itemIds = deps.itemIds.length > 0 ? deps.itemIds : (await deps.client.listAllItems()).map((item) => item.id);
    const outcome: PollOutcome = { items: itemIds.length, pages: 0, queued: 0, unreadable: 0 };
    for (const itemId of itemIds) {
      const startedAt = now();
      const state = await deps.seen.read(itemId);
      const walk: WalkOutcome = state
        ? await readSince(deps.client, itemId, state)
        : await readNewestPage(deps.client, itemId, startedAt - POLL_SLACK_MS);
      outcome.pages += walk.pages;
      outcome.unreadable += walk.skipped.length;
      for (const skipped of walk.skipped) {
        deps.logger.warn({ itemId, page: skipped.page, index: skipped.index, responseId: skipped.id, reason: skipped.reason }, 'opinion stage response unreadable, skipped');
      }
      if (walk.truncated) deps.logger.warn({ itemId, pages: walk.pages }, 'opinion stage poll read its page bound; older new responses wait for their webhooks');
      outcome.queued += await enqueueAll(itemId, walk.fresh, startedAt);
      await deps.seen.record(
        itemId,
        walk.fresh.map((response) => ({ id: response.id, createdMs: createdMs(response) })),
        { now: startedAt, ...(walk.floor === undefined ? {} : { floor: walk.floor }) },
      );
    }
    deps.logger.info(outcome, 'opinion stage poll done');
    return outcome;
  };

  /** Oldest first, so GHL's "last response" fields end on the newest; responses without a time last. */
  async function enqueueAll(itemId: string, fresh: readonly OsResponse[], receivedAt: number): Promise<number> {
    const ordered = [...fresh].sort((a, b) => (createdMs(a) ?? Infinity) - (createdMs(b) ?? Infinity));
    let queued = 0;
    for (const response of ordered) {
      const result = await deps.producer.enqueue({
        queue: QUEUE_NAMES.opinionStageResponses,
        jobName: 'response',
        data: OpinionStageResponseJobSchema.parse({ source: 'poll', receivedAt, itemId, response, flat: {} }),
        scope: 'opinionstage',
        dedupeKey: opinionStageDedupeKey(response.id),
        ttlSeconds: OPINIONSTAGE_DEDUPE_TTL_SECONDS,
      });
      if (result.status === 'accepted') queued += 1;
    }
    return queued;
  }
}
