/**
 * Routes one accepted GHL event to its flows. Contact events become a coalesced contact sync, unless
 * the contact's fingerprint shows nothing the flows depend on changed (GHL echoing the bridge's own
 * write, or an unchanged re-save); the event's contact snapshot is stored for that sync to plan from
 * (no read of the contact); deletions are remembered so a later 404 is expected; completion
 * or deletion of a task the bridge made is recorded so it is never reopened or recreated.
 *
 * The event stays typed to the end: one handler per event family, chosen by an exhaustive switch.
 */
import type { Job } from 'bullmq';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { GhlWebhookJobSchema, type ContactSyncJob, type GhlWebhookJob, type PushEvent } from '../queue/catalog.js';
import type { Mapping } from '../config/mapping.js';
import { contactFingerprint, fingerprintScope, FingerprintInputSchema } from '../domain/contact-fingerprint.js';
import { toSnapshot } from '../domain/contact-snapshot.js';
import type { ContactFacts } from '../state/contact-facts.js';
import type { ContactSnapshots } from '../state/contact-snapshots.js';
import type { ContactFingerprints } from '../state/contact-fingerprint.js';
import type { CustomFieldIds } from '../state/custom-field-ids.js';
import type { WriteLedger } from '../state/write-ledger.js';
import {
  parseGhlEvent,
  type ContactDeleteEvent,
  type GhlAppEvent,
  type GhlContactEvent,
  type GhlEvent,
  type GhlEventType,
  type GhlNoteEvent,
  type GhlTaskEvent,
} from '../webhooks/ghl-events.js';
import { GhlWorkflowEventSchema, type GhlWorkflowEvent } from '../webhooks/ghl-workflow.js';
import { PermanentJobError } from './classify-error.js';

/** The effects routing has outside its own state: queueing work, and ending service to a location. */
export interface GhlRouterPorts {
  /** Queues a (coalesced) contact sync. */
  scheduleContactSync(job: ContactSyncJob): Promise<void>;
  /** Present when OPINIONSTAGE_PUSH_URL is set: queues the change for forwarding. */
  forward?(event: PushEvent): Promise<void>;
  /** Marketplace-app mode: an uninstalled location stops being served (its tokens are deleted). */
  appUninstalled?(locationId: string): Promise<void>;
}

export interface GhlWebhookProcessorDeps {
  ports: GhlRouterPorts;
  facts: Pick<ContactFacts, 'markDeleted'>;
  ledger: Pick<WriteLedger, 'taskChanged'>;
  fingerprints: Pick<ContactFingerprints, 'isKnown'>;
  /** Where a contact event's snapshot waits for the sync it schedules. */
  snapshots?: Pick<ContactSnapshots, 'put' | 'forget'>;
  fieldIds: Pick<CustomFieldIds, 'cached'>;
  mapping: Mapping;
  /** GHL_APP_ID: ingest already ignores other apps' events; a job queued before it was set is checked again here. */
  appId?: string | undefined;
  metrics: Metrics;
  logger: Logger;
}

export type RouteOutcome = { routed: 'contact-sync' | 'contact-deleted' | 'unchanged' | 'task-recorded' | 'recorded' | 'foreign-app'; type: GhlEventType };

/** A workflow delivery: a ContactUpdate that carries only what the workflow maps, never a full snapshot. */
type RoutedEvent = GhlEvent | GhlWorkflowEvent;
/** Contact events that schedule a sync. */
type SyncTriggerEvent = Exclude<GhlContactEvent, ContactDeleteEvent> | GhlWorkflowEvent;

/** The changes forwarded to OPINIONSTAGE_PUSH_URL. */
const FORWARDED: ReadonlySet<GhlEventType> = new Set(['ContactCreate', 'ContactUpdate', 'TaskCreate', 'TaskComplete', 'TaskDelete', 'NoteCreate', 'NoteUpdate']);

