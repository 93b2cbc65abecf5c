/**
 * Reconcile poll: repairs what webhooks missed (GHL drops some, sends no TaskUpdate, and ContactUpdate
 * misses some changes: NOTES §6, §9). Every RECONCILE_INTERVAL each served location is searched for
 * contacts changed since the last run, oldest change first; a contact whose fingerprint is not the one
 * the bridge last wrote (or that the bridge never synced) gets a contact sync, coalesced like any other.
 *
 * Progress lives in Redis per location: the newest `dateUpdated` seen (the high-water mark), the
 * lower bound of the current pass, and where a pass stopped when it ran out of pages. A run spends at
 * most `maxPages` search calls (`reconcilePageBudget`), so a large backlog takes several runs and
 * never more than its share of the location's GHL budget. The syncs it queues are ordinary
 * contact-sync jobs and take their calls from the ordinary budget.
 */
import type { Job, JobsOptions, Queue } from 'bullmq';
import type { RedisClient } from '../state/keys.js';
import { z } from 'zod';
import type { ContactSearchPage } from '../clients/ghl/ghl-client.js';
import type { Contact, SearchContactsInput } from '../clients/ghl/schemas.js';
import type { Mapping } from '../config/mapping.js';
import { contactFingerprint, fingerprintScope } from '../domain/contact-fingerprint.js';
import type { Logger } from '../observability/logger.js';
import { DEFAULT_JOB_OPTIONS, QUEUE_NAMES, type ContactSyncJob } from '../queue/catalog.js';
import type { ContactFingerprints } from '../state/contact-fingerprint.js';
import type { CustomFieldIds } from '../state/custom-field-ids.js';
import { readReconcileMark, withReconcileLock, writeReconcileMark } from '../state/reconcile-marks.js';

export const ReconcileJobSchema = z.object({ locationId: z.string().min(1).max(128) });
export type ReconcileJob = z.infer<typeof ReconcileJobSchema>;


const SCHEDULER_PREFIX = 'reconcile:';
const DAY_MS = 86_400_000;
const DEFAULT_PAGE_LIMIT = 100;
const DEFAULT_SHARE = 0.1;

/**
 * Search pages one run may spend: `share` (default 10 %) of what the location may call during one
 * interval, under both GHL_RATE_LIMIT and GHL_DAILY_LIMIT:
 *   floor(share × min(max × interval / window, daily × interval / 1 day)), at least 1.
 * Defaults (100/10 s, 200 000/day, 15 min): min(9 000, 2 083) × 10 % = 208 pages of 100 contacts.
 */
export function reconcilePageBudget(input: { rateLimit: { max: number; windowMs: number }; dailyLimit?: number; intervalMs: number; share?: number }): number {
  const share = input.share ?? DEFAULT_SHARE;
  if (!(share > 0 && share <= 1)) throw new RangeError(`share must be in (0, 1], got ${share}`);
  const byWindow = (input.rateLimit.max * input.intervalMs) / input.rateLimit.windowMs;
  const byDay = input.dailyLimit === undefined ? Number.POSITIVE_INFINITY : (input.dailyLimit * input.intervalMs) / DAY_MS;
  return Math.max(1, Math.floor(share * Math.min(byWindow, byDay)));
}

/**
 * The one place the search request is shaped, as GHL's advanced-search guide documents it: the
 * `range` operator with a `{ gte }` bound (the guide has no bare `gte` operator; GHL answers 422),
 * sorted by `dateUpdated`, paged by `searchAfter`: the cursor the previous page ended on.
 */
export function changedSinceQuery(sinceMs: number, searchAfter: readonly (string | number)[] | undefined, pageLimit: number): SearchContactsInput {
  return {
    pageLimit,
    filters: [{ field: 'dateUpdated', operator: 'range', value: { gte: new Date(sinceMs).toISOString() } }],
    sort: [{ field: 'dateUpdated', direction: 'asc' }],
    ...(searchAfter === undefined ? {} : { searchAfter: [...searchAfter] }),
  };
}

export interface ReconcileDeps {
  ghl: { searchContacts(locationId: string, input: SearchContactsInput): Promise<ContactSearchPage> };
  fieldIds: Pick<CustomFieldIds, 'cached' | 'resolve'>;
  fingerprints: Pick<ContactFingerprints, 'isKnown'>;
  mapping: Mapping;
  scheduleContactSync(job: ContactSyncJob): Promise<void>;
  redis: RedisClient;
  prefix: string;
  /** GHL calls one run may spend (`reconcilePageBudget`); a custom-field lookup counts as one. */
  maxPages: number;
  /** Contacts per search page (GHL allows up to 500). Default 100. */
  pageLimit?: number;
  /** How far back a location's first run looks. Default 24 h. */
  initialLookbackMs?: number;
  /**
   * A finished pass restarts this long before the newest change it saw: GHL's search index lags
   * ("updates may take a few seconds to appear"), and equal timestamps must not be skipped. Default 60 s.
   */
  overlapMs?: number;
  /** Longest a run may hold the location's lock (a crashed run frees it after this). Default 10 min. */
  lockMs?: number;
  logger: Logger;
  now?: () => number;
}

export interface ReconcileOutcome {
  outcome: 'done' | 'capped' | 'skipped';
  reason?: string;
  pages: number;
  seen: number;
  scheduled: number;
  /** The high-water mark after the run (ISO). */
  newest?: string;
}

