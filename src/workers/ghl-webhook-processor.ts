/**
 * Routes one accepted GHL event to its flows. Contact events become a coalesced contact sync, unless
 * the contact's fingerprint shows nothing the flows depend on changed (GHL echoing the bridge's own
 * write, or an unchanged re-save); the event's contact snapshot is stored for that sync to plan from
 * (no read of the contact); deletions are remembered so a later 404 is expected; completion
 * or deletion of a task the bridge made is recorded so it is never reopened or recreated.
 */
import type { Job } from 'bullmq';
import { z } from 'zod';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { GhlWebhookJobSchema, type ContactSyncJob, type PushEvent } from '../queue/catalog.js';
import type { Mapping } from '../config/mapping.js';
import { contactFingerprint, fingerprintScope } from '../domain/contact-fingerprint.js';
import { toSnapshot } from '../domain/contact-snapshot.js';
import type { ContactSnapshot } from '../domain/plan.js';
import type { ContactFacts } from '../state/contact-facts.js';
import type { ContactSnapshots } from '../state/contact-snapshots.js';
import type { ContactFingerprints } from '../state/contact-fingerprint.js';
import type { CustomFieldIds } from '../state/custom-field-ids.js';
import type { WriteLedger } from '../state/write-ledger.js';
import { eventContactId, eventEntityId, eventLocationId, parseGhlEvent, type GhlContactEvent, type GhlEvent } from '../webhooks/ghl-events.js';
import { GhlWorkflowEventSchema } from '../webhooks/ghl-workflow.js';
import { PermanentJobError } from './classify-error.js';

export interface GhlWebhookProcessorDeps {
  scheduleContactSync(job: ContactSyncJob): Promise<void>;
  facts: ContactFacts;
  ledger: WriteLedger;
  fingerprints: ContactFingerprints;
  /** Where a contact event's snapshot waits for the sync it schedules. */
  snapshots?: Pick<ContactSnapshots, 'put' | 'forget'>;
  fieldIds: Pick<CustomFieldIds, 'cached'>;
  mapping: Mapping;
  /** Marketplace-app mode: an uninstalled location stops being served (its tokens are deleted). */
  onAppUninstall?: (locationId: string) => Promise<void>;
  /** Present when OPINIONSTAGE_PUSH_URL is set: queues the change for forwarding. */
  forward?: (event: PushEvent) => Promise<void>;
  metrics: Metrics;
  logger: Logger;
}

/** The changes forwarded to OPINIONSTAGE_PUSH_URL. */
const FORWARDED = new Set(['ContactCreate', 'ContactUpdate', 'TaskCreate', 'TaskComplete', 'TaskDelete', 'NoteCreate', 'NoteUpdate']);

export type RouteOutcome = { routed: 'contact-sync' | 'contact-deleted' | 'unchanged' | 'task-recorded' | 'recorded' | 'ignored'; type: string };

const SYNC_TRIGGERS = new Set(['ContactCreate', 'ContactUpdate', 'ContactTagUpdate', 'ContactDndUpdate']);
/** Events that carry the contact's full state, so they can be compared with the last synced state. */
const SNAPSHOT_EVENTS = new Set(['ContactUpdate', 'ContactTagUpdate', 'ContactDndUpdate']);

