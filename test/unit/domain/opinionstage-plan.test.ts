import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DEFAULT_MAPPING, parseMapping } from '../../../src/config/mapping.js';
import { planOpinionStage, responseNoteKey, type OpinionStagePlanInput } from '../../../src/domain/opinionstage-plan.js';
import type { OsQuestion, OsResponse } from '../../../src/clients/opinionstage/schemas.js';
import { bodyHash, mergePlans, type ContactSnapshot } from '../../../src/domain/plan.js';
import { personalSurveyLink, planSurveyLink } from '../../../src/domain/survey-link.js';

const mapping = DEFAULT_MAPPING.opinionStage;
const fieldIds = Object.fromEntries(
  Object.values(mapping.fields)
    .filter((key): key is string => key !== null)
    .map((key) => [key, `id_${key.slice('contact.'.length)}`]),
);
const contact: ContactSnapshot = { id: 'c1', locationId: 'l1', firstName: 'Ada', lastName: 'Lovelace', email: 'ada@example.com', assignedTo: 'owner1', tags: [], customFields: [] };
const questions: OsQuestion[] = [
  { id: 'q1', type: 'question', attributes: { title: 'How likely are you to recommend us?', kind: 'rating', lead: false } },
  { id: 'q2', type: 'question', attributes: { title: 'Email', kind: 'email', lead: true } },
];
const response: OsResponse = {
  id: 'r1',
  type: 'response',
  attributes: {
    answers: [
      { question: 'q1', selection: ['3'] },
      { question: 'q2', selection: ['ada@example.com'] },
    ],
    result: { title: 'Detractor', text: 'Unhappy', score: 3 },
    timestamps: { created: '2026-11-20T10:00:00.000Z' },
  },
};

function plan(overrides: Partial<OpinionStagePlanInput> = {}) {
  return planOpinionStage({ contact, response, itemId: 'item1', itemTitle: 'NPS survey', questions, fieldIds, ledger: { notes: {}, tasks: {} }, mapping, receivedAt: '2026-11-21T00:00:00.000Z', ...overrides });
}
const kinds = (result: ReturnType<typeof plan>) => result.writes.map((write) => write.kind);

