/**
 * Routes one accepted GHL event to its flows. Contact events become a coalesced contact sync;
 * deletions are remembered so a later 404 is expected; note and task events are recorded for the
 * flows that follow them (Trustpilot follow-up tasks, Opinion Stage forwarding).
 */
import type { Job } from 'bullmq';
import type { Logger } from '../observability/logger.js';
import { GhlWebhookJobSchema, type ContactSyncJob } from '../queue/catalog.js';
import type { ContactFacts } from '../state/contact-facts.js';
import { eventContactId, eventLocationId, parseGhlEvent } from '../webhooks/ghl-events.js';
import { GhlWorkflowEventSchema } from '../webhooks/ghl-workflow.js';
import { PermanentJobError } from './classify-error.js';

export interface GhlWebhookProcessorDeps {
  scheduleContactSync(job: ContactSyncJob): Promise<void>;
  facts: ContactFacts;
  logger: Logger;
}

export type RouteOutcome = { routed: 'contact-sync' | 'contact-deleted' | 'recorded' | 'ignored'; type: string };

const SYNC_TRIGGERS = new Set(['ContactCreate', 'ContactUpdate', 'ContactTagUpdate', 'ContactDndUpdate']);

export function createGhlWebhookProcessor(deps: GhlWebhookProcessorDeps) {
  return async (job: Job): Promise<RouteOutcome> => {
    const data = GhlWebhookJobSchema.parse(job.data);
    const event = readEvent(data.source, data.event);

    if (SYNC_TRIGGERS.has(event.type) && event.locationId && event.contactId) {
      await deps.scheduleContactSync({
        locationId: event.locationId,
        contactId: event.contactId,
        reason: 'webhook',
        triggeredAt: data.receivedAt,
        eventType: event.type,
      });
      return { routed: 'contact-sync', type: event.type };
    }
    if (event.type === 'ContactDelete' && event.locationId && event.contactId) {
      await deps.facts.markDeleted(event.locationId, event.contactId);
      return { routed: 'contact-deleted', type: event.type };
    }
    if (event.type.startsWith('Note') || event.type.startsWith('Task') || event.type.startsWith('App')) {
      deps.logger.debug({ eventType: event.type, locationId: event.locationId }, 'event recorded');
      return { routed: 'recorded', type: event.type };
    }
    return { routed: 'ignored', type: event.type };
  };
}

function readEvent(source: 'marketplace' | 'workflow', raw: Record<string, unknown>): { type: string; locationId?: string; contactId?: string } {
  if (source === 'workflow') {
    // Normalised at ingest; parsed again because job data comes back from Redis.
    const event = GhlWorkflowEventSchema.parse(raw);
    return { type: event.type, locationId: event.locationId, contactId: event.id };
  }
  const parsed = parseGhlEvent(raw);
  if (parsed.kind !== 'event') throw new PermanentJobError('INVALID_EVENT', `stored event no longer validates (${parsed.kind})`);
  const event = parsed.event;
  const locationId = eventLocationId(event);
  const contactId = eventContactId(event);
  return { type: event.type, ...(locationId ? { locationId } : {}), ...(contactId ? { contactId } : {}) };
}
