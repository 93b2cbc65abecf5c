/**
 * The inbox in `/ready`: how many accepted deliveries wait to be moved into their queues, and for how
 * long the oldest has waited. Always `ok`: a web process must keep accepting webhooks (they wait in
 * the inbox, durably) whether or not a worker is moving them; taking it out of a load balancer would
 * turn a stopped worker into refused webhooks. A long wait names the likely cause instead.
 */
import type { Queue } from 'bullmq';
import { INBOX_QUEUES, inboxDepth, oldestInboxEntryAt, type InboxQueue } from './inbox.js';

/** Entries waiting longer than this mean no pump is moving them: pumps take a batch within a second. */
export const STALE_INBOX_MS = 60_000;

export function describeInbox(waiting: number, oldestAgeMs: number | undefined): string {
  if (waiting === 0 || oldestAgeMs === undefined) return 'empty';
  const age = `oldest ${Math.max(0, Math.round(oldestAgeMs / 1000))} s`;
  if (oldestAgeMs <= STALE_INBOX_MS) return `${waiting} waiting, ${age}`;
  return `${waiting} waiting, ${age}: no worker is moving them into the queues (is a \`worker\` or \`all\` process running on this Redis?)`;
}

/** Informational: /ready shows it and stays ready whatever it says, even when the inbox cannot be read. */
export function inboxReadinessCheck(queues: Record<InboxQueue, Queue>, now: () => number = Date.now) {
  return {
    name: 'inbox',
    informational: true,
    async check() {
      const inboxes = INBOX_QUEUES.map((name) => queues[name]);
      const [depths, oldest] = await Promise.all([Promise.all(inboxes.map(inboxDepth)), Promise.all(inboxes.map(oldestInboxEntryAt))]);
      const waiting = depths.reduce((sum, depth) => sum + depth, 0);
      const first = Math.min(...oldest.filter((at): at is number => at !== undefined));
      return { ok: true, detail: describeInbox(waiting, Number.isFinite(first) ? now() - first : undefined) };
    },
  };
}