describe('planOpinionStage', () => {
  const noteBody = (result: ReturnType<typeof plan>) => {
    const note = result.writes.find((write) => write.kind === 'create-note');
    assert.ok(note?.kind === 'create-note');
    return note.body;
  };

  test('labels missing: the answers under their question ids, then what was missing, in the note', () => {
    const body = noteBody(plan({ questions: [], missing: ['question labels unavailable'] }));
    assert.match(body, /q1: 3\nq2: ada@example\.com\n\nMissing: question labels unavailable$/);
  });

  test('null answers or null attributes: a note that says the answers were missing, nothing thrown', () => {
    const nullAnswers: OsResponse = { ...response, attributes: { ...response.attributes, answers: null } };
    assert.match(noteBody(plan({ response: nullAnswers })), /Missing: answers unavailable$/);
    const nullAttributes: OsResponse = { id: 'r9', type: 'response', attributes: null };
    const result = plan({ response: nullAttributes, missing: ['question labels unavailable'] });
    assert.match(noteBody(result), /Result: no result\n\nMissing: question labels unavailable; answers unavailable$/);
    assert.ok(!kinds(result).includes('create-task'), 'no score, so no low-score task');
  });

  test('an empty answer list is answers, not a gap', () => {
    const empty: OsResponse = { ...response, attributes: { ...response.attributes, answers: [] } };
    assert.doesNotMatch(noteBody(plan({ response: empty })), /Missing/);
  });

  test('a low-score response: last-response fields, one note with the answers, the respondent tag and the follow-up task', () => {
    const result = plan();
    assert.deepEqual(kinds(result), ['set-fields', 'create-note', 'add-tags', 'create-task']);
    const fields = result.writes[0];
    assert.ok(fields?.kind === 'set-fields');
    assert.deepEqual(Object.fromEntries(fields.fields.map((field) => [field.key, field.value])), {
      'contact.opinionstage_last_item': 'NPS survey',
      'contact.opinionstage_last_result': 'Detractor',
      'contact.opinionstage_last_score': 3,
      'contact.opinionstage_last_response_date': '2026-11-20T10:00:00.000Z',
    });
    const note = result.writes[1];
    assert.ok(note?.kind === 'create-note');
    assert.equal(note.sourceKey, responseNoteKey('r1'));
    assert.match(note.body, /How likely are you to recommend us\?: 3/);
    assert.match(note.body, /Result: Detractor \(score 3\)/);
    const task = result.writes[3];
    assert.ok(task?.kind === 'create-task');
    assert.equal(task.title, 'Follow up: score 3 in "NPS survey"');
    assert.equal(task.assignedTo, 'owner1');
  });

  test('re-processing the same response changes nothing', () => {
    const first = plan();
    const fields = first.writes[0];
    assert.ok(fields?.kind === 'set-fields');
    const note = first.writes[1];
    assert.ok(note?.kind === 'create-note');
    const after: ContactSnapshot = { ...contact, tags: ['opinionstage-respondent'], customFields: fields.fields.map((field) => ({ id: field.id, value: field.value })) };
    const ledger = { notes: { [note.sourceKey]: { noteId: 'n1', bodyHash: bodyHash(note.body) } }, tasks: { 'os-response:r1:low-score': { taskId: 't1', status: 'open' as const, dueDate: 'x' } } };
    assert.deepEqual(plan({ contact: after, ledger }).writes, []);
  });

  test('an older response does not roll back the last-response fields', () => {
    const newer: ContactSnapshot = { ...contact, customFields: [{ id: 'id_opinionstage_last_response_date', value: '2026-11-22T00:00:00.000Z' }] };
    const result = plan({ contact: newer });
    assert.ok(!kinds(result).includes('set-fields'));
    assert.ok(kinds(result).includes('create-note'), 'the older response still gets its note');
  });

  test('a high score opens no task', () => {
    const happy = { ...response, attributes: { ...response.attributes, result: { title: 'Promoter', score: 9 } } };
    assert.ok(!kinds(plan({ response: happy })).includes('create-task'));
  });

  test('rules on answers and items', () => {
    const custom = parseMapping({
      opinionStage: {
        tags: [{ when: { answered: { question: 'how likely are you to recommend us?', answer: '3' } }, add: ['nps-3'] }, { when: { itemIds: ['other'] }, add: ['never'] }],
        followUps: [{ id: 'asked', when: { itemIds: ['item1'], answered: { question: 'q1', answer: '3' } }, title: 'Call {{contactName}}', assignTo: 'nobody' }],
      },
    }).opinionStage;
    const result = plan({ mapping: custom });
    const tags = result.writes.find((write) => write.kind === 'add-tags');
    assert.deepEqual(tags?.kind === 'add-tags' && tags.tags, ['nps-3']);
    const task = result.writes.find((write) => write.kind === 'create-task');
    assert.ok(task?.kind === 'create-task');
    assert.equal(task.title, 'Call Ada Lovelace');
    assert.equal(task.assignedTo, undefined);
  });

  test('missing fields in GHL are warnings, not failures', () => {
    const result = plan({ fieldIds: {} });
    assert.ok(!kinds(result).includes('set-fields'));
    assert.ok(result.warnings.length >= 4);
  });
});

describe('personal survey links', () => {
  test('carry the contact id, its location id, email and name', () => {
    const link = new URL(personalSurveyLink('https://www.opinionstage.com/page/abc?ref=crm', contact));
    assert.equal(link.searchParams.get('contact_id'), 'c1');
    assert.equal(link.searchParams.get('location_id'), 'l1');
    assert.equal(link.searchParams.get('email'), 'ada@example.com');
    assert.equal(link.searchParams.get('name'), 'Ada Lovelace');
    assert.equal(link.searchParams.get('ref'), 'crm');
  });

  test('are written once, and only when a survey URL is configured', () => {
    const url = 'https://www.opinionstage.com/page/abc';
    const first = planSurveyLink(contact, fieldIds, mapping, url);
    assert.equal(first.writes.length, 1);
    const write = first.writes[0];
    assert.ok(write?.kind === 'set-fields');
    const after = { ...contact, customFields: write.fields.map((field) => ({ id: field.id, value: field.value })) };
    assert.deepEqual(planSurveyLink(after, fieldIds, mapping, url).writes, []);
    assert.deepEqual(planSurveyLink(contact, fieldIds, mapping, undefined).writes, []);
  });

  test('merged plans send all field writes in one update', () => {
    const merged = mergePlans(plan(), planSurveyLink(contact, fieldIds, mapping, 'https://www.opinionstage.com/page/abc'));
    assert.equal(merged.writes.filter((write) => write.kind === 'set-fields').length, 1);
    assert.equal(merged.writes[0]?.kind, 'set-fields');
  });
});