export function createReconcileProcessor(deps: ReconcileDeps) {
  const now = deps.now ?? Date.now;
  const pageLimit = deps.pageLimit ?? DEFAULT_PAGE_LIMIT;
  const lookbackMs = deps.initialLookbackMs ?? DAY_MS;
  const overlapMs = deps.overlapMs ?? 60_000;
  const lockMs = deps.lockMs ?? 600_000;
  if (!Number.isInteger(deps.maxPages) || deps.maxPages < 1) throw new RangeError(`maxPages must be a positive integer, got ${deps.maxPages}`);

  return async (job: Pick<Job, 'data'>): Promise<ReconcileOutcome> => {
    const { locationId } = ReconcileJobSchema.parse(job.data);
    // Two runs of one location (a slow run overlapping the next) would page the same contacts twice.
    return withReconcileLock(
      deps.redis,
      deps.prefix,
      locationId,
      lockMs,
      async () => {
        const outcome = await run(locationId);
        deps.logger.info({ locationId, ...outcome }, 'reconcile run done');
        return outcome;
      },
      (): ReconcileOutcome => ({ outcome: 'skipped', reason: 'already-running', pages: 0, seen: 0, scheduled: 0 }),
    );
  };

  async function run(locationId: string): Promise<ReconcileOutcome> {
    const started = now();
    let mark = (await readReconcileMark(deps.redis, deps.prefix, locationId)) ?? { since: started - lookbackMs, newest: started - lookbackMs };
    let calls = 0;
    const cachedIds = await deps.fieldIds.cached(locationId);
    const fieldIds = cachedIds ?? (await deps.fieldIds.resolve(locationId));
    if (cachedIds === undefined) calls += 1;
    const scope = fingerprintScope(deps.mapping, fieldIds);
    let pages = 0;
    let seen = 0;
    let scheduled = 0;
    const shapes = new Set<string>();

    while (calls < deps.maxPages) {
      const page = await deps.ghl.searchContacts(locationId, changedSinceQuery(mark.since, mark.cursor, pageLimit));
      calls += 1;
      pages += 1;
      seen += page.items.length;
      if (!shapes.has(page.cursorShape)) {
        shapes.add(page.cursorShape);
        deps.logger.debug({ locationId, cursorShape: page.cursorShape }, 'ghl search cursor shape');
      }
      const changed = await Promise.all(page.items.map(async (contact) => ((await isUnchanged(locationId, contact)) ? undefined : contact.id)));
      const ids = changed.filter((id): id is string => id !== undefined);
      await Promise.all(ids.map((contactId) => deps.scheduleContactSync({ locationId, contactId, reason: 'reconcile', triggeredAt: now() })));
      scheduled += ids.length;
      const newest = Math.max(mark.newest, ...page.items.map((contact) => epochMs(contact.dateUpdated) ?? Number.NEGATIVE_INFINITY));
      const complete = page.nextSearchAfter === undefined && page.items.length < pageLimit;
      if (page.nextSearchAfter !== undefined) mark = { since: mark.since, newest, cursor: page.nextSearchAfter };
      // A full page without any cursor: step on by date instead.
      else if (!complete) mark = { since: Math.max(mark.since, newest), newest };
      // Pass complete: the next one starts a little before the newest change seen, never earlier than this one.
      else mark = { since: Math.max(mark.since, newest - overlapMs), newest };
      // Saved after every page: a run cut short (budget wait, crash) resumes here.
      await writeReconcileMark(deps.redis, deps.prefix, locationId, mark);
      if (complete) return { outcome: 'done', pages, seen, scheduled, newest: new Date(mark.newest).toISOString() };
    }
    return { outcome: 'capped', reason: 'page budget spent', pages, seen, scheduled, newest: new Date(mark.newest).toISOString() };

    async function isUnchanged(location: string, contact: Contact): Promise<boolean> {
      return deps.fingerprints.isKnown(location, contact.id, contactFingerprint(contact, scope));
    }
  }
}

/**
 * At worker start: one job scheduler per served location (`reconcile:<locationId>`, every
 * `intervalMs`), and the schedulers of locations no longer served removed. `intervalMs` 0 removes all.
 */
export async function scheduleReconcile(queue: Queue, locationIds: readonly string[], intervalMs: number, jobOptions: JobsOptions = DEFAULT_JOB_OPTIONS[QUEUE_NAMES.reconcile]): Promise<void> {
  const wanted = new Set(intervalMs > 0 ? locationIds : []);
  for (const locationId of wanted) {
    const data: ReconcileJob = ReconcileJobSchema.parse({ locationId });
    await queue.upsertJobScheduler(`${SCHEDULER_PREFIX}${locationId}`, { every: intervalMs }, { name: 'reconcile', data, opts: jobOptions });
  }
  const schedulers = await queue.getJobSchedulers(0, -1);
  for (const scheduler of schedulers) {
    if (scheduler.key.startsWith(SCHEDULER_PREFIX) && !wanted.has(scheduler.key.slice(SCHEDULER_PREFIX.length))) await queue.removeJobScheduler(scheduler.key);
  }
}

function epochMs(date: string | null | undefined): number | undefined {
  if (date === undefined || date === null) return undefined;
  const ms = Date.parse(date);
  return Number.isNaN(ms) ? undefined : ms;
}
