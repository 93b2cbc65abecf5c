/**
 * The latest known state of a contact, so a sync can plan without reading it from GHL again. GHL's
 * contact webhooks carry a full snapshot, and a review's contact search returns one; the one who
 * schedules the sync stores it here (the coalesced sync job keeps its FIRST data, so job data cannot
 * carry the latest), and the sync takes it once. Newest observation wins, across takes too: an older
 * snapshot processed late never replaces a newer one already used.
 *
 * A snapshot observed before the bridge's own last write to the contact lacks that write; planning
 * from it could skip a write that is needed. So every run that writes contact fields or tags marks
 * when it started and finished, and `take` refuses a snapshot that may predate such a write: the sync
 * then reads the contact from GHL, as it does without a snapshot.
 *
 * Beside it, when the newest event for the contact was received (`event`): the coalesced job's data
 * holds the first event's time, and a Trustpilot "no review" must be true as of the latest one.
 *
 * One hash per contact: `at` (newest observation seen), `data` (the snapshot, removed once taken),
 * `started` / `finished` (the bridge's last contact-write run, ms), `event` (newest event receipt, ms).
 */
import { z } from 'zod';
import type { ContactSnapshot } from '../domain/plan.js';
import { stateKey, type RedisClient } from './keys.js';
import { loadScript } from './redis-script.js';
import { BridgeError } from '../observability/errors.js';
import { storedJson, storedNumber } from './stored-text.js';

/** Webhook `timestamp`s come from GHL's clock, write marks from ours: a snapshot this close after a write counts as before it. */
export const SNAPSHOT_CLOCK_SKEW_MS = 1_000;
/** A write run that started and never said it finished (crash) is assumed done this long after it started. */
export const WRITE_LEASE_MS = 5 * 60_000;
/** How old an observation can be on arrival: GHL webhooks outside ±5 min are refused at ingest. */
const MAX_DELIVERY_AGE_MS = 5 * 60_000;

export type SnapshotSource = 'webhook' | 'search' | 'read';

const StoredSnapshotSchema = z.object({
  source: z.enum(['webhook', 'search', 'read']),
  contact: z.object({
    id: z.string().min(1),
    locationId: z.string().min(1),
    firstName: z.string().optional(),
    lastName: z.string().optional(),
    name: z.string().optional(),
    email: z.string().optional(),
    website: z.string().optional(),
    assignedTo: z.string().optional(),
    tags: z.array(z.string()),
    customFields: z.array(z.object({ id: z.string(), value: z.unknown() })),
  }),
});

export type TakenSnapshot =
  | { snapshot: ContactSnapshot; source: SnapshotSource; observedAt: number }
  | { snapshot: undefined; reason: 'none' | 'stale' | 'expired' };

export interface ContactSnapshots {
  /** Stores the snapshot unless a newer observation is stored or was already taken; true when stored. */
  put(snapshot: ContactSnapshot, observedAt: number, source: SnapshotSource): Promise<boolean>;
  /** Takes the stored snapshot (at most once); none when it may predate the bridge's own last write. */
  take(locationId: string, contactId: string): Promise<TakenSnapshot>;
  /** Before writing contact fields or tags. */
  writeStarted(locationId: string, contactId: string): Promise<void>;
  /** After those writes, whether they succeeded or not. */
  writeFinished(locationId: string, contactId: string): Promise<void>;
  /** An event for the contact was received at `at` (ms) and its sync scheduled; the mark only moves forward. */
  eventReceived(locationId: string, contactId: string, at: number): Promise<void>;
  /** When the newest event for the contact was received, if one was marked. */
  latestEvent(locationId: string, contactId: string): Promise<number | undefined>;
  /** The contact was deleted: nothing to plan from. */
  forget(locationId: string, contactId: string): Promise<void>;
}

export interface ContactSnapshotsOptions {
  /** How long an untaken snapshot is kept: a few coalesce windows plus room for a backlog. */
  ttlMs: number;
  now?: () => number;
}

/** A few coalesce windows, plus room for a sync waiting behind a backlog or the rate limit. */
export function snapshotTtlMs(coalesceWindowMs: number): number {
  return 4 * coalesceWindowMs + 10 * 60_000;
}

// KEYS: hash. ARGV: observedAt, data, ttlMs. Ties go to the later put (GHL sends one contact's events in order).
const PUT_SCRIPT = `
local at = tonumber(redis.call('HGET', KEYS[1], 'at') or '-1')
if tonumber(ARGV[1]) < at then return 0 end
redis.call('HSET', KEYS[1], 'at', ARGV[1], 'data', ARGV[2])
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[3]) then redis.call('PEXPIRE', KEYS[1], ARGV[3]) end
return 1
`;

