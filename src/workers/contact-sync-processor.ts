/**
 * One contact sync run: read the contact's latest state from GHL and record the run. The Trustpilot
 * and Opinion Stage flows plug their plan-and-write steps in here.
 */
import type { Job } from 'bullmq';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { ContactSyncJobSchema } from '../queue/catalog.js';
import type { ContactFacts } from '../state/contact-facts.js';
import { UpstreamError } from '../clients/http/upstream-error.js';

export interface ContactReader {
  getContact(locationId: string, contactId: string): Promise<{ id: string }>;
}

export interface ContactSyncDeps {
  ghl: ContactReader;
  facts: ContactFacts;
  metrics: Metrics;
  logger: Logger;
  now?: () => number;
}

export type ContactSyncOutcome = { outcome: 'synced' | 'skipped'; reason?: string };

export function createContactSyncProcessor(deps: ContactSyncDeps) {
  const now = deps.now ?? Date.now;
  return async (job: Job): Promise<ContactSyncOutcome> => {
    const data = ContactSyncJobSchema.parse(job.data);
    const started = now();
    if (await deps.facts.isDeleted(data.locationId, data.contactId)) {
      return skip(data.locationId, data.contactId, started, 'contact-deleted');
    }
    try {
      await deps.ghl.getContact(data.locationId, data.contactId);
    } catch (error) {
      // A contact deleted after the event was queued: expected, no alert (CONTRACT "Permanent failures").
      if (error instanceof UpstreamError && error.status === 404 && (await deps.facts.isDeleted(data.locationId, data.contactId))) {
        return skip(data.locationId, data.contactId, started, 'contact-deleted');
      }
      throw error;
    }
    await deps.facts.recordSync({ locationId: data.locationId, contactId: data.contactId, at: started, durationMs: now() - started, outcome: 'synced', upstreamCalls: 1 });
    deps.logger.debug({ locationId: data.locationId, contactId: data.contactId, latencyMs: now() - data.triggeredAt }, 'contact synced');
    return { outcome: 'synced' };
  };

  async function skip(locationId: string, contactId: string, started: number, reason: string): Promise<ContactSyncOutcome> {
    deps.metrics.skipped.inc({ queue: 'contact-sync', reason });
    await deps.facts.recordSync({ locationId, contactId, at: started, durationMs: now() - started, outcome: 'skipped', reason, upstreamCalls: 0 });
    return { outcome: 'skipped', reason };
  }
}
