/**
 * Alert throttling per cause, shared by every worker process through Redis. One Lua script decides
 * each occurrence atomically: the first of a cause opens a window (a key expiring after `windowMs`)
 * and is alerted at once; later ones inside the window only count, for one follow-up summary.
 *
 * Keys per cause (a hash tag keeps both in one Redis Cluster slot):
 * - `window`: the open window's id, expiring when the window ends;
 * - `counts`: per window id, the follow-up count, first/last seen and the latest detail. A window's
 *   fields live on after the window closes, until its summary was delivered (or a day has passed).
 * Also kept here: the most recent alerts, for the dashboard.
 */
import { randomBytes } from 'node:crypto';
import { loadScript } from './redis-script.js';
import { z } from 'zod';
import { AlertPayloadSchema, type AlertPayload } from '../clients/alert-webhook/alert-client.js';
import { stateKey, type RedisClient } from './keys.js';
import { BridgeError } from '../observability/errors.js';
import { storedJson } from './stored-text.js';

/** How long a window's counter outlives the window: room for the summary's retries. */
const COUNTS_KEEP_MS = 86_400_000;
const RECENT_KEEP = 100;

// KEYS: window, counts. ARGV: atMs, windowMs, newWindowId, keepMs, detail.
// Returns { opened 1|0, windowId, follow-ups counted so far, ms left in the window }.
const HIT_SCRIPT = `
local id = redis.call('GET', KEYS[1])
if not id then
  redis.call('SET', KEYS[1], ARGV[3], 'PX', ARGV[2])
  return { 1, ARGV[3], 0, tonumber(ARGV[2]) }
end
local at = tonumber(ARGV[1])
local count = redis.call('HINCRBY', KEYS[2], id .. ':count', 1)
local first = tonumber(redis.call('HGET', KEYS[2], id .. ':first') or '0')
if first == 0 or at < first then redis.call('HSET', KEYS[2], id .. ':first', ARGV[1]) end
local last = tonumber(redis.call('HGET', KEYS[2], id .. ':last') or '0')
if at >= last then redis.call('HSET', KEYS[2], id .. ':last', ARGV[1], id .. ':detail', ARGV[5]) end
redis.call('PEXPIRE', KEYS[2], ARGV[4])
local left = redis.call('PTTL', KEYS[1])
if left < 0 then left = 0 end
return { 0, id, count, left }
`;

