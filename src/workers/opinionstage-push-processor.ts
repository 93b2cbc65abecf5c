/**
 * Forwards one GHL contact, task or note change to OPINIONSTAGE_PUSH_URL. The event id stays the
 * same across retries, so the collector can drop repeats. A TaskCreate without `contactId` (a known
 * GHL gap) is still forwarded; the gap is logged and counted.
 */
import type { Job } from 'bullmq';
import type { PushClient } from '../clients/push/push-client.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { PushEventSchema } from '../queue/catalog.js';

export interface PushDeps {
  push: PushClient;
  metrics: Metrics;
  logger: Logger;
}

export function createOpinionStagePushProcessor(deps: PushDeps) {
  return async (job: Job): Promise<{ forwarded: string }> => {
    const event = PushEventSchema.parse(job.data);
    if (event.type.startsWith('Task') && !event.data.contactId) {
      deps.metrics.skipped.inc({ queue: 'opinionstage-push', reason: 'task-without-contact' });
      deps.logger.warn({ eventId: event.id, type: event.type, locationId: event.locationId }, 'task event without contactId forwarded without its contact');
    }
    await deps.push.send(event);
    return { forwarded: event.id };
  };
}
