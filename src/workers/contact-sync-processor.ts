/**
 * One contact sync run: take the contact's latest state (the snapshot its webhook or review search
 * left, else read from GHL), look it up in Trustpilot (cache first), plan the writes, carry them out,
 * and remember the contact's fingerprint so that GHL's echo of these writes costs nothing.
 */
import type { Job } from 'bullmq';
import { isGhlNotFound } from '../clients/ghl/ghl-api-error.js';
import type { Contact } from '../clients/ghl/schemas.js';
import { noteRunProgress } from '../clients/http/budget-wait.js';
import { mappedFieldKeys, type Mapping } from '../config/mapping.js';
import { fingerprintScope } from '../domain/contact-fingerprint.js';
import { toSnapshot } from '../domain/contact-snapshot.js';
import { echoFingerprints, storedReviewId, syncReads } from '../domain/contact-sync.js';
import { mergePlans, type ContactSnapshot, type Plan, type PlannedWrite } from '../domain/plan.js';
import { planSurveyLink } from '../domain/survey-link.js';
import { planTrustpilot } from '../domain/trustpilot-plan.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { ContactSyncJobSchema, type ContactSyncJob } from '../queue/catalog.js';
import { failedSyncRecord, syncContext, type ContactFacts } from '../state/contact-facts.js';
import type { ContactSnapshots } from '../state/contact-snapshots.js';
import type { ContactFingerprints } from '../state/contact-fingerprint.js';
import type { CustomFieldIds } from '../state/custom-field-ids.js';
import type { WriteLedger } from '../state/write-ledger.js';
import { applyPlan, type ApplyDeps, type ApplyResult, type GhlWriter } from './apply-plan.js';
import type { TrustpilotLookup } from './trustpilot-lookup.js';

export interface ContactSyncDeps {
  ghl: GhlWriter & { getContact(locationId: string, contactId: string): Promise<Contact> };
  facts: ContactFacts;
  fieldIds: CustomFieldIds;
  ledger: WriteLedger;
  fingerprints: ContactFingerprints;
  /** The latest contact state left by webhooks and review searches; without it every run reads the contact. */
  snapshots?: ContactSnapshots;
  /** Absent when no Trustpilot credentials are configured. */
  trustpilot: TrustpilotLookup | undefined;
  mapping: Mapping;
  /** OPINIONSTAGE_SURVEY_URL: when set, every synced contact gets its personal survey link. */
  surveyUrl: string | undefined;
  apply: Omit<ApplyDeps, 'ghl' | 'ledger' | 'logger'>;
  metrics: Metrics;
  logger: Logger;
  now?: () => number;
}

export type ContactSyncOutcome = { outcome: 'synced' | 'skipped'; reason?: string; writes: number; ghlCalls: number; plan?: PlannedWrite[] };

export function createContactSyncProcessor(deps: ContactSyncDeps) {
  const now = deps.now ?? Date.now;
  return async (job: Job): Promise<ContactSyncOutcome> => {
    const data = ContactSyncJobSchema.parse(job.data);
    return syncContact(deps, data.locationId, data.contactId, now, { fromSnapshot: true, eventsAt: await eventsAt(deps, job, data), trigger: data.reason });
  };
}

/**
 * When the newest event this run answers was received: the job's own (the first of a coalesced
 * burst) or a later one marked when its sync was scheduled. For reconcile and backfill that is when
 * their run queued the contact, so one listing serves the whole batch. A retry answers its own start.
 */
async function eventsAt(deps: ContactSyncDeps, job: Job, data: ContactSyncJob): Promise<number | undefined> {
  if (job.attemptsMade > 0) return undefined;
  const marked = await deps.snapshots?.latestEvent(data.locationId, data.contactId);
  return Math.max(data.triggeredAt, marked ?? 0);
}