export function createGhlWebhookProcessor(deps: GhlWebhookProcessorDeps) {
  return async (job: Job): Promise<RouteOutcome> => {
    const data = GhlWebhookJobSchema.parse(job.data);
    const event = readEvent(data.source, data.event);
    if (deps.forward && FORWARDED.has(event.type) && event.locationId) {
      const timestamp = typeof data.event.timestamp === 'string' ? data.event.timestamp : new Date(data.receivedAt).toISOString();
      const webhookId = typeof data.event.webhookId === 'string' ? data.event.webhookId : undefined;
      // Forwarded before routing, so an echo skipped below is still a change the collector hears about.
      await deps.forward({ id: webhookId ?? String(job.id), type: event.type, occurredAt: timestamp, locationId: event.locationId, data: data.event });
    }

    if (SYNC_TRIGGERS.has(event.type) && event.locationId && event.contactId) {
      if (SNAPSHOT_EVENTS.has(event.type) && (await unchangedSinceLastSync(event.locationId, event.contactId, data.event))) {
        deps.metrics.skipped.inc({ queue: 'ghl-webhooks', reason: 'unchanged' });
        return { routed: 'unchanged', type: event.type };
      }
      // Stored before the job is added, so the run always finds it.
      if (deps.snapshots && event.snapshot) await deps.snapshots.put(event.snapshot, observedAt(data.event.timestamp, data.receivedAt), 'webhook');
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
      await deps.snapshots?.forget(event.locationId, event.contactId);
      return { routed: 'contact-deleted', type: event.type };
    }
    if ((event.type === 'TaskComplete' || event.type === 'TaskDelete') && event.locationId && event.entityId) {
      const ours = await deps.ledger.taskChanged(event.locationId, event.entityId, event.type === 'TaskComplete' ? 'completed' : 'deleted');
      return { routed: ours ? 'task-recorded' : 'recorded', type: event.type };
    }
    if (event.type === 'AppUninstall' && event.locationId && deps.onAppUninstall) {
      await deps.onAppUninstall(event.locationId);
      return { routed: 'recorded', type: event.type };
    }
    if (event.type.startsWith('Note') || event.type.startsWith('Task') || event.type.startsWith('App')) {
      deps.logger.debug({ eventType: event.type, locationId: event.locationId }, 'event recorded');
      return { routed: 'recorded', type: event.type };
    }
    return { routed: 'ignored', type: event.type };
  };

  async function unchangedSinceLastSync(locationId: string, contactId: string, payload: Record<string, unknown>): Promise<boolean> {
    const fieldIds = await deps.fieldIds.cached(locationId);
    if (fieldIds === undefined) return false;
    const snapshot = SnapshotSchema.safeParse(payload);
    if (!snapshot.success) return false;
    return deps.fingerprints.isKnown(locationId, contactId, contactFingerprint(snapshot.data, fingerprintScope(deps.mapping, fieldIds)));
  }
}

/** The parts of a contact event payload the fingerprint reads. */
const SnapshotSchema = z.looseObject({
  email: z.string().nullish(),
  firstName: z.string().nullish(),
  lastName: z.string().nullish(),
  name: z.string().nullish(),
  website: z.string().nullish(),
  tags: z.array(z.string()).nullish(),
  customFields: z.array(z.looseObject({ id: z.string(), value: z.unknown() })).nullish(),
});

/**
 * When GHL says the contact's state was observed: the event's `timestamp`, never later than its
 * arrival (a clock running ahead must not make an old snapshot look newer than the bridge's writes).
 */
function observedAt(timestamp: unknown, receivedAt: number): number {
  const at = typeof timestamp === 'string' ? Date.parse(timestamp) : Number.NaN;
  return Number.isFinite(at) ? Math.min(at, receivedAt) : receivedAt;
}

/**
 * The contact as a marketplace contact event carries it (NOTES §6.2: a full snapshot). Only when
 * `tags` and `customFields` are both present: without them "none" and "not sent" look the same.
 */
function eventSnapshot(event: GhlEvent, locationId: string | undefined, contactId: string | undefined): ContactSnapshot | undefined {
  if (!isSyncTrigger(event) || !locationId || !contactId || event.tags === undefined || event.customFields === undefined) return undefined;
  return toSnapshot({ ...event, id: contactId }, locationId);
}

function isSyncTrigger(event: GhlEvent): event is Exclude<GhlContactEvent, { type: 'ContactDelete' }> {
  return SYNC_TRIGGERS.has(event.type);
}

function readEvent(
  source: 'marketplace' | 'workflow',
  raw: Record<string, unknown>,
): { type: string; locationId?: string; contactId?: string; entityId?: string; snapshot?: ContactSnapshot } {
  if (source === 'workflow') {
    // Normalised at ingest; parsed again because job data comes back from Redis. Carries only what
    // the workflow maps, never a full snapshot: its sync reads the contact.
    const event = GhlWorkflowEventSchema.parse(raw);
    return { type: event.type, locationId: event.locationId, contactId: event.id };
  }
  const parsed = parseGhlEvent(raw);
  if (parsed.kind !== 'event') throw new PermanentJobError('INVALID_EVENT', `stored event no longer validates (${parsed.kind})`);
  const event = parsed.event;
  const locationId = eventLocationId(event);
  const contactId = eventContactId(event);
  const snapshot = eventSnapshot(event, locationId, contactId);
  return { type: event.type, entityId: eventEntityId(event), ...(locationId ? { locationId } : {}), ...(contactId ? { contactId } : {}), ...(snapshot ? { snapshot } : {}) };
}
