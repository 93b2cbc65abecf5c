/**
 * What the bridge knows about contacts beyond GHL's own data: which were deleted (so a later 404 is
 * expected, not a failure) and the recent sync runs shown to operators.
 */
import type { ContactSnapshot } from '../domain/plan.js';
import { createContactHistory, type ContactHistory, type SyncEntry } from './contact-history.js';
import { createFlowSeries, latencyField, type FlowSeries } from './flow-series.js';
import { stateKey, type RedisClient } from './keys.js';

const DELETED_TTL_SECONDS = 30 * 86_400;
const RECENT_SYNCS_KEPT = 200;

/**
 * One sync run: what was read, what was written (by kind, e.g. `set-fields`, `create-note`), the
 * calls made, and, when known, what started it, the contact's name/email/phone and the end-to-end
 * latency from the triggering event.
 */
export type SyncRecord = SyncEntry;

export interface ContactFacts {
  markDeleted(locationId: string, contactId: string): Promise<void>;
  isDeleted(locationId: string, contactId: string): Promise<boolean>;
  recordSync(record: SyncRecord): Promise<void>;
  recentSyncs(limit?: number): Promise<SyncRecord[]>;
  /** Per-contact timelines and the directory the dashboard searches. */
  history: ContactHistory;
  /** Per-minute counters for the dashboard's charts. */
  series: FlowSeries;
}

/** The chart counters one run adds: its outcome, its latency bucket, the GHL calls of its location. */
export function syncCounts(record: SyncRecord): Record<string, number> {
  return {
    [`sync:${record.outcome}`]: 1,
    ...(record.latencyMs !== undefined ? { [latencyField(record.latencyMs)]: 1 } : {}),
    [`ghl-calls:${record.locationId}`]: record.upstreamCalls,
  };
}

/**
 * `series` takes each run's chart counts: by default written with the run's record; the service passes
 * its buffered series (src/lifecycle/wiring/state.ts), which writes them with the rest of the chart
 * counts, at most a second later, saving a round trip per run.
 */
export function createContactFacts(redis: RedisClient, prefix: string, series: FlowSeries = createFlowSeries(redis, prefix)): ContactFacts {
  const recentKey = `${prefix}:recent-syncs`;
  const history = createContactHistory(redis, prefix);
  return {
    history,
    series,
    async markDeleted(locationId, contactId) {
      await redis.set(stateKey(prefix, 'deleted-contact', locationId, contactId), String(Date.now()), 'EX', DELETED_TTL_SECONDS);
    },
    async isDeleted(locationId, contactId) {
      return (await redis.exists(stateKey(prefix, 'deleted-contact', locationId, contactId))) === 1;
    },
    async recordSync(record) {
      await Promise.all([
        redis.multi().lpush(recentKey, JSON.stringify(record)).ltrim(recentKey, 0, RECENT_SYNCS_KEPT - 1).exec(),
        history.record(record),
        series.add(syncCounts(record), record.at + record.durationMs),
      ]);
    },
    async recentSyncs(limit = 50) {
      const rows = await redis.lrange(recentKey, 0, limit - 1);
      return rows.flatMap((row) => {
        try {
          return [JSON.parse(row) as SyncRecord];
        } catch {
          return [];
        }
      });
    },
  };
}

/** What a finished run adds to its record: its trigger, the contact's identity, its end-to-end latency. */
export function syncContext(
  contact: Pick<ContactSnapshot, 'name' | 'firstName' | 'lastName' | 'email'>,
  options: { trigger?: string; eventsAt?: number },
  finishedAt: number,
  dryRun: boolean,
): Pick<SyncRecord, 'trigger' | 'contact' | 'latencyMs' | 'dryRun'> {
  const name = contact.name ?? ([contact.firstName, contact.lastName].filter(Boolean).join(' ') || undefined);
  return {
    trigger: options.trigger ?? 'admin',
    contact: { ...(name ? { name } : {}), ...(contact.email ? { email: contact.email } : {}) },
    ...(options.eventsAt !== undefined ? { latencyMs: Math.max(0, finishedAt - options.eventsAt) } : {}),
    ...(dryRun ? { dryRun } : {}),
  };
}

/** The record of a run that threw: its error in the record's reason, the calls it made before. */
export function failedSyncRecord(
  job: { locationId: string; contactId: string },
  run: { trigger: string; started: number; finished: number; calls: number; dryRun: boolean },
  error: unknown,
): SyncRecord {
  const reason = (error instanceof Error ? error.message : String(error)).slice(0, 500);
  return {
    locationId: job.locationId,
    contactId: job.contactId,
    at: run.started,
    durationMs: run.finished - run.started,
    outcome: 'failed',
    reason,
    trigger: run.trigger,
    upstreamCalls: run.calls,
    ...(run.dryRun ? { dryRun: true } : {}),
  };
}
