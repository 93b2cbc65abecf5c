import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DEFAULT_MAPPING, parseMapping } from '../../../src/config/mapping.js';
import { addBusinessDays } from '../../../src/domain/business-days.js';
import { bodyHash, type ContactSnapshot, type LedgerView, type PlannedWrite } from '../../../src/domain/plan.js';
import { planTrustpilot, reviewNoteKey, reviewTaskKey, type CompanyFacts, type ReviewFacts, type TrustpilotPlanInput } from '../../../src/domain/trustpilot-plan.js';
import { renderTemplate } from '../../../src/domain/template.js';

const mapping = DEFAULT_MAPPING.trustpilot;
const FIELD_IDS = Object.fromEntries(
  Object.values(mapping.fields)
    .filter((key): key is string => key !== null)
    .map((key) => [key, `id_${key.slice('contact.'.length)}`]),
);

const contact: ContactSnapshot = { id: 'c1', locationId: 'l1', firstName: 'Ada', email: 'ada@acme.com', assignedTo: 'owner1', tags: [], customFields: [] };
const review: ReviewFacts = {
  id: 'r1',
  stars: 1,
  title: 'Slow delivery',
  text: 'It took three weeks to arrive and nobody answered my emails.',
  createdAt: '2026-11-20T10:00:00Z', // a Friday
  consumerId: 'consumer1',
  consumerName: 'Ada L.',
  consumerReviewCount: 3,
  url: 'https://www.trustpilot.com/reviews/r1',
};
const company: CompanyFacts = { businessUnitId: 'bu1', trustScore: 4.3, stars: 4.5, totalReviews: 1200 };
const emptyLedger: LedgerView = { notes: {}, tasks: {} };

function plan(overrides: Partial<TrustpilotPlanInput> = {}) {
  return planTrustpilot({ contact, review, company, fieldIds: FIELD_IDS, ledger: emptyLedger, mapping, ...overrides });
}

const kinds = (writes: PlannedWrite[]) => writes.map((write) => write.kind);

/** The contact as GHL holds it after a plan was carried out. */
function applied(input: { writes: PlannedWrite[] }, base: ContactSnapshot = contact): { contact: ContactSnapshot; ledger: LedgerView } {
  const fields = new Map(base.customFields.map((field) => [field.id, field.value]));
  let tags = [...base.tags];
  const ledger: LedgerView = { notes: {}, tasks: {} };
  for (const write of input.writes) {
    if (write.kind === 'set-fields') for (const field of write.fields) fields.set(field.id, field.value);
    if (write.kind === 'add-tags') tags = [...tags, ...write.tags];
    if (write.kind === 'remove-tags') tags = tags.filter((tag) => !write.tags.includes(tag));
    if (write.kind === 'create-note') ledger.notes[write.sourceKey] = { noteId: 'n1', bodyHash: bodyHash(write.body) };
    if (write.kind === 'create-task') ledger.tasks[write.sourceKey] = { taskId: 't1', status: 'open', dueDate: write.dueDate };
  }
  return { contact: { ...base, tags, customFields: [...fields].map(([id, value]) => ({ id, value })) }, ledger };
}

