/**
 * The reviews of our own Trustpilot business unit, indexed in Redis by review id, by referenceId and
 * by referral email (lower-cased), so a contact's review is found without a Trustpilot call. Beside
 * them: the high-water mark of the last refresh, when the last successful listing started (a miss is
 * an answer only for events received before it), whether every page down to the oldest review has
 * been read, the lock that lets one worker refresh for all, and which version of each review was last
 * routed to its contact.
 */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { ReviewFacts } from '../domain/trustpilot-plan.js';
import { stateKeys, type RedisClient } from './keys.js';
import { loadScript, type ScriptRunner } from './redis-script.js';
import { storedJson, storedNumber } from './stored-text.js';
import { pipelineValues } from './pipeline-replies.js';

export const ReviewFactsSchema = z.object({
  id: z.string(),
  stars: z.number(),
  title: z.string(),
  text: z.string(),
  createdAt: z.string(),
  updatedAt: z.string().optional(),
  consumerId: z.string().optional(),
  consumerName: z.string().optional(),
  consumerReviewCount: z.number().optional(),
  companyReply: z.string().optional(),
  url: z.string(),
});

/** One review as indexed: its facts and the two keys that tie it to a contact. */
export const IndexedReviewSchema = z.object({
  facts: ReviewFactsSchema,
  referenceId: z.string().optional(),
  /** Lower-cased. */
  referralEmail: z.string().optional(),
  createdAtMs: z.number(),
});
export type IndexedReview = z.infer<typeof IndexedReviewSchema>;

export interface ReviewIndexMeta {
  /** createdAt (ms) of the newest review the last successful refresh read. */
  highWater: number | undefined;
  /** Every review down to the oldest is in the index (as of the last successful refresh). */
  complete: boolean;
  /** The last refresh succeeded; false after a failed one until the next success. */
  ok: boolean;
  refreshedAt: number | undefined;
  /** When the last successful refresh started reading: every review that existed then is in the index (when complete). */
  listedAt: number | undefined;
  /** Reviews created or edited before this are history: refreshes route only later ones to their contacts. */
  routeSince: number | undefined;
  /** When the last refresh started, successful or not: refreshes are spaced by this. */
  attemptedAt: number | undefined;
  /** When the last refresh that read every page it could (not stopping at the high-water mark) started. */
  scannedAt: number | undefined;
}

export type ReviewKey = 'reviewId' | 'referenceId' | 'email';

/** What `lookup` answers: the index's state, read before the review was looked for. */
export interface ReviewLookup {
  meta: ReviewIndexMeta;
  review: ReviewFacts | undefined;
}

export interface ReviewIndexStore {
  meta(): Promise<ReviewIndexMeta>;
  /**
   * The index's state, then the review of the first key that has one, read in that order in one round
   * trip: a listing the state shows as done had stored its reviews before they were looked for. A key
   * finds the review with that id, or for referenceId and email the newest review carrying it.
   */
  lookup(keys: readonly { kind: ReviewKey; value: string }[]): Promise<ReviewLookup>;
  upsert(reviews: IndexedReview[]): Promise<void>;
  remove(reviewId: string): Promise<void>;
  markAttempt(at: number): Promise<void>;
  /** A successful refresh that started reading at `listedAt`; `scannedAt` only when it read every page it could. */
  commit(state: { highWater: number | undefined; complete: boolean; refreshedAt: number; listedAt?: number; scannedAt?: number }): Promise<void>;
  /** Sets the routing start once; later calls keep the first. */
  startRouting(at: number): Promise<void>;
  /** The version (updatedAt, else createdAt) of each review last routed, by review id. */
  routedVersions(reviewIds: string[]): Promise<(string | undefined)[]>;
  markRouted(versions: { reviewId: string; version: string }[]): Promise<void>;
  /** A failed refresh: misses are no longer answered from the index until the next success. */
  markFailed(): Promise<void>;
  /** A lock token, or undefined when another holder has it. */
  tryLock(ttlMs: number): Promise<string | undefined>;
  releaseLock(token: string): Promise<void>;
  isLocked(): Promise<boolean>;
}

/**
 * KEYS: reviews, by-reference, by-email. ARGV: n, then per review: id, entry JSON, createdAt ms,
 * referenceId, email ('' = none). Each by-* field holds a JSON list of [createdAtMs, id], newest first.
 */
