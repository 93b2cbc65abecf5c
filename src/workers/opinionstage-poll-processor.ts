/**
 * The Opinion Stage poll: for each configured item (or every item of the account), read responses
 * newest first until the newest one the previous poll saw, and queue what is new. The same dedupe
 * key as the webhook makes a response arriving both ways one job. A poll of a quiet item costs one
 * page. The first poll of an item takes its newest page only, rather than importing all history.
 */
import type { Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { OpinionStageClient } from '../clients/opinionstage/opinionstage-client.js';
import type { OsResponse } from '../domain/opinionstage-response.js';
import type { Logger } from '../observability/logger.js';
import { OPINIONSTAGE_DEDUPE_TTL_SECONDS, OpinionStageResponseJobSchema, opinionStageDedupeKey, QUEUE_NAMES } from '../queue/catalog.js';
import type { WebhookProducer } from '../queue/webhook-producer.js';
import { stateKey } from '../state/keys.js';

export interface OpinionStagePollDeps {
  client: Pick<OpinionStageClient, 'listAllItems' | 'listResponses'>;
  producer: WebhookProducer;
  redis: Redis;
  prefix: string;
  /** OPINIONSTAGE_ITEM_IDS; empty: every item of the account. */
  itemIds: string[];
  logger: Logger;
  now?: () => number;
}

export interface PollOutcome {
  items: number;
  pages: number;
  queued: number;
}

/** A safety bound: an item with more new responses than this since the last poll is read over several polls. */
const MAX_PAGES_PER_ITEM = 20;
const PAGE_SIZE = 50;

export function createOpinionStagePollProcessor(deps: OpinionStagePollDeps) {
  const now = deps.now ?? Date.now;
  const markKey = (itemId: string) => stateKey(deps.prefix, 'os-poll-mark', 'account', itemId);

  return async (_job: Job): Promise<PollOutcome> => {
    const itemIds = deps.itemIds.length > 0 ? deps.itemIds : (await deps.client.listAllItems()).map((item) => item.id);
    const outcome: PollOutcome = { items: itemIds.length, pages: 0, queued: 0 };
    for (const itemId of itemIds) {
      const mark = await deps.redis.get(markKey(itemId));
      const fresh: OsResponse[] = [];
      let page: number | undefined = 1;
      reading: while (page !== undefined && page <= MAX_PAGES_PER_ITEM) {
        const result = await deps.client.listResponses(itemId, { number: page, size: PAGE_SIZE });
        outcome.pages += 1;
        for (const response of result.responses) {
          if (response.id === mark) break reading;
          fresh.push(response);
        }
        // First poll of this item: its newest page sets the mark.
        if (mark === null) break;
        page = result.nextPage;
      }
      const newest = fresh[0];
      // Oldest first, so GHL's "last response" fields end on the newest.
      for (const response of [...fresh].reverse()) {
        const result = await deps.producer.enqueue({
          queue: QUEUE_NAMES.opinionStageResponses,
          jobName: 'response',
          data: OpinionStageResponseJobSchema.parse({ source: 'poll', receivedAt: now(), itemId, response, flat: {} }),
          scope: 'opinionstage',
          dedupeKey: opinionStageDedupeKey(response.id),
          ttlSeconds: OPINIONSTAGE_DEDUPE_TTL_SECONDS,
        });
        if (result.status === 'accepted') outcome.queued += 1;
      }
      if (newest) await deps.redis.set(markKey(itemId), newest.id);
    }
    deps.logger.info(outcome, 'opinion stage poll done');
    return outcome;
  };
}