// KEYS: hash. Returns { data, at, started, finished }; the data is gone afterwards (the high-water mark stays).
const TAKE_SCRIPT = `
local values = redis.call('HMGET', KEYS[1], 'data', 'at', 'started', 'finished')
if values[1] then redis.call('HDEL', KEYS[1], 'data') end
return values
`;

// KEYS: hash. ARGV: field, atMs, ttlMs. Marks only move forward.
const MARK_SCRIPT = `
local current = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
if tonumber(ARGV[2]) > current then redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) end
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[3]) then redis.call('PEXPIRE', KEYS[1], ARGV[3]) end
return 1
`;

const TakeReplySchema = z.tuple([z.string().nullable(), z.string().nullable(), z.string().nullable(), z.string().nullable()]);

export class ContactSnapshotError extends BridgeError<'CONTACT_SNAPSHOT_SCRIPT'> {
  constructor(message: string) {
    super('CONTACT_SNAPSHOT_SCRIPT', message);
  }
}

export function createContactSnapshots(redis: RedisClient, prefix: string, options: ContactSnapshotsOptions): ContactSnapshots {
  const now = options.now ?? Date.now;
  const maxAgeMs = options.ttlMs + MAX_DELIVERY_AGE_MS;
  // Marks outlive any snapshot that could still be taken, so a stale one is always recognised.
  const markTtlMs = maxAgeMs + WRITE_LEASE_MS + 60_000;
  const put = loadScript(redis, PUT_SCRIPT);
  const take = loadScript(redis, TAKE_SCRIPT);
  const mark = loadScript(redis, MARK_SCRIPT);
  const key = (locationId: string, contactId: string) => stateKey(prefix, 'contact-snapshot', locationId, contactId);

  return {
    async put(snapshot, observedAt, source) {
      const data = JSON.stringify({ source, contact: snapshot });
      return (await put([key(snapshot.locationId, snapshot.id)], [Math.floor(observedAt), data, options.ttlMs])) === 1;
    },
    async take(locationId, contactId) {
      const reply = TakeReplySchema.safeParse(await take([key(locationId, contactId)], []));
      if (!reply.success) throw new ContactSnapshotError('unexpected contact-snapshot script reply');
      const [data, at, started, finished] = reply.data;
      if (data === null || at === null) return { snapshot: undefined, reason: 'none' };
      const stored = StoredSnapshotSchema.safeParse(storedJson(data));
      // A shape from an older version is no snapshot: the sync reads the contact instead.
      if (!stored.success || stored.data.contact.id !== contactId || stored.data.contact.locationId !== locationId) return { snapshot: undefined, reason: 'none' };
      const observedAt = Number(at);
      const verdict = judgeSnapshot(observedAt, { started: storedNumber(started), finished: storedNumber(finished) }, now(), maxAgeMs);
      if (verdict !== 'fresh') return { snapshot: undefined, reason: verdict };
      return { snapshot: stored.data.contact, source: stored.data.source, observedAt };
    },
    async writeStarted(locationId, contactId) {
      await mark([key(locationId, contactId)], ['started', now(), markTtlMs]);
    },
    async writeFinished(locationId, contactId) {
      await mark([key(locationId, contactId)], ['finished', now(), markTtlMs]);
    },
    async eventReceived(locationId, contactId, at) {
      await mark([key(locationId, contactId)], ['event', Math.floor(at), markTtlMs]);
    },
    async latestEvent(locationId, contactId) {
      return storedNumber(await redis.hget(key(locationId, contactId), 'event'));
    },
    async forget(locationId, contactId) {
      await redis.hdel(key(locationId, contactId), 'data');
    },
  };
}

/**
 * Whether a snapshot observed at `observedAt` can stand for the contact now: not when it may predate
 * the bridge's last finished write (clock skew allowed for), nor a write run still in progress or
 * interrupted within its lease, nor when it is older than any snapshot should live.
 */
export function judgeSnapshot(observedAt: number, marks: { started?: number; finished?: number }, now: number, maxAgeMs: number): 'fresh' | 'stale' | 'expired' {
  if (!Number.isFinite(observedAt) || now - observedAt > maxAgeMs) return 'expired';
  const finished = marks.finished ?? 0;
  if (marks.finished !== undefined && observedAt < finished + SNAPSHOT_CLOCK_SKEW_MS) return 'stale';
  if (marks.started !== undefined && marks.started > finished && observedAt < marks.started + WRITE_LEASE_MS) return 'stale';
  return 'fresh';
}