const UPSERT_LUA = `
local function drop(hash, field, id)
  if field == nil or field == '' then return end
  local raw = redis.call('hget', hash, field)
  if not raw then return end
  local kept = {}
  for _, pair in ipairs(cjson.decode(raw)) do
    if pair[2] ~= id then kept[#kept + 1] = pair end
  end
  if #kept == 0 then redis.call('hdel', hash, field) else redis.call('hset', hash, field, cjson.encode(kept)) end
end
local function add(hash, field, id, ms)
  if field == '' then return end
  local list = {}
  local raw = redis.call('hget', hash, field)
  if raw then
    for _, pair in ipairs(cjson.decode(raw)) do
      if pair[2] ~= id then list[#list + 1] = pair end
    end
  end
  list[#list + 1] = { ms, id }
  table.sort(list, function(a, b) if a[1] ~= b[1] then return a[1] > b[1] end return a[2] > b[2] end)
  redis.call('hset', hash, field, cjson.encode(list))
end
local n = tonumber(ARGV[1])
for i = 0, n - 1 do
  local id, entry, ms, ref, email = ARGV[2 + i * 5], ARGV[3 + i * 5], tonumber(ARGV[4 + i * 5]), ARGV[5 + i * 5], ARGV[6 + i * 5]
  local old = redis.call('hget', KEYS[1], id)
  if old then
    local previous = cjson.decode(old)
    if previous.referenceId ~= ref then drop(KEYS[2], previous.referenceId, id) end
    if previous.referralEmail ~= email then drop(KEYS[3], previous.referralEmail, id) end
  end
  redis.call('hset', KEYS[1], id, entry)
  add(KEYS[2], ref, id, ms)
  add(KEYS[3], email, id, ms)
end
return n
`;

/** KEYS: reviews, by-reference, by-email. ARGV: id. */
const REMOVE_LUA = `
local function drop(hash, field)
  if field == nil or field == '' then return end
  local raw = redis.call('hget', hash, field)
  if not raw then return end
  local kept = {}
  for _, pair in ipairs(cjson.decode(raw)) do
    if pair[2] ~= ARGV[1] then kept[#kept + 1] = pair end
  end
  if #kept == 0 then redis.call('hdel', hash, field) else redis.call('hset', hash, field, cjson.encode(kept)) end
end
local old = redis.call('hget', KEYS[1], ARGV[1])
if not old then return 0 end
local previous = cjson.decode(old)
drop(KEYS[2], previous.referenceId)
drop(KEYS[3], previous.referralEmail)
redis.call('hdel', KEYS[1], ARGV[1])
return 1
`;

const RELEASE_LUA = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

const PointerListSchema = z.array(z.tuple([z.number(), z.string()]));

export function createReviewIndexStore(redis: RedisClient, prefix: string, businessUnitId: string): ReviewIndexStore {
  // The scripts touch several index keys: on a cluster they share the business unit's hash tag.
  const keyOf = stateKeys(redis, prefix);
  const key = (what: string) => keyOf('tp-review-index', businessUnitId, what);
  const reviewsKey = key('reviews');
  const byReferenceKey = key('by-reference');
  const byEmailKey = key('by-email');
  const metaKey = key('meta');
  const lockKey = key('lock');
  const routedKey = key('routed');
  const upsertScript = loadScript(redis, UPSERT_LUA);
  const removeScript = loadScript(redis, REMOVE_LUA);
  const releaseScript = loadScript(redis, RELEASE_LUA);

  return {
    ...reviewLookups(redis, { reviewsKey, byReferenceKey, byEmailKey, metaKey }, upsertScript, removeScript),
    ...reviewIndexMarks(redis, metaKey, routedKey),
    ...reviewIndexLock(redis, lockKey, releaseScript),
  };
}

