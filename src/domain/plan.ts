/**
 * The plan: the writes a flow wants, computed by a pure planner from (event, current state, mapping)
 * and carried out (or, in dry run, recorded) by the worker. A `sourceKey` names the outside item a
 * note or task belongs to (`tp-review:<id>`, `tp-review:<id>:low-rating`): one note or task per key.
 */
import { createHash } from 'node:crypto';

export type FieldValue = string | number | string[];

export interface PlannedField {
  /** Mapping key, e.g. `contact.trustpilot_review_stars`. */
  key: string;
  /** Resolved GHL custom field id. */
  id: string;
  value: FieldValue;
}

export type PlannedWrite =
  | { kind: 'set-fields'; fields: PlannedField[]; reason: string }
  | { kind: 'create-note'; sourceKey: string; body: string; reason: string }
  | { kind: 'update-note'; sourceKey: string; noteId: string; body: string; reason: string }
  | { kind: 'add-tags'; tags: string[]; reason: string }
  | { kind: 'remove-tags'; tags: string[]; reason: string }
  | { kind: 'create-task'; sourceKey: string; title: string; body: string; dueDate: string; assignedTo?: string; reason: string }
  | { kind: 'update-task'; sourceKey: string; taskId: string; dueDate: string; reason: string }
  | { kind: 'complete-task'; sourceKey: string; taskId: string; reason: string };

export interface Plan {
  writes: PlannedWrite[];
  /** Things an operator should know (a mapped field missing in GHL...), never a reason to fail. */
  warnings: string[];
}

/** What the bridge remembers of the notes and tasks it made for one contact (the write ledger). */
export interface LedgerView {
  notes: Record<string, { noteId: string; bodyHash: string }>;
  tasks: Record<string, { taskId: string; status: 'open' | 'completed' | 'deleted'; dueDate: string }>;
}

/** The contact as the planner sees it: GHL's current state. */
export interface ContactSnapshot {
  id: string;
  locationId: string;
  firstName?: string;
  lastName?: string;
  name?: string;
  email?: string;
  website?: string;
  assignedTo?: string;
  tags: string[];
  customFields: { id: string; value: unknown }[];
}

/** Values compare as GHL returns them: numbers may come back as strings, lists in any order. */
export function sameFieldValue(current: unknown, wanted: FieldValue): boolean {
  if (Array.isArray(wanted)) {
    if (!Array.isArray(current)) return false;
    const a = [...current].map(String).sort();
    const b = [...wanted].sort();
    return a.length === b.length && a.every((item, index) => item === b[index]);
  }
  if (current === undefined || current === null) return false;
  if (typeof wanted === 'number') return Number(current) === wanted;
  return String(current) === wanted;
}

/** What the ledger remembers of a note body, to tell whether it changed. */
export function bodyHash(body: string): string {
  return createHash('sha256').update(body).digest('hex').slice(0, 32);
}

/** Several flows' plans as one: all field writes in a single contact update, first. */
export function mergePlans(...plans: Plan[]): Plan {
  const fields: PlannedField[] = [];
  const reasons: string[] = [];
  const rest: PlannedWrite[] = [];
  for (const plan of plans) {
    for (const write of plan.writes) {
      if (write.kind === 'set-fields') {
        fields.push(...write.fields);
        reasons.push(write.reason);
      } else rest.push(write);
    }
  }
  const writes: PlannedWrite[] = fields.length > 0 ? [{ kind: 'set-fields', fields, reason: reasons.join('; ') }, ...rest] : rest;
  return { writes, warnings: plans.flatMap((plan) => plan.warnings) };
}