export interface SyncOptions {
  /**
   * Plan from the stored snapshot when there is a usable one (queued runs). A retry finds it already
   * taken and reads the contact: the failed attempt may have written part of its plan.
   */
  fromSnapshot?: boolean;
  /**
   * When the newest event this run answers was received: a Trustpilot "no review" must be true as of
   * then. Absent (admin sync, retries): the run's start.
   */
  eventsAt?: number;
  /** What started the run (the job's reason); absent: an admin's "sync now". */
  trigger?: string;
}

/**
 * The whole flow for one contact; also what `POST /admin/contacts/:id/sync` runs (reading the contact).
 * A run that throws is in the contact's timeline too, with the GHL calls it made and how long it took.
 */
export async function syncContact(
  deps: ContactSyncDeps,
  locationId: string,
  contactId: string,
  now: () => number = Date.now,
  options: SyncOptions = {},
): Promise<ContactSyncOutcome> {
  const started = now();
  const tally = { calls: 0 };
  try {
    return await runSync({ ...deps, ghl: countingCalls(deps.ghl, tally) }, { locationId, contactId }, started, now, options, tally);
  } catch (error) {
    const run = { trigger: options.trigger ?? 'admin', started, finished: now(), calls: tally.calls, dryRun: deps.apply.dryRun };
    await deps.facts.recordSync(failedSyncRecord({ locationId, contactId }, run, error)).catch(() => undefined);
    throw error;
  }
}

/**
 * The client with every method call counted into `tally`: a run that fails midway still knows the
 * calls it made (each client method is one GHL request, a failed one included).
 */
function countingCalls<T extends object>(client: T, tally: { calls: number }): T {
  return new Proxy(client, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]): unknown => {
        tally.calls += 1;
        return Reflect.apply(value, target, args);
      };
    },
  });
}

async function runSync(deps: ContactSyncDeps, target: SyncTarget, started: number, now: () => number, options: SyncOptions, tally: { calls: number }): Promise<ContactSyncOutcome> {
  const { locationId, contactId } = target;
  if (await deps.facts.isDeleted(locationId, contactId)) return skip(deps, locationId, contactId, started, 'contact-deleted');
  const state = await contactState(deps, locationId, contactId, options.fromSnapshot === true);
  if (state === 'deleted') return skip(deps, locationId, contactId, started, 'contact-deleted');
  const { snapshot } = state;
  const fields = await resolveFieldIds(deps, locationId);
  // Field ids are read through their own client: counted here, for a later step's failure record.
  tally.calls += fields.calls;
  // Never later than now: the event's clock (the web process's) may run ahead of this one.
  const asOf = Math.min(options.eventsAt ?? started, started);
  const { plan, review, company } = await planSync(deps, target, snapshot, fields.ids, asOf);
  if (!deps.apply.dryRun) await rememberEchoes(deps, target, snapshot, plan, fields.ids);
  let result: ApplyResult;
  try {
    result = await applyPlan({ ...deps.apply, ghl: deps.ghl, ledger: deps.ledger, logger: deps.logger }, target, plan);
  } catch (error) {
    // Planned from a snapshot (or deleted mid-run), the first sign of a deletion may be a write's "not found".
    if (isGhlNotFound(error) && (await deps.facts.isDeleted(locationId, contactId))) return skip(deps, locationId, contactId, started, 'contact-deleted');
    throw error;
  }
  const ghlCalls = state.calls + fields.calls + result.calls;
  await deps.facts.recordSync({
    locationId,
    contactId,
    at: started,
    durationMs: now() - started,
    outcome: 'synced',
    upstreamCalls: ghlCalls,
    writes: result.writes,
    read: syncReads(state.source, review, company),
    wrote: plan.writes.map((write) => write.kind),
    ...(plan.warnings.length > 0 ? { warnings: [...new Set(plan.warnings)].slice(0, 10) } : {}),
    ...syncContext(snapshot, options, now(), deps.apply.dryRun),
  });
  deps.logger.debug({ locationId, contactId, writes: result.writes, ghlCalls }, 'contact synced');
  return { outcome: 'synced', writes: result.writes, ghlCalls, ...(deps.apply.dryRun ? { plan: plan.writes } : {}) };
}

