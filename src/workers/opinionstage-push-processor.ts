/**
 * Forwards one GHL contact, task or note change to OPINIONSTAGE_PUSH_URL. The event id stays the
 * same across retries, so the collector can drop repeats. A TaskCreate without `contactId` (a known
 * GHL gap) is still forwarded; the gap is logged and counted. In dry run the forward is a write like
 * any other: it is recorded as planned and nothing is sent.
 */
import type { Job } from 'bullmq';
import type { PushClient } from '../clients/push/push-client.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { PushEventSchema, type PushEvent } from '../queue/catalog.js';
import type { PlannedWrites } from '../state/planned-writes.js';

export interface PushDeps {
  push: PushClient;
  /** The push URL as dry-run plans show it: redacted, its path and query may carry the collector's credential. */
  pushPath: string;
  dryRun: boolean;
  planned: PlannedWrites;
  metrics: Metrics;
  logger: Logger;
  now?: () => number;
}

export type PushOutcome = { forwarded: string } | { planned: string };

export function createOpinionStagePushProcessor(deps: PushDeps) {
  const now = deps.now ?? Date.now;
  return async (job: Job): Promise<PushOutcome> => {
    const event = PushEventSchema.parse(job.data);
    if (event.type.startsWith('Task') && !event.data.contactId) {
      deps.metrics.skipped.inc({ queue: 'opinionstage-push', reason: 'task-without-contact' });
      deps.logger.warn({ eventId: event.id, type: event.type, locationId: event.locationId }, 'task event without contactId forwarded without its contact');
    }
    if (deps.dryRun) {
      await deps.planned.record([
        {
          at: new Date(now()).toISOString(),
          locationId: event.locationId,
          contactId: contactIdOf(event),
          system: 'opinionstage',
          method: 'POST',
          path: deps.pushPath,
          body: event,
          reason: `forward ${event.type}`,
        },
      ]);
      return { planned: event.id };
    }
    await deps.push.send(event);
    return { forwarded: event.id };
  };
}

/** Contact events carry the contact as `id`; task and note events name it in `contactId` (when GHL sends it). */
function contactIdOf(event: PushEvent): string {
  const id = event.type.startsWith('Contact') ? event.data.id : event.data.contactId;
  return typeof id === 'string' && id !== '' ? id : '(none)';
}
