/**
 * Where an answered delivery is: a job in its queue, or an entry in the queue's ingest inbox waiting
 * for a pump (src/queue/inbox.ts). A web-only bridge runs no pump, so "answered 200 ⇒ stored" means
 * one of the two.
 */
import type { Queue } from 'bullmq';
import { connectionOf, inboxKey } from '../../src/queue/inbox.js';

export interface Queued {
  name: string;
  data: unknown;
  where: 'queue' | 'inbox';
}

/** The inbox's entries: job id, name and parsed data. */
export async function inboxEntries(queue: Queue): Promise<{ id: string; name: string; data: unknown }[]> {
  const client = await connectionOf(queue);
  const entries = await client.xrange(inboxKey(queue), '-', '+');
  return entries.map(([, fields]) => {
    const field = (name: string) => fields[fields.indexOf(name) + 1] ?? '';
    return { id: field('id'), name: field('name'), data: JSON.parse(field('data')) as unknown };
  });
}

/** The delivery stored under job id `id`: the job, or else its inbox entry. */
export async function queuedOrInbox(queue: Queue, id: string): Promise<Queued | undefined> {
  const job = await queue.getJob(id);
  if (job) return { name: job.name, data: job.data as unknown, where: 'queue' };
  const entry = (await inboxEntries(queue)).find((item) => item.id === id);
  return entry ? { name: entry.name, data: entry.data, where: 'inbox' } : undefined;
}

/** Jobs in the queue (waiting, delayed, active, completed, failed) plus entries in its inbox. */
export async function countQueuedOrInbox(queue: Queue): Promise<number> {
  const counts = await queue.getJobCounts('waiting', 'delayed', 'active', 'completed', 'failed', 'prioritized');
  const client = await connectionOf(queue);
  return Object.values(counts).reduce((sum, count) => sum + count, 0) + (await client.xlen(inboxKey(queue)));
}

/** The ids among `ids` that are neither a job in the queue nor in its inbox. */
export async function missingFromQueueAndInbox(queue: Queue, ids: string[]): Promise<string[]> {
  const inInbox = new Set((await inboxEntries(queue)).map((entry) => entry.id));
  const missing: string[] = [];
  for (const id of ids) if (!inInbox.has(id) && !(await queue.getJob(id))) missing.push(id);
  return missing;
}