export function createGhlWebhookProcessor(deps: GhlWebhookProcessorDeps) {
  const { ports } = deps;

  return async (job: Job): Promise<RouteOutcome> => {
    const data = GhlWebhookJobSchema.parse(job.data);
    const event = readEvent(data);
    if (deps.appId !== undefined && 'appId' in event && event.appId !== undefined && event.appId !== deps.appId) {
      // Another app's install or uninstall must never touch our tokens.
      deps.metrics.skipped.inc({ queue: 'ghl-webhooks', reason: 'foreign-app' });
      return { routed: 'foreign-app', type: event.type };
    }
    // Forwarded before routing, so an echo skipped below is still a change the collector hears about.
    if (ports.forward && FORWARDED.has(event.type) && event.locationId) await ports.forward(pushEvent(event.type, event.locationId, data, String(job.id)));
    return route(event, data);
  };

  function route(event: RoutedEvent, data: GhlWebhookJob): Promise<RouteOutcome> {
    switch (event.type) {
      case 'ContactCreate':
      case 'ContactUpdate':
      case 'ContactTagUpdate':
      case 'ContactDndUpdate':
        return onContactChange(event, data);
      case 'ContactDelete':
        return onContactDelete(event);
      case 'TaskCreate':
      case 'TaskComplete':
      case 'TaskDelete':
        return onTask(event);
      case 'NoteCreate':
      case 'NoteUpdate':
      case 'NoteDelete':
        return recorded(event);
      case 'AppInstall':
      case 'AppUninstall':
        return onApp(event);
      default:
        return unreachable(event);
    }
  }

  async function onContactChange(event: SyncTriggerEvent, data: GhlWebhookJob): Promise<RouteOutcome> {
    // A create has no earlier state to compare with; the other contact events carry the full state.
    if (event.type !== 'ContactCreate' && (await unchangedSinceLastSync(deps, event.locationId, event.id, data.event))) {
      deps.metrics.skipped.inc({ queue: 'ghl-webhooks', reason: 'unchanged' });
      return { routed: 'unchanged', type: event.type };
    }
    const snapshot = eventSnapshot(event);
    // Stored before the job is added, so the run always finds it.
    if (deps.snapshots && snapshot) await deps.snapshots.put(snapshot, observedAt(data.event.timestamp, data.receivedAt), 'webhook');
    await ports.scheduleContactSync({ locationId: event.locationId, contactId: event.id, reason: 'webhook', triggeredAt: data.receivedAt, eventType: event.type });
    return { routed: 'contact-sync', type: event.type };
  }

  async function onContactDelete(event: ContactDeleteEvent): Promise<RouteOutcome> {
    await deps.facts.markDeleted(event.locationId, event.id);
    await deps.snapshots?.forget(event.locationId, event.id);
    return { routed: 'contact-deleted', type: event.type };
  }

  async function onTask(event: GhlTaskEvent): Promise<RouteOutcome> {
    if (event.type === 'TaskCreate') return recorded(event);
    const ours = await deps.ledger.taskChanged(event.locationId, event.id, event.type === 'TaskComplete' ? 'completed' : 'deleted');
    return { routed: ours ? 'task-recorded' : 'recorded', type: event.type };
  }

  async function onApp(event: GhlAppEvent): Promise<RouteOutcome> {
    if (event.type === 'AppUninstall' && event.locationId && ports.appUninstalled) {
      await ports.appUninstalled(event.locationId);
      return { routed: 'recorded', type: event.type };
    }
    return recorded(event);
  }

  async function recorded(event: GhlNoteEvent | GhlTaskEvent | GhlAppEvent): Promise<RouteOutcome> {
    deps.logger.debug({ eventType: event.type, locationId: event.locationId }, 'event recorded');
    return { routed: 'recorded', type: event.type };
  }
}

/** Whether the event carries the fingerprint the bridge last synced (its own echo, or an unchanged re-save). */
async function unchangedSinceLastSync(deps: GhlWebhookProcessorDeps, locationId: string, contactId: string, payload: Record<string, unknown>): Promise<boolean> {
  const fieldIds = await deps.fieldIds.cached(locationId);
  if (fieldIds === undefined) return false;
  const snapshot = FingerprintInputSchema.safeParse(payload);
  if (!snapshot.success) return false;
  return deps.fingerprints.isKnown(locationId, contactId, contactFingerprint(snapshot.data, fingerprintScope(deps.mapping, fieldIds)));
}

function unreachable(event: never): never {
  throw new PermanentJobError('INVALID_EVENT', `no route for event ${JSON.stringify(event)}`);
}


function pushEvent(type: GhlEventType, locationId: string, data: GhlWebhookJob, jobId: string): PushEvent {
  const timestamp = typeof data.event.timestamp === 'string' ? data.event.timestamp : new Date(data.receivedAt).toISOString();
  const webhookId = typeof data.event.webhookId === 'string' ? data.event.webhookId : undefined;
  return { id: webhookId ?? jobId, type, occurredAt: timestamp, locationId, data: data.event };
}

/**
 * When GHL says the contact's state was observed: the event's `timestamp`, never later than its
 * arrival (a clock running ahead must not make an old snapshot look newer than the bridge's writes).
 */
function observedAt(timestamp: unknown, receivedAt: number): number {
  const at = typeof timestamp === 'string' ? Date.parse(timestamp) : Number.NaN;
  return Number.isFinite(at) ? Math.min(at, receivedAt) : receivedAt;
}

/**
 * The contact as a marketplace contact event carries it: GHL sends the contact's full state with each
 * one. Only when `tags` and `customFields` are both present: without them "none" and "not sent" look
 * the same. A workflow delivery carries only what the workflow maps, so its sync reads the contact.
 */
function eventSnapshot(event: SyncTriggerEvent) {
  if ('origin' in event || event.tags === undefined || event.customFields === undefined) return undefined;
  return toSnapshot(event, event.locationId);
}

function readEvent(data: GhlWebhookJob): RoutedEvent {
  // Normalised at ingest; parsed again because job data comes back from Redis.
  if (data.source === 'workflow') return GhlWorkflowEventSchema.parse(data.event);
  const parsed = parseGhlEvent(data.event);
  if (parsed.kind !== 'event') throw new PermanentJobError('INVALID_EVENT', `stored event no longer validates (${parsed.kind})`);
  return parsed.event;
}
