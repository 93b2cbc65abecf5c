/**
 * The worker-side processors that know about per-location connections: the Trustpilot events of a
 * location's own connection are read with its own client and matched only in that location; the polls
 * run the environment's account and then each location's own, whose jobs carry their location.
 */
import type { Job } from 'bullmq';
import type { Logger } from '../../observability/logger.js';
import { OpinionStageResponseJobSchema, TrustpilotEventJobSchema } from '../../queue/catalog.js';
import type { WebhookProducer } from '../../queue/webhook-producer.js';
import type { OsPollSeen } from '../../state/opinionstage-poll-seen.js';
import { createOpinionStagePollProcessor, type PollOutcome } from '../../workers/opinionstage-poll-processor.js';
import { createTrustpilotEventProcessor, type TrustpilotEventDeps, type TrustpilotEventOutcome } from '../../workers/trustpilot-event-processor.js';
import { createTrustpilotPollProcessor, type TrustpilotPollOutcome } from '../../workers/trustpilot-poll-processor.js';
import type { ConnectionClients } from './connection-clients.js';

type Processor<T> = (job: Job) => Promise<T>;

/** Trustpilot events: a location's own ones with its own client, matched only there; the rest as before. */
export function locationTrustpilotEvents(
  clients: Pick<ConnectionClients, 'ownTrustpilotFor'>,
  env: Processor<TrustpilotEventOutcome> | undefined,
  shared: Omit<TrustpilotEventDeps, 'trustpilot' | 'lookup' | 'servedLocations'> & { servedLocations(): Promise<string[]> },
): Processor<TrustpilotEventOutcome> {
  return async (job) => {
    const { webhookLocationId } = TrustpilotEventJobSchema.parse(job.data);
    if (webhookLocationId === undefined) return env ? env(job) : { outcome: 'skipped', reason: 'trustpilot-not-configured' };
    const own = await clients.ownTrustpilotFor(webhookLocationId);
    if (!own) return { outcome: 'skipped', reason: 'location-not-connected' };
    const onlyThere = async () => ((await shared.servedLocations()).includes(webhookLocationId) ? [webhookLocationId] : []);
    return createTrustpilotEventProcessor({ ...shared, trustpilot: own.client, lookup: own.lookup, servedLocations: onlyThere })(job);
  };
}

/** The Trustpilot poll: the environment's index, then each location's own. */
export function locationTrustpilotPoll(clients: Pick<ConnectionClients, 'ownTrustpilot'>, env: Processor<TrustpilotPollOutcome> | undefined, logger: Logger): Processor<TrustpilotPollOutcome> {
  return async (job) => {
    const outcomes = await eachOf(logger, [
      ...(env ? [() => env(job)] : []),
      ...(await clients.ownTrustpilot()).map(({ locationId, trustpilot }) => async () => {
        if (!trustpilot.poll) return undefined;
        await trustpilot.poll.store.startRouting(Date.now());
        logger.debug({ locationId }, 'trustpilot poll of a location connection');
        return createTrustpilotPollProcessor({ index: trustpilot.poll.index, logger })();
      }),
    ]);
    return { outcome: outcomes.every((o) => o.outcome === 'refreshed') ? 'refreshed' : 'failed', complete: outcomes.every((o) => o.complete) };
  };
}

/** The Opinion Stage poll: the environment's account, then each location's own over its items. */
export function locationOpinionStagePoll(
  clients: Pick<ConnectionClients, 'ownOpinionStage'>,
  env: Processor<PollOutcome> | undefined,
  shared: { producer: WebhookProducer; seen: OsPollSeen; logger: Logger },
): Processor<PollOutcome> {
  return async (job) => {
    const outcomes = await eachOf(shared.logger, [
      ...(env ? [() => env(job)] : []),
      ...(await clients.ownOpinionStage()).map(({ locationId, client, itemIds }) => () =>
        createOpinionStagePollProcessor({ client, producer: locatedProducer(shared.producer, locationId), seen: shared.seen, itemIds, logger: shared.logger })(job),
      ),
    ]);
    return outcomes.reduce((sum, o) => ({ items: sum.items + o.items, pages: sum.pages + o.pages, queued: sum.queued + o.queued, unreadable: sum.unreadable + o.unreadable }), { items: 0, pages: 0, queued: 0, unreadable: 0 });
  };
}

/** Responses a location's own poll queues carry that location. */
function locatedProducer(producer: WebhookProducer, locationId: string): WebhookProducer {
  return {
    enqueue: ({ data, json: _serialized, ...target }) =>
      producer.enqueue({ ...target, data: { ...OpinionStageResponseJobSchema.parse(data), webhookLocationId: locationId } }),
  };
}

/** Runs every part even when one fails (one account's outage must not stop the others), then fails with the first error. */
async function eachOf<T>(logger: Logger, parts: (() => Promise<T | undefined>)[]): Promise<T[]> {
  const done: T[] = [];
  let failure: unknown;
  for (const part of parts) {
    try {
      const outcome = await part();
      if (outcome !== undefined) done.push(outcome);
    } catch (error) {
      logger.warn({ err: { message: error instanceof Error ? error.message : String(error) } }, 'poll of one account failed');
      failure ??= error;
    }
  }
  if (failure !== undefined) throw failure;
  return done;
}
