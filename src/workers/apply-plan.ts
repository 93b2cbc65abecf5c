/**
 * Carries out a plan against GHL, keeping the write ledger in step, or in dry run records each write
 * instead. Creates are crash-safe: a pending mark goes to the ledger first, and a run that finds one
 * looks for the note or task by the reference line in its body before creating it again.
 */
import type { GhlClient } from '../clients/ghl/ghl-client.js';
import { isGhlNotFound } from '../clients/ghl/ghl-api-error.js';
import { bodyHash, type Plan, type PlannedWrite } from '../domain/plan.js';
import type { Logger } from '../observability/logger.js';
import type { ContactSnapshots } from '../state/contact-snapshots.js';
import type { PlannedWriteRecord, PlannedWrites } from '../state/planned-writes.js';
import type { WriteLedger } from '../state/write-ledger.js';

export type GhlWriter = Pick<
  GhlClient,
  'updateContactFields' | 'createNote' | 'updateNote' | 'listNotes' | 'addTags' | 'removeTags' | 'createTask' | 'updateTask' | 'completeTask' | 'listTasks'
>;

export interface ApplyDeps {
  ghl: GhlWriter;
  ledger: WriteLedger;
  planned: PlannedWrites;
  dryRun: boolean;
  logger: Logger;
  /** Marks when the contact's fields or tags were written, so a snapshot from before is not planned from. */
  writeMarks?: Pick<ContactSnapshots, 'writeStarted' | 'writeFinished'>;
  now?: () => number;
}

export interface ApplyResult {
  /** Writes made (or, in dry run, recorded). */
  writes: number;
  /** GHL calls spent, lookups for crash recovery included. */
  calls: number;
}

/** The line that ties a note or task in GHL to the outside item it came from. */
export function referenceLine(sourceKey: string): string {
  return `— ghl-bridge ref: ${sourceKey}`;
}

const withReference = (body: string, sourceKey: string) => `${body}\n\n${referenceLine(sourceKey)}`;

export async function applyPlan(deps: ApplyDeps, target: { locationId: string; contactId: string }, plan: Plan): Promise<ApplyResult> {
  const { locationId, contactId } = target;
  if (deps.dryRun) {
    const at = new Date(deps.now?.() ?? Date.now()).toISOString();
    await deps.planned.record(plan.writes.map((write) => describe(write, locationId, contactId, at)));
    return { writes: plan.writes.length, calls: 0 };
  }
  let calls = 0;
  const marks = plan.writes.some(changesContact) ? deps.writeMarks : undefined;
  await marks?.writeStarted(locationId, contactId);
  try {
    for (const write of plan.writes) calls += await applyOne(deps, locationId, contactId, write);
  } finally {
    // Also after a failure: the writes made so far are in GHL. Unmarked, the start mark stands for its lease.
    await marks?.writeFinished(locationId, contactId).catch((error: unknown) => {
      deps.logger.warn({ locationId, contactId, err: { message: error instanceof Error ? error.message : String(error) } }, 'write mark not recorded');
    });
  }
  return { writes: plan.writes.length, calls };
}

/** Writes that change what a contact snapshot holds (fields, tags); notes and tasks do not. */
function changesContact(write: PlannedWrite): boolean {
  return write.kind === 'set-fields' || write.kind === 'add-tags' || write.kind === 'remove-tags';
}

async function applyOne(deps: ApplyDeps, locationId: string, contactId: string, write: PlannedWrite): Promise<number> {
  const { ghl } = deps;
  switch (write.kind) {
    case 'set-fields':
      await ghl.updateContactFields(locationId, contactId, write.fields.map(({ id, value }) => ({ id, value })));
      return 1;
    case 'add-tags':
      await ghl.addTags(locationId, contactId, write.tags);
      return 1;
    case 'remove-tags':
      await ghl.removeTags(locationId, contactId, write.tags);
      return 1;
    case 'create-note':
      return createNote(deps, locationId, contactId, write);
    case 'update-note':
      return updateNote(deps, locationId, contactId, write);
    case 'create-task':
      return createTask(deps, locationId, contactId, write);
    case 'update-task':
      return updateTask(deps, locationId, contactId, write);
    case 'complete-task':
      return completeTask(deps, locationId, contactId, write);
  }
}

type WriteOf<K extends PlannedWrite['kind']> = Extract<PlannedWrite, { kind: K }>;

async function createNote(deps: ApplyDeps, locationId: string, contactId: string, write: WriteOf<'create-note'>): Promise<number> {
  const { ghl, ledger } = deps;
  let calls = 0;
  if (await ledger.markPending(locationId, contactId, write.sourceKey)) {
    calls += 1;
    const existing = (await ghl.listNotes(locationId, contactId)).items.find((note) => note.body?.includes(referenceLine(write.sourceKey)));
    if (existing) {
      deps.logger.info({ locationId, contactId, sourceKey: write.sourceKey }, 'note from an interrupted run found, not created again');
      await ledger.recordNote(locationId, contactId, write.sourceKey, existing.id, bodyHash(stripReference(existing.body ?? '')));
      return calls;
    }
  }
  const note = await ghl.createNote(locationId, contactId, { body: withReference(write.body, write.sourceKey) });
  await ledger.recordNote(locationId, contactId, write.sourceKey, note.id, bodyHash(write.body));
  return calls + 1;
}

