/**
 * How every webhook route stores an event: when the queue cannot take it right now (Redis down or
 * slow), the sender is answered 429 with `Retry-After`, the status GHL and the others redeliver on,
 * never a 5xx or a hang that would lose the event.
 */
import type { FastifyReply } from 'fastify';
import { QueueUnavailableError } from '../../queue/webhook-producer.js';
import { errorReply } from '../schemas/common.js';

/** Seconds a webhook sender is asked to wait when its event could not be queued. */
const RETRY_AFTER_SECONDS = '10';

/**
 * Runs `store` (which queues the event and answers); on QueueUnavailableError calls `onUnavailable`
 * (for the metric and log line) and answers 429 naming `what` could not be queued.
 */
export async function storeOrAskRetry<R>(
  reply: FastifyReply,
  what: string,
  onUnavailable: (error: QueueUnavailableError) => void,
  store: () => Promise<R>,
): Promise<R | FastifyReply> {
  try {
    return await store();
  } catch (error) {
    if (!(error instanceof QueueUnavailableError)) throw error;
    onUnavailable(error);
    return askToRetry(reply, what, error);
  }
}

/** The 429 with `Retry-After` for `what` (the event, the events) that could not be queued. */
export function askToRetry(reply: FastifyReply, what: string, error: QueueUnavailableError): FastifyReply {
  return reply
    .code(429)
    .header('retry-after', RETRY_AFTER_SECONDS)
    .send(errorReply(429, error.code, `${what} could not be queued right now; retry later`));
}