describe('planTrustpilot', () => {
  test('a 1★ review writes fields, one note, the detractor tags and one follow-up task', () => {
    const result = plan();
    assert.deepEqual(kinds(result.writes), ['set-fields', 'create-note', 'add-tags', 'create-task']);
    const fields = result.writes[0];
    assert.ok(fields?.kind === 'set-fields');
    const byKey = Object.fromEntries(fields.fields.map((field) => [field.key, field.value]));
    assert.equal(byKey['contact.trustpilot_review_stars'], 1);
    assert.equal(byKey['contact.trustpilot_review_date'], '2026-11-20');
    assert.equal(byKey['contact.trustpilot_trustscore'], 4.3);
    assert.equal(byKey['contact.trustpilot_business_unit_id'], 'bu1');
    assert.equal(fields.fields.find((field) => field.key === 'contact.trustpilot_review_id')?.id, 'id_trustpilot_review_id');
    const tags = result.writes.find((write) => write.kind === 'add-tags');
    assert.deepEqual(tags?.kind === 'add-tags' && tags.tags, ['trustpilot-reviewer', 'trustpilot-detractor']);
    const task = result.writes.find((write) => write.kind === 'create-task');
    assert.ok(task?.kind === 'create-task');
    assert.equal(task.title, 'Call back about a 1★ Trustpilot review');
    assert.equal(task.assignedTo, 'owner1');
    assert.equal(task.sourceKey, reviewTaskKey('r1', 'low-rating'));
    assert.equal(task.dueDate, '2026-11-23T17:00:00.000Z', 'one business day after a Friday is Monday');
  });

  test('no change, no write: planning again on the state the plan produced is empty', () => {
    const first = plan();
    const after = applied(first);
    const second = plan({ contact: after.contact, ledger: after.ledger });
    assert.deepEqual(second.writes, []);
  });

  test('GHL returning numbers as strings does not cause a rewrite', () => {
    const after = applied(plan());
    const stringly = { ...after.contact, customFields: after.contact.customFields.map((field) => ({ id: field.id, value: typeof field.value === 'number' ? String(field.value) : field.value })) };
    assert.deepEqual(plan({ contact: stringly, ledger: after.ledger }).writes, []);
  });

  test('the review edited to 5★ updates the note, completes the task and swaps the tags', () => {
    const after = applied(plan());
    const edited: ReviewFacts = { ...review, stars: 5, title: 'Sorted out', updatedAt: '2026-11-24T09:00:00Z' };
    const result = plan({ contact: after.contact, ledger: after.ledger, review: edited });
    assert.deepEqual(kinds(result.writes), ['set-fields', 'update-note', 'add-tags', 'remove-tags', 'complete-task']);
    const remove = result.writes.find((write) => write.kind === 'remove-tags');
    assert.deepEqual(remove?.kind === 'remove-tags' && remove.tags, ['trustpilot-detractor']);
    const add = result.writes.find((write) => write.kind === 'add-tags');
    assert.deepEqual(add?.kind === 'add-tags' && add.tags, ['trustpilot-promoter']);
    const note = result.writes.find((write) => write.kind === 'update-note');
    assert.equal(note?.kind === 'update-note' && note.noteId, 'n1');
  });

  test('a company reply resolves the follow-up without changing the rating', () => {
    const after = applied(plan());
    const result = plan({ contact: after.contact, ledger: after.ledger, review: { ...review, companyReply: 'Sorry, refund sent.' } });
    assert.ok(kinds(result.writes).includes('complete-task'));
    assert.ok(kinds(result.writes).includes('update-note'), 'the note shows the reply');
    assert.ok(!kinds(result.writes).includes('create-task'));
  });

  test('a task completed or deleted in GHL is never reopened or recreated', () => {
    const after = applied(plan());
    for (const status of ['completed', 'deleted'] as const) {
      const ledger: LedgerView = { ...after.ledger, tasks: { [reviewTaskKey('r1', 'low-rating')]: { taskId: 't1', status, dueDate: '2026-11-23T17:00:00.000Z' } } };
      const result = plan({ contact: after.contact, ledger, review: { ...review, text: 'Still waiting.', updatedAt: '2026-11-25T09:00:00Z' } });
      assert.ok(!kinds(result.writes).some((kind) => kind.endsWith('-task')), `${status}: ${kinds(result.writes).join(',')}`);
    }
  });

  test('an updated review moves the open task due date with it', () => {
    const after = applied(plan());
    const result = plan({ contact: after.contact, ledger: after.ledger, review: { ...review, text: 'Update: still nothing.', updatedAt: '2026-11-25T09:00:00Z' } });
    const update = result.writes.find((write) => write.kind === 'update-task');
    assert.ok(update?.kind === 'update-task');
    assert.equal(update.dueDate, '2026-11-26T17:00:00.000Z');
  });

  const starCases: [number, string[], boolean][] = [
    [1, ['trustpilot-reviewer', 'trustpilot-detractor'], true],
    [2, ['trustpilot-reviewer', 'trustpilot-detractor'], true],
    [3, ['trustpilot-reviewer', 'trustpilot-passive'], false],
    [4, ['trustpilot-reviewer', 'trustpilot-promoter'], false],
    [5, ['trustpilot-reviewer', 'trustpilot-promoter'], false],
  ];
  for (const [stars, tags, task] of starCases) {
    test(`a ${stars}★ review: tags ${tags.join(' + ')}, ${task ? 'a' : 'no'} follow-up task`, () => {
      const result = plan({ review: { ...review, stars } });
      const add = result.writes.find((write) => write.kind === 'add-tags');
      assert.deepEqual(add?.kind === 'add-tags' && add.tags, tags);
      assert.equal(kinds(result.writes).includes('create-task'), task);
    });
  }

  test('a low review already answered by the company opens no task', () => {
    assert.ok(!kinds(plan({ review: { ...review, companyReply: 'We are on it' } }).writes).includes('create-task'));
  });

  test('tags the contact already has (any case) are not added again', () => {
    const result = plan({ contact: { ...contact, tags: ['Trustpilot-Reviewer', 'trustpilot-detractor'] } });
    assert.ok(!kinds(result.writes).includes('add-tags'));
  });

  test('no review found: only the company score is written; no note, tag or task', () => {
    const result = plan({ review: null });
    assert.deepEqual(kinds(result.writes), ['set-fields']);
  });

  test('nothing looked up: no writes at all', () => {
    assert.deepEqual(plan({ review: undefined, company: undefined }).writes, []);
  });

  test('a mapped field missing in GHL is skipped with a warning, the rest still written', () => {
    const { ['contact.trustpilot_trustscore']: _missing, ...fewer } = FIELD_IDS;
    const result = plan({ fieldIds: fewer });
    assert.ok(result.warnings.some((warning) => warning.includes('contact.trustpilot_trustscore')));
    const fields = result.writes[0];
    assert.ok(fields?.kind === 'set-fields' && !fields.fields.some((field) => field.key === 'contact.trustpilot_trustscore'));
  });

  test('mapping: a field set to null is not written; the note can be turned off; assignee "nobody"', () => {
    const custom = parseMapping({
      trustpilot: {
        fields: { ...mapping.fields, reviewTitle: null },
        note: { enabled: false },
        followUps: [{ id: 'any', when: { minStars: 1, maxStars: 3 }, title: '{{contactName}}: {{stars}}★', assignTo: 'nobody' }],
      },
    }).trustpilot;
    const result = plan({ mapping: custom, review: { ...review, stars: 3 } });
    const fields = result.writes[0];
    assert.ok(fields?.kind === 'set-fields' && !fields.fields.some((field) => field.key === 'contact.trustpilot_review_title'));
    assert.ok(!kinds(result.writes).includes('create-note'));
    const task = result.writes.find((write) => write.kind === 'create-task');
    assert.ok(task?.kind === 'create-task');
    assert.equal(task.title, 'Ada: 3★');
    assert.equal(task.assignedTo, undefined);
  });

  test('the note carries the review and the company reply', () => {
    const result = plan({ review: { ...review, companyReply: 'Refund sent' } });
    const note = result.writes.find((write) => write.kind === 'create-note');
    assert.ok(note?.kind === 'create-note');
    assert.equal(note.sourceKey, reviewNoteKey('r1'));
    assert.match(note.body, /1★ "Slow delivery"/);
    assert.match(note.body, /Our reply: Refund sent/);
    assert.match(note.body, /trustpilot\.com\/reviews\/r1/);
  });
});

describe('helpers', () => {
  test('business days skip weekends', () => {
    assert.equal(addBusinessDays(new Date('2026-11-20T10:00:00Z'), 1).toISOString(), '2026-11-23T17:00:00.000Z');
    assert.equal(addBusinessDays(new Date('2026-11-21T10:00:00Z'), 0).toISOString(), '2026-11-23T17:00:00.000Z');
    assert.equal(addBusinessDays(new Date('2026-11-23T10:00:00Z'), 5).toISOString(), '2026-11-30T17:00:00.000Z');
  });

  test('templates render known names and blank unknown ones', () => {
    assert.equal(renderTemplate('{{stars}}★ by {{ who }}{{nope}}', { stars: 2, who: 'Ada' }), '2★ by Ada');
  });
});