async function updateNote(deps: ApplyDeps, locationId: string, contactId: string, write: WriteOf<'update-note'>): Promise<number> {
  try {
    await deps.ghl.updateNote(locationId, contactId, write.noteId, { body: withReference(write.body, write.sourceKey) });
  } catch (error) {
    // Deleted by a user: respected, never recreated. GHL may say so with 404, 400 or 422.
    if (!isGhlNotFound(error)) throw error;
    deps.logger.info({ locationId, contactId, sourceKey: write.sourceKey }, 'note deleted in GHL, left alone');
  }
  await deps.ledger.recordNote(locationId, contactId, write.sourceKey, write.noteId, bodyHash(write.body));
  return 1;
}

async function createTask(deps: ApplyDeps, locationId: string, contactId: string, write: WriteOf<'create-task'>): Promise<number> {
  const { ghl, ledger } = deps;
  let calls = 0;
  if (await ledger.markPending(locationId, contactId, write.sourceKey)) {
    calls += 1;
    const existing = (await ghl.listTasks(locationId, contactId)).items.find((task) => task.body?.includes(referenceLine(write.sourceKey)));
    if (existing) {
      deps.logger.info({ locationId, contactId, sourceKey: write.sourceKey }, 'task from an interrupted run found, not created again');
      await ledger.recordTask(locationId, contactId, write.sourceKey, existing.id, existing.completed ? 'completed' : 'open', existing.dueDate ?? write.dueDate);
      return calls;
    }
  }
  const task = await ghl.createTask(locationId, contactId, {
    title: write.title,
    body: withReference(write.body, write.sourceKey),
    dueDate: write.dueDate,
    completed: false,
    ...(write.assignedTo ? { assignedTo: write.assignedTo } : {}),
  });
  await ledger.recordTask(locationId, contactId, write.sourceKey, task.id, 'open', write.dueDate);
  return calls + 1;
}

async function updateTask(deps: ApplyDeps, locationId: string, contactId: string, write: WriteOf<'update-task'>): Promise<number> {
  try {
    await deps.ghl.updateTask(locationId, contactId, write.taskId, { dueDate: write.dueDate });
    await deps.ledger.recordTask(locationId, contactId, write.sourceKey, write.taskId, 'open', write.dueDate);
  } catch (error) {
    if (!isGhlNotFound(error)) throw error;
    await deps.ledger.recordTask(locationId, contactId, write.sourceKey, write.taskId, 'deleted', write.dueDate);
  }
  return 1;
}

async function completeTask(deps: ApplyDeps, locationId: string, contactId: string, write: WriteOf<'complete-task'>): Promise<number> {
  const known = (await deps.ledger.view(locationId, contactId)).tasks[write.sourceKey];
  const dueDate = known?.dueDate ?? '';
  try {
    await deps.ghl.completeTask(locationId, contactId, write.taskId, true);
    await deps.ledger.recordTask(locationId, contactId, write.sourceKey, write.taskId, 'completed', dueDate);
  } catch (error) {
    if (!isGhlNotFound(error)) throw error;
    await deps.ledger.recordTask(locationId, contactId, write.sourceKey, write.taskId, 'deleted', dueDate);
  }
  return 1;
}

function stripReference(body: string): string {
  return body.replace(/\n\n— ghl-bridge ref: .*$/s, '');
}

/** The request a write would send, for the dry-run record. */
function describe(write: PlannedWrite, locationId: string, contactId: string, at: string): PlannedWriteRecord {
  const base = { at, locationId, contactId, system: 'ghl' as const, reason: write.reason };
  const contactPath = `/contacts/${contactId}`;
  switch (write.kind) {
    case 'set-fields':
      return { ...base, method: 'PUT', path: contactPath, body: { customFields: write.fields.map(({ id, key, value }) => ({ id, key, field_value: value })) } };
    case 'add-tags':
      return { ...base, method: 'POST', path: `${contactPath}/tags`, body: { tags: write.tags } };
    case 'remove-tags':
      return { ...base, method: 'DELETE', path: `${contactPath}/tags`, body: { tags: write.tags } };
    case 'create-note':
      return { ...base, method: 'POST', path: `${contactPath}/notes`, body: { body: withReference(write.body, write.sourceKey) } };
    case 'update-note':
      return { ...base, method: 'PUT', path: `${contactPath}/notes/${write.noteId}`, body: { body: withReference(write.body, write.sourceKey) } };
    case 'create-task':
      return {
        ...base,
        method: 'POST',
        path: `${contactPath}/tasks`,
        body: { title: write.title, body: withReference(write.body, write.sourceKey), dueDate: write.dueDate, completed: false, assignedTo: write.assignedTo },
      };
    case 'update-task':
      return { ...base, method: 'PUT', path: `${contactPath}/tasks/${write.taskId}`, body: { dueDate: write.dueDate } };
    case 'complete-task':
      return { ...base, method: 'PUT', path: `${contactPath}/tasks/${write.taskId}/completed`, body: { completed: true } };
  }
}