// KEYS: window, counts. ARGV: windowId. Closes the window if it is still open (a summary that runs
// early, on a skewed clock, must not let later failures land in a counter nobody reads), then reads it.
const COLLECT_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return redis.call('HMGET', KEYS[2], ARGV[1] .. ':count', ARGV[1] .. ':first', ARGV[1] .. ':last', ARGV[1] .. ':detail')
`;

const HitReplySchema = z.tuple([z.union([z.literal(0), z.literal(1)]), z.string().min(1), z.number().int(), z.number().int()]);
const CollectReplySchema = z.tuple([z.string().nullable(), z.string().nullable(), z.string().nullable(), z.string().nullable()]);

export type ThrottleHit =
  | { opened: true; windowId: string }
  | { opened: false; windowId: string; /** follow-ups in this window, this one included */ count: number; windowLeftMs: number };

export interface CollectedWindow {
  count: number;
  firstSeen: number;
  lastSeen: number;
  /** The latest follow-up's detail, as handed to `hit`. */
  detail: string | undefined;
}

export interface AlertThrottle {
  /** Counts one occurrence of a cause at `at` (epoch ms); `detail` is kept as the window's latest. */
  hit(causeId: string, at: number, windowMs: number, detail: string): Promise<ThrottleHit>;
  /** Closes the window if still open and reads its follow-ups; undefined when there were none. */
  collect(causeId: string, windowId: string): Promise<CollectedWindow | undefined>;
  /** Forgets a window's follow-ups once its summary was delivered. */
  clear(causeId: string, windowId: string): Promise<void>;
}

export class AlertThrottleScriptError extends BridgeError<'ALERT_THROTTLE_SCRIPT'> {
  constructor(message: string) {
    super('ALERT_THROTTLE_SCRIPT', message);
  }
}

/** Ids go into Redis keys and BullMQ job ids, which must not contain `:`. */
const SAFE_ID = /^[A-Za-z0-9_-]{1,64}$/;

export function createAlertThrottle(redis: RedisClient, prefix: string): AlertThrottle {
  const hitScript = loadScript(redis, HIT_SCRIPT);
  const collectScript = loadScript(redis, COLLECT_SCRIPT);
  const keys = (causeId: string) => {
    if (!SAFE_ID.test(causeId)) throw new RangeError('alert cause id must be 1-64 characters of [A-Za-z0-9_-]');
    const tag = `{${causeId}}`;
    return [stateKey(prefix, 'alert-throttle', tag, 'window'), stateKey(prefix, 'alert-throttle', tag, 'counts')];
  };

  return {
    async hit(causeId, at, windowMs, detail) {
      if (!Number.isInteger(windowMs) || windowMs < 1) throw new RangeError(`alert window must be a positive integer of ms, got ${windowMs}`);
      const windowId = `${Math.floor(at).toString(36)}${randomBytes(4).toString('hex')}`;
      const raw = await hitScript(keys(causeId), [Math.floor(at), windowMs, windowId, windowMs + COUNTS_KEEP_MS, detail]);
      const parsed = HitReplySchema.safeParse(raw);
      if (!parsed.success) throw new AlertThrottleScriptError('unexpected alert-throttle script reply');
      const [opened, id, count, left] = parsed.data;
      return opened === 1 ? { opened: true, windowId: id } : { opened: false, windowId: id, count, windowLeftMs: left };
    },

    async collect(causeId, windowId) {
      const parsed = CollectReplySchema.safeParse(await collectScript(keys(causeId), [windowId]));
      if (!parsed.success) throw new AlertThrottleScriptError('unexpected alert-throttle collect reply');
      const [count, first, last, detail] = parsed.data;
      const n = Number(count ?? 0);
      if (!Number.isInteger(n) || n < 1) return undefined;
      const firstSeen = Number(first);
      const lastSeen = Number(last);
      return {
        count: n,
        firstSeen: Number.isFinite(firstSeen) ? firstSeen : 0,
        lastSeen: Number.isFinite(lastSeen) ? lastSeen : 0,
        detail: detail ?? undefined,
      };
    },

    async clear(causeId, windowId) {
      const [, counts = ''] = keys(causeId);
      await redis.hdel(counts, `${windowId}:count`, `${windowId}:first`, `${windowId}:last`, `${windowId}:detail`);
    },
  };
}

export const RecentAlertSchema = z.object({
  /** When the alert was delivered (or logged). */
  at: z.number().int().nonnegative(),
  /** `webhook`: POSTed to ALERT_WEBHOOK_URL; `log`: no URL configured, written to the log. */
  via: z.enum(['webhook', 'log']),
  alert: AlertPayloadSchema,
});
export type RecentAlert = z.infer<typeof RecentAlertSchema>;

export interface RecentAlerts {
  record(alert: AlertPayload, via: RecentAlert['via'], at?: number): Promise<void>;
  /** Newest first. */
  list(limit?: number): Promise<RecentAlert[]>;
}

export function createRecentAlerts(redis: RedisClient, prefix: string, keep = RECENT_KEEP): RecentAlerts {
  const key = `${prefix}:alerts:recent`;
  return {
    async record(alert, via, at = Date.now()) {
      const entry: RecentAlert = { at, via, alert };
      await redis.multi().lpush(key, JSON.stringify(entry)).ltrim(key, 0, keep - 1).exec();
    },
    async list(limit = 50) {
      const raw = await redis.lrange(key, 0, Math.max(0, Math.min(limit, keep) - 1));
      const entries: RecentAlert[] = [];
      for (const text of raw) {
        const parsed = RecentAlertSchema.safeParse(storedJson(text));
        if (parsed.success) entries.push(parsed.data);
      }
      return entries;
    },
  };
}
