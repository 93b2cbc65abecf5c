/**
 * The circuit breaker's two Lua scripts (circuit-breaker.ts says when each runs) and the zod schemas
 * of their replies. Both decide on Redis's clock (TIME), so processes with skewed clocks agree.
 */
import { z } from 'zod';

const STATES = ['closed', 'open', 'half-open'] as const;

// KEYS: state hash, window hash, probe lease. The state hash holds state, openUntil (server ms), cooldown (ms).
const CLOCK = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`;

// ARGV: failures, successes, windowMs, minFailures, failureRate, cooldownMs, maxCooldownMs.
// Returns { state, waitMs, from ('' = no transition), failures, outcomes, cooldownMs }.
export const RECORD_SCRIPT = `${CLOCK}
local failures = tonumber(ARGV[1])
local successes = tonumber(ARGV[2])
local state = redis.call('HGET', KEYS[1], 'state') or 'closed'

if state == 'closed' then
  local windowMs = tonumber(ARGV[3])
  local bucket = math.floor(now / 1000)
  local oldest = bucket - math.floor(windowMs / 1000)
  if failures > 0 then redis.call('HINCRBY', KEYS[2], 'f:' .. bucket, failures) end
  if successes > 0 then redis.call('HINCRBY', KEYS[2], 's:' .. bucket, successes) end
  redis.call('PEXPIRE', KEYS[2], windowMs + 1000)
  local all = redis.call('HGETALL', KEYS[2])
  local f, s = 0, 0
  for i = 1, #all, 2 do
    local b = tonumber(string.sub(all[i], 3))
    if b <= oldest then
      redis.call('HDEL', KEYS[2], all[i])
    elseif string.sub(all[i], 1, 1) == 'f' then
      f = f + tonumber(all[i + 1])
    else
      s = s + tonumber(all[i + 1])
    end
  end
  if failures > 0 and f >= tonumber(ARGV[4]) and f >= tonumber(ARGV[5]) * (f + s) then
    local cooldown = tonumber(ARGV[6])
    redis.call('HSET', KEYS[1], 'state', 'open', 'openUntil', now + cooldown, 'cooldown', cooldown)
    redis.call('DEL', KEYS[2], KEYS[3])
    return { 'open', cooldown, 'closed', f, f + s, cooldown }
  end
  return { 'closed', 0, '', f, f + s, 0 }
end

if state == 'half-open' then
  if failures > 0 then
    local previous = tonumber(redis.call('HGET', KEYS[1], 'cooldown') or ARGV[6])
    local cooldown = math.min(previous * 2, tonumber(ARGV[7]))
    redis.call('HSET', KEYS[1], 'state', 'open', 'openUntil', now + cooldown, 'cooldown', cooldown)
    redis.call('DEL', KEYS[3])
    return { 'open', cooldown, 'half-open', failures, failures + successes, cooldown }
  end
  if successes > 0 then
    redis.call('DEL', KEYS[1], KEYS[2], KEYS[3])
    return { 'closed', 0, 'half-open', 0, successes, 0 }
  end
end

-- Open: outcomes of calls that started before the circuit opened say nothing new.
local openUntil = tonumber(redis.call('HGET', KEYS[1], 'openUntil') or '0')
return { state, math.max(0, openUntil - now), '', 0, 0, 0 }
`;

// ARGV: probeLeaseMs, probeWaitMs, lease token, grant (1: may take the probe; 0: read only).
// Returns { state, waitMs, granted (0/1), from }.
export const CHECK_SCRIPT = `${CLOCK}
local state = redis.call('HGET', KEYS[1], 'state') or 'closed'
if state == 'closed' then return { 'closed', 0, 0, '' } end
local openUntil = tonumber(redis.call('HGET', KEYS[1], 'openUntil') or '0')
if now < openUntil then return { state, openUntil - now, 0, '' } end
if ARGV[4] == '1' and redis.call('SET', KEYS[3], ARGV[3], 'NX', 'PX', ARGV[1]) then
  redis.call('HSET', KEYS[1], 'state', 'half-open')
  return { 'half-open', 0, 1, state }
end
if ARGV[4] ~= '1' then return { state, 0, 0, '' } end
local lease = redis.call('PTTL', KEYS[3])
local wait = tonumber(ARGV[2])
if lease > 0 and lease < wait then wait = lease end
return { 'half-open', math.max(1, wait), 0, '' }
`;

const StateSchema = z.enum(STATES);
export const RecordReplySchema = z.tuple([StateSchema, z.number(), z.enum(['', ...STATES]), z.number(), z.number(), z.number()]);
export const CheckReplySchema = z.tuple([StateSchema, z.number(), z.number(), z.enum(['', ...STATES])]);
