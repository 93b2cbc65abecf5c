/**
 * Opinion Stage → GHL planner. Pure: (contact, response, questions, ledger, mapping) → writes: one
 * note per response, the "last response" fields (never overwritten by an older response), tags and
 * follow-up tasks from the mapping's rules.
 */
import type { OpinionStageMapping, ResponseCondition } from '../config/mapping.js';
import { addBusinessDays } from './business-days.js';
import type { OsQuestion, OsResponse } from '../clients/opinionstage/schemas.js';
import { answerLines } from './opinionstage-answers.js';
import { answersOf, hasAnswers } from './opinionstage-response.js';
import { bodyHash, sameFieldValue, type ContactSnapshot, type FieldValue, type LedgerView, type Plan, type PlannedField, type PlannedWrite } from './plan.js';
import { renderTemplate } from './template.js';

export interface OpinionStagePlanInput {
  contact: ContactSnapshot;
  response: OsResponse;
  itemId: string | undefined;
  itemTitle: string;
  questions: OsQuestion[];
  fieldIds: Record<string, string>;
  ledger: LedgerView;
  mapping: OpinionStageMapping;
  /** When the response carries no timestamp: when it was received. */
  receivedAt: string;
  /** What could not be read for this response (e.g. "question labels unavailable"); said in the note. */
  missing?: string[];
}

export const responseNoteKey = (responseId: string) => `os-response:${responseId}`;
export const responseTaskKey = (responseId: string, ruleId: string) => `os-response:${responseId}:${ruleId}`;

export function planOpinionStage(input: OpinionStagePlanInput): Plan {
  const { contact, response, mapping } = input;
  const writes: PlannedWrite[] = [];
  const warnings: string[] = [];
  const created = responseDate(input);
  const values = templateValues(input, created);

  // "Last response" fields follow the newest response only: a late or polled older one must not roll them back.
  const dateFieldId = mapping.fields.lastResponseDate ? input.fieldIds[mapping.fields.lastResponseDate] : undefined;
  const storedDate = contact.customFields.find((field) => field.id === dateFieldId)?.value;
  const isNewest = typeof storedDate !== 'string' || storedDate <= created;
  if (isNewest) {
    const wanted: [string | null, FieldValue | undefined][] = [
      [mapping.fields.lastItemTitle, input.itemTitle || undefined],
      [mapping.fields.lastResult, response.attributes?.result?.title ?? undefined],
      [mapping.fields.lastScore, response.attributes?.result?.score ?? undefined],
      [mapping.fields.lastResponseDate, created],
    ];
    const changed: PlannedField[] = [];
    for (const [key, value] of wanted) {
      if (key === null || value === undefined) continue;
      const id = input.fieldIds[key];
      if (id === undefined) {
        warnings.push(`custom field ${key} does not exist in location ${contact.locationId}; run setup-fields`);
        continue;
      }
      if (!sameFieldValue(contact.customFields.find((field) => field.id === id)?.value, value)) changed.push({ key, id, value });
    }
    if (changed.length > 0) writes.push({ kind: 'set-fields', fields: changed, reason: `Opinion Stage response ${response.id}` });
  }

  if (mapping.note.enabled) {
    const sourceKey = responseNoteKey(response.id);
    const body = renderTemplate(mapping.note.template, values);
    const known = input.ledger.notes[sourceKey];
    if (!known) writes.push({ kind: 'create-note', sourceKey, body, reason: `response ${response.id} to "${input.itemTitle}"` });
    else if (known.bodyHash !== bodyHash(body)) writes.push({ kind: 'update-note', sourceKey, noteId: known.noteId, body, reason: `response ${response.id} changed` });
  }

  const have = new Set(contact.tags.map((tag) => tag.toLowerCase()));
  const add = [...new Set(mapping.tags.filter((rule) => matches(rule.when, input)).flatMap((rule) => rule.add))].filter((tag) => !have.has(tag.toLowerCase()));
  if (add.length > 0) writes.push({ kind: 'add-tags', tags: add, reason: `response ${response.id} matches tag rules` });

  for (const rule of mapping.followUps) {
    const sourceKey = responseTaskKey(response.id, rule.id);
    if (input.ledger.tasks[sourceKey] || !matches(rule.when, input)) continue;
    const assignedTo = rule.assignTo === 'nobody' ? undefined : rule.assignTo === 'contact-owner' ? contact.assignedTo : rule.assignTo;
    writes.push({
      kind: 'create-task',
      sourceKey,
      title: renderTemplate(rule.title, values).slice(0, 200),
      body: renderTemplate(rule.body, values),
      dueDate: addBusinessDays(new Date(created), rule.dueInBusinessDays).toISOString(),
      ...(assignedTo ? { assignedTo } : {}),
      reason: `response ${response.id} matches follow-up rule ${rule.id}`,
    });
  }
  return { writes, warnings };
}

/** Whether a response meets every condition given. */
export function matches(condition: ResponseCondition, input: Pick<OpinionStagePlanInput, 'response' | 'itemId' | 'questions'>): boolean {
  if (condition.itemIds && (!input.itemId || !condition.itemIds.includes(input.itemId))) return false;
  const score = input.response.attributes?.result?.score;
  if (condition.minScore !== undefined && (typeof score !== 'number' || score < condition.minScore)) return false;
  if (condition.maxScore !== undefined && (typeof score !== 'number' || score > condition.maxScore)) return false;
  if (condition.answered) {
    const wanted = condition.answered;
    const question = input.questions.find((item) => item.id === wanted.question || item.attributes?.title?.toLowerCase() === wanted.question.toLowerCase());
    const questionId = question?.id ?? wanted.question;
    const answer = answersOf(input.response).find((item) => item.question === questionId);
    const selected = (answer?.selection ?? []).map((value) => String(value).toLowerCase());
    if (!selected.includes(wanted.answer.toLowerCase())) return false;
  }
  return true;
}

function responseDate(input: OpinionStagePlanInput): string {
  const created = input.response.attributes?.timestamps?.created;
  const date = new Date(created ?? input.receivedAt);
  return Number.isNaN(date.getTime()) ? input.receivedAt : date.toISOString();
}

function templateValues(input: OpinionStagePlanInput, created: string): Record<string, string | number | undefined> {
  const result = input.response.attributes?.result;
  const contact = input.contact;
  return {
    itemTitle: input.itemTitle || 'an Opinion Stage item',
    result: result?.title ?? 'no result',
    resultText: result?.text ?? undefined,
    score: result?.score ?? undefined,
    scoreLine: typeof result?.score === 'number' ? ` (score ${result.score})` : '',
    date: created.slice(0, 10),
    answers: answersText(input),
    contactName: contact.name ?? ([contact.firstName, contact.lastName].filter(Boolean).join(' ') || contact.email),
  };
}

/** The answer lines, then what was missing, so a note never hides that its labels or answers are absent. */
function answersText(input: OpinionStagePlanInput): string {
  const lines = answerLines(input.response, input.questions).map((line) => `${line.question}: ${line.answer}`);
  const missing = [...new Set([...(input.missing ?? []), ...(hasAnswers(input.response) ? [] : ['answers unavailable'])])];
  if (missing.length > 0) lines.push(`${lines.length > 0 ? '\n' : ''}Missing: ${missing.join('; ')}`);
  return lines.join('\n');
}