type SyncTarget = { locationId: string; contactId: string };

/** The contact's state to plan from, the GHL calls it cost, and the kind of snapshot it came from (none: read). */
type ContactState = { snapshot: ContactSnapshot; calls: number; source?: string };

/**
 * The stored snapshot when the run may use one and it is fresh, else the contact read from GHL;
 * 'deleted' when the read finds a contact whose deletion was seen.
 */
async function contactState(deps: ContactSyncDeps, locationId: string, contactId: string, fromSnapshot: boolean): Promise<ContactState | 'deleted'> {
  const taken = fromSnapshot && deps.snapshots ? await deps.snapshots.take(locationId, contactId) : undefined;
  if (taken?.snapshot) {
    // Taken once: were this run delayed now, its retry would have to read the contact instead.
    noteRunProgress();
    return { snapshot: taken.snapshot, calls: 0, source: taken.source };
  }
  if (taken?.reason === 'stale' || taken?.reason === 'expired') deps.logger.debug({ locationId, contactId, reason: taken.reason }, 'contact snapshot not used');
  try {
    return { snapshot: toSnapshot(await deps.ghl.getContact(locationId, contactId), locationId), calls: 1 };
  } catch (error) {
    // Deleted after the event was queued (a ContactDelete was seen): expected, no alert.
    if (isGhlNotFound(error) && (await deps.facts.isDeleted(locationId, contactId))) return 'deleted';
    throw error;
  }
}

async function resolveFieldIds(deps: ContactSyncDeps, locationId: string): Promise<{ ids: Record<string, string>; calls: number }> {
  const { fields, listed } = await deps.fieldIds.resolveCounted(locationId, mappedFieldKeys(deps.mapping));
  return { ids: fields, calls: listed ? 1 : 0 };
}

async function planSync(deps: ContactSyncDeps, target: SyncTarget, snapshot: ContactSnapshot, fieldIds: Record<string, string>, asOf: number) {
  const mapping = deps.mapping.trustpilot;
  const [review, company] = deps.trustpilot
    ? [await deps.trustpilot.review(snapshot, storedReviewId(snapshot, fieldIds, mapping), asOf), await deps.trustpilot.company(snapshot)]
    : [undefined, undefined];
  const ledger = await deps.ledger.view(target.locationId, target.contactId);
  const plan = mergePlans(
    planTrustpilot({ contact: snapshot, review, company, fieldIds, ledger, mapping }),
    planSurveyLink(snapshot, fieldIds, deps.mapping.opinionStage, deps.surveyUrl),
  );
  for (const warning of new Set(plan.warnings)) deps.logger.warn({ ...target, warning }, 'sync warning');
  return { plan, review, company };
}

/**
 * Remembered before writing: GHL echoes the first write while the run is still making the next
 * ones, and an echo that arrives before its fingerprint is known costs a second run.
 */
async function rememberEchoes(deps: ContactSyncDeps, target: SyncTarget, snapshot: ContactSnapshot, plan: Plan, fieldIds: Record<string, string>): Promise<void> {
  const { final, intermediate } = echoFingerprints(snapshot, plan, fingerprintScope(deps.mapping, fieldIds));
  await deps.fingerprints.remember(target.locationId, target.contactId, final, intermediate);
}

async function skip(deps: ContactSyncDeps, locationId: string, contactId: string, started: number, reason: string): Promise<ContactSyncOutcome> {
  deps.metrics.skipped.inc({ queue: 'contact-sync', reason });
  await deps.facts.recordSync({ locationId, contactId, at: started, durationMs: 0, outcome: 'skipped', reason, upstreamCalls: 0, writes: 0 });
  return { outcome: 'skipped', reason, writes: 0, ghlCalls: 0 };
}
