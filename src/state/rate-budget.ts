/**
 * The shared call budget (contract in src/clients/http/rate-budget-types.ts), kept in Redis so that every worker process
 * draws from the same count. One Lua script decides each call atomically against Redis's own clock
 * (`TIME`), so processes whose clocks disagree still agree on the window and on the UTC day.
 *
 * Window: a sliding log (ZSET of granted calls, score = server time in µs). A call is granted only
 * when fewer than `max` calls are in the last `windowMs`, so no window of `windowMs` anywhere ever
 * holds more than `max` grants. A refusal records nothing. Grants are kept for two windows, so that
 * `usage` can look back further than one (see ghl-budget.ts, reading GHL's remaining count).
 * Day: a counter per UTC day (`day:<yyyymmdd>`), expiring when the day ends.
 * Blocked: an epoch-ms deadline set after an upstream 429 or exhausted headers.
 */
import { randomUUID } from 'node:crypto';
import { loadScript } from './redis-script.js';
import { z } from 'zod';
import { stateKeys, type RedisClient } from './keys.js';
import type { BudgetDecision, BudgetLimit, RateBudget } from '../clients/http/rate-budget-types.js';
import { BridgeError } from '../observability/errors.js';
import { pipelineValues } from './pipeline-replies.js';

const DAY_MS = 86_400_000;

/** A decision plus the Redis server time it was made at (µs), comparable across processes. */
export interface TimedBudgetDecision extends BudgetDecision {
  serverTimeUs: number;
}

export interface SharedRateBudget extends RateBudget {
  take(key: string, limit: BudgetLimit): Promise<TimedBudgetDecision>;
  settle(key: string, grant: string, windowMs: number, earlierMs?: number): Promise<void>;
}

// KEYS: window, blocked, day. ARGV: max, windowMs, daily (0 = none), expected UTC day number, member.
// Returns { status, waitMs, remaining, scope, nowUs, serverDay }; status 1 granted, 0 refused,
// -1 the caller guessed the wrong UTC day (its clock is off): call again with KEYS[3] for serverDay.
const TAKE_SCRIPT = `
local t = redis.call('TIME')
local sec = tonumber(t[1])
local nowUs = sec * 1000000 + tonumber(t[2])
local nowMs = math.floor(nowUs / 1000)
local serverDay = math.floor(sec / 86400)
local max = tonumber(ARGV[1])
local windowMs = tonumber(ARGV[2])
local daily = tonumber(ARGV[3])

if daily > 0 and serverDay ~= tonumber(ARGV[4]) then
  return { -1, 0, 0, '', nowUs, serverDay }
end

local windowUs = windowMs * 1000
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', nowUs - 2 * windowUs)
-- Formatted here: Lua's own number-to-string keeps 14 digits, and µs since the epoch have 16.
local windowStart = string.format('(%.0f', nowUs - windowUs)
local inWindow = redis.call('ZCOUNT', KEYS[1], windowStart, '+inf')

-- Every limit that refuses is checked; the longest wait wins so the caller does not wake up early.
local waitMs = 0
local scope = ''
local blockedUntil = tonumber(redis.call('GET', KEYS[2]) or '0') or 0
if blockedUntil > nowMs then
  waitMs = blockedUntil - nowMs
  scope = 'blocked'
end
if daily > 0 then
  local used = tonumber(redis.call('GET', KEYS[3]) or '0') or 0
  if used >= daily then
    local untilMidnight = (serverDay + 1) * 86400000 - nowMs
    if untilMidnight > waitMs then
      waitMs = untilMidnight
      scope = 'day'
    end
  end
end
if inWindow >= max then
  local oldest = redis.call('ZRANGEBYSCORE', KEYS[1], windowStart, '+inf', 'WITHSCORES', 'LIMIT', 0, 1)
  local leaves = math.ceil((tonumber(oldest[2]) + windowUs - nowUs) / 1000)
  if leaves < 1 then leaves = 1 end
  if leaves > waitMs then
    waitMs = leaves
    scope = 'window'
  end
end
if scope ~= '' then
  local left = max - inWindow
  if left < 0 then left = 0 end
  return { 0, waitMs, left, scope, nowUs, serverDay }
end

redis.call('ZADD', KEYS[1], nowUs, ARGV[5])
-- Every entry is stale two windows after the newest one, so the key can go then.
redis.call('PEXPIRE', KEYS[1], 2 * windowMs)
if daily > 0 then
  redis.call('INCR', KEYS[3])
  redis.call('PEXPIREAT', KEYS[3], (serverDay + 1) * 86400000)
end
return { 1, 0, max - inWindow - 1, '', nowUs, serverDay }
`;

// KEYS: window. ARGV: grant, windowMs, earlierMs. Moves a granted slot to the server's now less
// earlierMs, if it is still there.
const SETTLE_SCRIPT = `
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then return 0 end
local t = redis.call('TIME')
local earlierUs = (tonumber(ARGV[3]) or 0) * 1000
redis.call('ZADD', KEYS[1], 'XX', tonumber(t[1]) * 1000000 + tonumber(t[2]) - earlierUs, ARGV[1])
redis.call('PEXPIRE', KEYS[1], 2 * tonumber(ARGV[2]))
return 1
`;