/** The reviews and their pointers by referenceId and by email (newest first). */
function reviewLookups(
  redis: RedisClient,
  { reviewsKey, byReferenceKey, byEmailKey, metaKey }: { reviewsKey: string; byReferenceKey: string; byEmailKey: string; metaKey: string },
  upsertScript: ScriptRunner,
  removeScript: ScriptRunner,
): Pick<ReviewIndexStore, 'lookup' | 'upsert' | 'remove'> {
  async function byId(id: string): Promise<ReviewFacts | undefined> {
    return factsOf(await redis.hget(reviewsKey, id));
  }

  /** The hash and field a key is read from: the review itself by id, else its pointer list; undefined for an empty email or reference. */
  function whereIs(kind: ReviewKey, value: string): { hash: string; field: string } | undefined {
    if (kind === 'reviewId') return { hash: reviewsKey, field: value };
    const field = kind === 'email' ? value.trim().toLowerCase() : value;
    return field === '' ? undefined : { hash: kind === 'email' ? byEmailKey : byReferenceKey, field };
  }

  /** The review a key's stored value leads to: the entry itself, or the newest review of its pointer list still indexed. */
  async function follow(kind: ReviewKey, raw: string | null): Promise<ReviewFacts | undefined> {
    if (raw === null) return undefined;
    if (kind === 'reviewId') return factsOf(raw);
    const pointers = PointerListSchema.safeParse(storedJson(raw));
    if (!pointers.success) return undefined;
    for (const [, id] of pointers.data) {
      const facts = await byId(id);
      if (facts) return facts;
    }
    return undefined;
  }

  return {
    async lookup(keys) {
      const asked = keys.flatMap(({ kind, value }) => {
        const where = whereIs(kind, value);
        return where === undefined ? [] : [{ kind, ...where }];
      });
      // Every index key shares the business unit's hash tag, so on a cluster this is one node's pipeline.
      const pipeline = redis.pipeline().hgetall(metaKey);
      for (const { hash, field } of asked) pipeline.hget(hash, field);
      const [metaRaw, ...raws] = pipelineValues(await pipeline.exec());
      // ioredis turns HGETALL's reply into an object in a pipeline as well.
      if (typeof metaRaw !== 'object' || metaRaw === null || Array.isArray(metaRaw)) throw new Error('the review index state answered an unexpected reply');
      const meta = metaOf(metaRaw as Record<string, string>);
      for (const [index, { kind }] of asked.entries()) {
        const raw = raws[index];
        const review = await follow(kind, typeof raw === 'string' ? raw : null);
        if (review) return { meta, review };
      }
      return { meta, review: undefined };
    },

    async upsert(reviews) {
      if (reviews.length === 0) return;
      const args: (string | number)[] = [reviews.length];
      for (const review of reviews) {
        const email = review.referralEmail?.trim().toLowerCase() ?? '';
        const entry: IndexedReview = { ...review, ...(email ? { referralEmail: email } : {}) };
        args.push(review.facts.id, JSON.stringify(entry), review.createdAtMs, review.referenceId ?? '', email);
      }
      await upsertScript([reviewsKey, byReferenceKey, byEmailKey], args);
    },

    async remove(reviewId) {
      await removeScript([reviewsKey, byReferenceKey, byEmailKey], [reviewId]);
    },
  };
}

/** The refresh bookkeeping in the meta hash, and the version of each review last routed. */
function reviewIndexMarks(
  redis: RedisClient,
  metaKey: string,
  routedKey: string,
): Pick<ReviewIndexStore, 'meta' | 'markAttempt' | 'commit' | 'startRouting' | 'routedVersions' | 'markRouted' | 'markFailed'> {
  return {
    async meta() {
      return metaOf(await redis.hgetall(metaKey));
    },

    async markAttempt(at) {
      await redis.hset(metaKey, 'attemptedAt', String(at));
    },

    async commit(state) {
      const fields: Record<string, string> = {
        complete: state.complete ? '1' : '0',
        ok: '1',
        refreshedAt: String(state.refreshedAt),
      };
      if (state.highWater !== undefined) fields.highWater = String(state.highWater);
      if (state.scannedAt !== undefined) fields.scannedAt = String(state.scannedAt);
      if (state.listedAt !== undefined) fields.listedAt = String(state.listedAt);
      await redis.hset(metaKey, fields);
    },

    async startRouting(at) {
      await redis.hsetnx(metaKey, 'routeSince', String(at));
    },

    async routedVersions(reviewIds) {
      if (reviewIds.length === 0) return [];
      return (await redis.hmget(routedKey, ...reviewIds)).map((value) => value ?? undefined);
    },

    async markRouted(versions) {
      if (versions.length === 0) return;
      await redis.hset(routedKey, Object.fromEntries(versions.map(({ reviewId, version }) => [reviewId, version])));
    },

    async markFailed() {
      await redis.hset(metaKey, 'ok', '0');
    },
  };
}

/** The lock that lets one worker refresh for all; released only by its holder. */
function reviewIndexLock(redis: RedisClient, lockKey: string, releaseScript: ScriptRunner): Pick<ReviewIndexStore, 'tryLock' | 'releaseLock' | 'isLocked'> {
  return {
    async tryLock(ttlMs) {
      const token = randomBytes(12).toString('base64url');
      const taken = await redis.set(lockKey, token, 'PX', ttlMs, 'NX');
      return taken === 'OK' ? token : undefined;
    },

    async releaseLock(token) {
      await releaseScript([lockKey], [token]);
    },

    async isLocked() {
      return (await redis.exists(lockKey)) === 1;
    },
  };
}

/** An indexed entry's facts; an entry in an older shape is a miss, not an error. */
function factsOf(raw: string | null): ReviewFacts | undefined {
  if (raw === null) return undefined;
  const entry = IndexedReviewSchema.safeParse(storedJson(raw));
  return entry.success ? entry.data.facts : undefined;
}

function metaOf(raw: Record<string, string>): ReviewIndexMeta {
  return {
    highWater: storedNumber(raw.highWater),
    complete: raw.complete === '1',
    ok: raw.ok === '1',
    refreshedAt: storedNumber(raw.refreshedAt),
    listedAt: storedNumber(raw.listedAt),
    routeSince: storedNumber(raw.routeSince),
    attemptedAt: storedNumber(raw.attemptedAt),
    scannedAt: storedNumber(raw.scannedAt),
  };
}
