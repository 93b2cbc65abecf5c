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

/** Under /ready's own 1 s limit per check, which would count a slow answer as not ready. */
const ANSWER_WITHIN_MS = 500;

export function describeInbox(waiting: number, oldestAgeMs: number | undefined): string {
  if (waiting === 0 || oldestAgeMs === undefined) return 'empty';
  const age = `oldest ${Math.max(0, Math.round(oldestAgeMs / 1000))} s`;
  if (oldestAgeMs <= STALE_INBOX_MS) return `${waiting} waiting, ${age}`;
  return `${waiting} waiting, ${age}: no worker is moving them into the queues (is a \`worker\` or \`all\` process running on this Redis?)`;
}

export function inboxReadinessCheck(queues: Record<InboxQueue, Queue>, now: () => number = Date.now): { name: string; check(): Promise<{ ok: boolean; detail: string }> } {
  return {
    name: 'inbox',
    async check() {
      const inboxes = INBOX_QUEUES.map((name) => queues[name]);
      const read = async () => {
        const [depths, oldest] = await Promise.all([Promise.all(inboxes.map(inboxDepth)), Promise.all(inboxes.map(oldestInboxEntryAt))]);
        const waiting = depths.reduce((sum, depth) => sum + depth, 0);
        const first = Math.min(...oldest.filter((at): at is number => at !== undefined));
        return describeInbox(waiting, Number.isFinite(first) ? now() - first : undefined);
      };
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<string>((resolve) => (timer = setTimeout(() => resolve(`unknown (no answer within ${ANSWER_WITHIN_MS} ms)`), ANSWER_WITHIN_MS)));
      try {
        return { ok: true, detail: await Promise.race([read(), late]) };
      } catch (error) {
        // Redis has its own check; an unreadable inbox is no reason to stop accepting webhooks.
        return { ok: true, detail: `unknown (${error instanceof Error ? error.message.slice(0, 120) : 'unreadable'})` };
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