// KEYS: blocked. ARGV: untilMs. Never shortens a later block.
const BLOCK_SCRIPT = `
local t = redis.call('TIME')
local nowMs = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local untilMs = tonumber(ARGV[1])
if untilMs <= nowMs then return 0 end
local current = tonumber(redis.call('GET', KEYS[1]) or '0') or 0
if current >= untilMs then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', untilMs - nowMs)
return 1
`;

const TakeReplySchema = z.tuple([
  z.number().int(),
  z.number().int(),
  z.number().int(),
  z.enum(['', 'window', 'day', 'blocked']),
  z.number().int(),
  z.number().int(),
]);

export class RateBudgetScriptError extends BridgeError<'RATE_BUDGET_SCRIPT'> {
  constructor(message: string, options?: { cause?: unknown }) {
    super('RATE_BUDGET_SCRIPT', message, options);
  }
}

/** The one budget every process shares for Trustpilot calls (Trustpilot limits per API key, not per location). */
export const TRUSTPILOT_BUDGET_KEY = 'trustpilot:global';

/**
 * `now` only guesses the UTC day key before the script confirms it against Redis's clock (a wrong
 * guess costs one extra round trip, then the learned offset is reused); it never decides a limit.
 */
export function createRateBudget(redis: RedisClient, prefix: string, now: () => number = Date.now): SharedRateBudget {
  const take = loadScript(redis, TAKE_SCRIPT);
  const setBlock = loadScript(redis, BLOCK_SCRIPT);
  const settleSlot = loadScript(redis, SETTLE_SCRIPT);
  // One script touches a budget's window, block and day keys: on a cluster they share its hash tag.
  const keyOf = stateKeys(redis, prefix);
  const key = (budgetKey: string, part: string) => keyOf('rate-budget', budgetKey, part);
  const dayKey = (budgetKey: string, day: number) => key(budgetKey, `day:${yyyymmdd(day)}`);
  // Server clock minus ours, learned from each reply, so the day guess is right from the second call.
  let skewMs = 0;

  return {
    async take(budgetKey, limit) {
      checkLimit(limit);
      let day = Math.floor((now() + skewMs) / DAY_MS);
      for (let attempt = 0; attempt < 3; attempt += 1) {
        const grant = randomUUID();
        const raw = await take(
          [key(budgetKey, 'window'), key(budgetKey, 'blocked'), dayKey(budgetKey, day)],
          [limit.max, limit.windowMs, limit.daily ?? 0, day, grant],
        );
        const parsed = TakeReplySchema.safeParse(raw);
        if (!parsed.success) throw new RateBudgetScriptError('unexpected rate-budget script reply');
        const [status, waitMs, remaining, scope, serverTimeUs, serverDay] = parsed.data;
        skewMs = Math.floor(serverTimeUs / 1000) - now();
        if (status === -1) {
          day = serverDay;
          continue;
        }
        if (status === 1) return { ok: true, retryAfterMs: 0, remaining, serverTimeUs, grant };
        return { ok: false, retryAfterMs: waitMs, remaining, scope: scope === '' ? 'window' : scope, serverTimeUs };
      }
      // Only reachable if the UTC day changes under us twice in a row.
      throw new RateBudgetScriptError('rate-budget day key did not settle');
    },

    async settle(budgetKey, grant, windowMs, earlierMs = 0) {
      if (!Number.isInteger(earlierMs) || earlierMs < 0 || earlierMs >= windowMs) throw new RangeError(`settle earlierMs must be an integer in [0, windowMs), got ${earlierMs}`);
      await settleSlot([key(budgetKey, 'window')], [grant, windowMs, earlierMs]);
    },

    async block(budgetKey, untilMs) {
      if (!Number.isFinite(untilMs)) throw new RangeError(`block until must be a finite epoch ms, got ${untilMs}`);
      await setBlock([key(budgetKey, 'blocked')], [Math.ceil(untilMs)]);
    },

    async usage(budgetKey, limit) {
      checkLimit(limit);
      const [sec, micro] = await redis.time();
      const nowUs = Number(sec) * 1_000_000 + Number(micro);
      const nowMs = Math.floor(nowUs / 1000);
      const results = await redis
        .multi()
        .zcount(key(budgetKey, 'window'), `(${nowUs - limit.windowMs * 1000}`, '+inf')
        .get(dayKey(budgetKey, Math.floor(nowMs / DAY_MS)))
        .get(key(budgetKey, 'blocked'))
        .exec();
      const [windowCount, dayCount, blocked] = pipelineValues(results);
      const blockedUntil = Number(blocked ?? 0);
      return {
        window: Number(windowCount ?? 0),
        day: Number(dayCount ?? 0),
        ...(blockedUntil > nowMs ? { blockedUntil } : {}),
      };
    },
  };
}

function checkLimit(limit: BudgetLimit): void {
  const positiveInt = (value: number) => Number.isInteger(value) && value > 0;
  if (!positiveInt(limit.max) || !positiveInt(limit.windowMs) || (limit.daily !== undefined && !positiveInt(limit.daily))) {
    throw new RangeError(`invalid budget limit ${JSON.stringify(limit)}: max, windowMs and daily must be positive integers`);
  }
}

/** UTC day number (days since the epoch) → `yyyymmdd`. */
function yyyymmdd(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10).replaceAll('-', '');
}


