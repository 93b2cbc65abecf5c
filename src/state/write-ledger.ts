/**
 * The write ledger: which note and task the bridge made for which outside item, per contact. It is
 * what makes "nothing twice" true across retries, redeliveries and crashes: a create is marked
 * pending before it is sent, so a run that finds a pending mark looks for the item in GHL (by the
 * reference in its body) before creating it again.
 */
import { z } from 'zod';
import type { LedgerView } from '../domain/plan.js';
import { stateKeys, type RedisClient } from './keys.js';
import { storedJson } from './stored-text.js';

const NoteEntrySchema = z.object({ noteId: z.string(), bodyHash: z.string() });
const TaskEntrySchema = z.object({ taskId: z.string(), status: z.enum(['open', 'completed', 'deleted']), dueDate: z.string() });
type TaskStatus = z.infer<typeof TaskEntrySchema>['status'];

/** Ledger entries outlive any retry or redelivery window by far; a year keeps history for replays. */
const LEDGER_TTL_SECONDS = 400 * 86_400;

export interface WriteLedger {
  view(locationId: string, contactId: string): Promise<LedgerView>;
  /** Marks a create as in flight; true when an earlier run had already marked it (it may have succeeded). */
  markPending(locationId: string, contactId: string, sourceKey: string): Promise<boolean>;
  recordNote(locationId: string, contactId: string, sourceKey: string, noteId: string, bodyHash: string): Promise<void>;
  recordTask(locationId: string, contactId: string, sourceKey: string, taskId: string, status: TaskStatus, dueDate: string): Promise<void>;
  /** A TaskComplete/TaskDelete from GHL: true when the task is one of ours. */
  taskChanged(locationId: string, taskId: string, status: 'completed' | 'deleted'): Promise<boolean>;
}

export function createWriteLedger(redis: RedisClient, prefix: string): WriteLedger {
  // The ledger and its task index are written in one MULTI: on a cluster they share the location's hash tag.
  const keyOf = stateKeys(redis, prefix);
  const ledgerKey = (locationId: string, contactId: string) => keyOf('ledger', locationId, contactId);
  const taskIndexKey = (locationId: string, taskId: string) => keyOf('ledger-task', locationId, taskId);

  async function writeTask(locationId: string, contactId: string, sourceKey: string, entry: z.infer<typeof TaskEntrySchema>) {
    await redis
      .multi()
      .hset(ledgerKey(locationId, contactId), `task:${sourceKey}`, JSON.stringify(entry))
      .hdel(ledgerKey(locationId, contactId), `pending:${sourceKey}`)
      .expire(ledgerKey(locationId, contactId), LEDGER_TTL_SECONDS)
      .set(taskIndexKey(locationId, entry.taskId), JSON.stringify({ contactId, sourceKey }), 'EX', LEDGER_TTL_SECONDS)
      .exec();
  }

  return {
    async view(locationId, contactId) {
      const raw = await redis.hgetall(ledgerKey(locationId, contactId));
      const view: LedgerView = { notes: {}, tasks: {} };
      for (const [field, value] of Object.entries(raw)) {
        const parsed = storedJson(value);
        if (field.startsWith('note:')) {
          const entry = NoteEntrySchema.safeParse(parsed);
          if (entry.success) view.notes[field.slice(5)] = entry.data;
        } else if (field.startsWith('task:')) {
          const entry = TaskEntrySchema.safeParse(parsed);
          if (entry.success) view.tasks[field.slice(5)] = entry.data;
        }
      }
      return view;
    },
    async markPending(locationId, contactId, sourceKey) {
      const added = await redis.hsetnx(ledgerKey(locationId, contactId), `pending:${sourceKey}`, String(Date.now()));
      await redis.expire(ledgerKey(locationId, contactId), LEDGER_TTL_SECONDS);
      return added === 0;
    },
    async recordNote(locationId, contactId, sourceKey, noteId, bodyHash) {
      await redis
        .multi()
        .hset(ledgerKey(locationId, contactId), `note:${sourceKey}`, JSON.stringify({ noteId, bodyHash }))
        .hdel(ledgerKey(locationId, contactId), `pending:${sourceKey}`)
        .expire(ledgerKey(locationId, contactId), LEDGER_TTL_SECONDS)
        .exec();
    },
    async recordTask(locationId, contactId, sourceKey, taskId, status, dueDate) {
      await writeTask(locationId, contactId, sourceKey, { taskId, status, dueDate });
    },
    async taskChanged(locationId, taskId, status) {
      const index = z.object({ contactId: z.string(), sourceKey: z.string() }).safeParse(storedJson(await redis.get(taskIndexKey(locationId, taskId))));
      if (!index.success) return false;
      const field = `task:${index.data.sourceKey}`;
      const entry = TaskEntrySchema.safeParse(storedJson(await redis.hget(ledgerKey(locationId, index.data.contactId), field)));
      if (!entry.success) return false;
      // Deleted is final; completed never goes back to open.
      const next = entry.data.status === 'deleted' ? 'deleted' : status;
      await writeTask(locationId, index.data.contactId, index.data.sourceKey, { ...entry.data, status: next });
      return true;
    },
  };
}
