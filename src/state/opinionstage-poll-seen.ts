/**
 * What the Opinion Stage poll has seen of one item, in one sorted set (so one key per item, cluster-safe):
 * response ids scored by created time (capped at the poll's clock; ids without a created time score
 * +inf), plus the member '' (never a response id) holding the floor a first poll set. The newest score
 * is the item's watermark; ids more than the slack below it are dropped after each poll, so the set
 * stays small, and `MAX_SEEN` bounds it whatever the data.
 */
import { stateKey, type RedisClient } from './keys.js';

const FLOOR = '';
/**
 * How far below the newest created time a poll still looks: a response can show up in the list a
 * little after others created later than it. Far shorter than the 30-day webhook dedupe, which
 * catches anything queued twice inside it.
 */
export const POLL_SLACK_MS = 3_600_000;
const MAX_SEEN = 10_000;
/** An item polled by nobody for this long starts again as a first poll. */
const IDLE_TTL_SECONDS = 90 * 86_400;

export interface OsPollState {
  /** Responses created before this are not imported (the slack below the watermark, or the first poll's floor). */
  cutoff: number;
  /** Ids already queued by a poll at or above the cutoff. */
  seen: ReadonlySet<string>;
}

export interface OsPollSeen {
  /** The item's state; undefined when it was never polled. */
  read(itemId: string): Promise<OsPollState | undefined>;
  /** Marks responses as seen (score: created ms, or undefined for none) and sets a first poll's floor, then trims. */
  record(itemId: string, entries: readonly { id: string; createdMs: number | undefined }[], options: { now: number; floor?: number }): Promise<void>;
}

export function createOsPollSeen(redis: RedisClient, prefix: string, slackMs = POLL_SLACK_MS): OsPollSeen {
  const key = (itemId: string) => stateKey(prefix, 'os-poll-seen', 'account', itemId);

  return {
    async read(itemId) {
      const flat = await redis.zrange(key(itemId), 0, -1, 'WITHSCORES');
      if (flat.length === 0) return undefined;
      const seen = new Set<string>();
      let watermark = -Infinity;
      let floor = -Infinity;
      for (let i = 0; i + 1 < flat.length; i += 2) {
        const member = flat[i] ?? '';
        const score = Number(flat[i + 1]);
        if (Number.isFinite(score)) watermark = Math.max(watermark, score);
        if (member === FLOOR) floor = score;
        else seen.add(member);
      }
      return { cutoff: Math.max(floor, watermark - slackMs), seen };
    },

    async record(itemId, entries, { now, floor }) {
      const args: (string | number)[] = [];
      let newest = floor ?? -Infinity;
      for (const entry of entries) {
        // A created time in the future would lift the watermark past responses still to come.
        const score = entry.createdMs === undefined ? Infinity : Math.min(entry.createdMs, now);
        if (Number.isFinite(score)) newest = Math.max(newest, score);
        args.push(Number.isFinite(score) ? score : '+inf', entry.id);
      }
      if (floor !== undefined) args.push(floor, FLOOR);
      if (args.length === 0) return;
      const multi = redis.multi().zadd(key(itemId), ...args);
      const top = await redis.zrevrangebyscore(key(itemId), '(+inf', '-inf', 'WITHSCORES', 'LIMIT', 0, 1);
      const watermark = Math.max(newest, top[1] === undefined ? -Infinity : Number(top[1]));
      if (Number.isFinite(watermark)) multi.zremrangebyscore(key(itemId), '-inf', `(${watermark - slackMs}`);
      await multi
        .zremrangebyrank(key(itemId), 0, -(MAX_SEEN + 1))
        .expire(key(itemId), IDLE_TTL_SECONDS)
        .exec();
    },
  };
}
