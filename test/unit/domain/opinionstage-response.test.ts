import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { answerLines, findRespondent, linkLocationId, type Respondent } from '../../../src/domain/opinionstage-answers.js';
import type { OsQuestion, OsResponse } from '../../../src/clients/opinionstage/schemas.js';
import { OsWebhookBodySchema, parseOsWebhookBody } from '../../../src/webhooks/opinionstage-response.js';

function question(id: string, title: string | null, kind: string | null, lead: boolean | null = null): OsQuestion {
  return { id, type: 'question', attributes: { title, kind, lead } };
}

function response(answers: [string, string[]][], extra: { utm?: Record<string, unknown>; hidden_fields?: Record<string, unknown> } = {}): OsResponse {
  return {
    id: 'r1',
    type: 'response',
    attributes: { answers: answers.map(([q, selection]) => ({ question: q, selection })), timestamps: { created: '2026-02-01T10:00:00Z' }, ...extra },
  };
}

const QUESTIONS: OsQuestion[] = [
  question('q1', 'How likely are you to recommend us?', 'rating'),
  question('q2', 'What could we improve?', 'multiple_choice'),
  question('qe', 'Email', 'email', true),
  question('qn', 'Full name', 'name', true),
  question('qp', 'Phone', 'phone', true),
];

test("linkLocationId: the personal link's location, from the link only", () => {
  assert.equal(linkLocationId(response([], { utm: { location_id: 'locTwo' } })), 'locTwo');
  assert.equal(linkLocationId(response([], { hidden_fields: { locationId: ['locList', 'x'] } })), 'locList');
  assert.equal(linkLocationId(response([], { utm: { location_id: '../x' } })), undefined);
  assert.equal(linkLocationId(response([['location_id', ['locAnswered']]])), undefined, 'an answer never names the location');
});

describe('findRespondent', () => {
  const cases: { name: string; response: OsResponse; questions?: OsQuestion[]; flat?: Parameters<typeof findRespondent>[2]; want: Respondent }[] = [
    {
      name: 'contact id from the personal link (utm contact_id) wins over everything',
      response: response([['qe', ['typed@example.com']]], { utm: { contact_id: 'c123', utm_source: 'ghl' } }),
      flat: { contactId: 'flat999' },
      want: { contactId: 'c123', email: 'typed@example.com' },
    },
    {
      name: 'contact id from hidden_fields, spelled contactId / ghl_contact_id; email from the link before the answers',
      response: response([['qe', ['typed@example.com']]], { hidden_fields: { ghl_contact_id: 'cG1', email: 'Linked@Example.com' } }),
      want: { contactId: 'cG1', email: 'linked@example.com' },
    },
    {
      name: 'an unsafe contact id in the link is ignored; the flat one is used',
      response: response([], { utm: { contactId: '../admin' } }),
      flat: { contactId: 'cFlat' },
      want: { contactId: 'cFlat' },
    },
    {
      name: 'the location the personal link was built for (location_id, or locationId); an unsafe one is ignored',
      response: response([], { utm: { contact_id: 'c1', location_id: 'locTwo_1' } }),
      want: { contactId: 'c1', locationId: 'locTwo_1' },
    },
    {
      name: 'a location id in hidden_fields counts; one in an unsafe shape does not',
      response: response([], { hidden_fields: { locationId: 'loc/../x' }, utm: { locationId: 'locUtm' } }),
      want: { locationId: 'locUtm' },
    },
    {
      name: 'a link parameter given as a list: the first value',
      response: response([], { utm: { contact_id: ['cA', 'cB'] } }),
      want: { contactId: 'cA' },
    },
    {
      name: 'lead answers by kind: email lower-cased, full name split, phone kept',
      response: response([
        ['q1', ['9']],
        ['qe', ['  Ada.Lovelace@Example.COM ']],
        ['qn', ['Ada  King Lovelace']],
        ['qp', ['+44 20 7946 0958']],
      ]),
      want: { email: 'ada.lovelace@example.com', name: 'Ada King Lovelace', firstName: 'Ada', lastName: 'King Lovelace', phone: '+44 20 7946 0958' },
    },
    {
      name: 'lead answers by title when the kind says nothing (text kinds, unknown kinds)',
      questions: [question('a', 'Your e-mail address', 'text', true), question('b', 'First name', 'short_text'), question('c', 'Surname', null), question('d', 'Mobile number', 'text')],
      response: response([
        ['a', ['grace@example.org']],
        ['b', ['Grace']],
        ['c', ['Hopper']],
        ['d', ['(555) 010-9999']],
      ]),
      want: { email: 'grace@example.org', firstName: 'Grace', lastName: 'Hopper', name: 'Grace Hopper', phone: '(555) 010-9999' },
    },
    {
      name: 'answers to ids not in the questions list are read by their question string as a title',
      questions: [],
      response: response([
        ['Email', ['x@example.com']],
        ['Name', ['Linus']],
      ]),
      want: { email: 'x@example.com', name: 'Linus', firstName: 'Linus' },
    },
    {
      name: 'choice questions and company names are not identity, whatever the title says',
      questions: [question('a', 'Name your favourite colour', 'single_choice'), question('b', 'Company name', 'text'), question('c', 'Which email client do you use?', 'multiple_choice')],
      response: response([
        ['a', ['Blue']],
        ['b', ['ACME']],
        ['c', ['me@example.com']],
      ]),
      want: {},
    },
    {
      name: 'a lead question of an unknown kind whose answer is an email',
      questions: [question('z', 'How can we reach you?', 'contact', true)],
      response: response([['z', ['reach@example.com']]]),
      want: { email: 'reach@example.com' },
    },
    {
      name: 'invalid email and junk phone in the answers are ignored; the flat fields fill in',
      response: response([
        ['qe', ['not-an-email']],
        ['qp', ['call me']],
      ]),
      flat: { email: 'Flat@Example.com', phone: '+1 555 0100 200', name: 'Alan Turing', contactId: 'cFlat' },
      want: { contactId: 'cFlat', email: 'flat@example.com', phone: '+1 555 0100 200', name: 'Alan Turing', firstName: 'Alan', lastName: 'Turing' },
    },
    {
      name: 'an invalid flat email is dropped too',
      response: response([]),
      flat: { email: 'nope@' },
      want: {},
    },
    {
      name: 'the first valid lead answer wins when two questions give an email',
      questions: [question('e1', 'Email', 'email', true), question('e2', 'Work email', 'email', true)],
      response: response([
        ['e1', ['broken']],
        ['e2', ['work@example.com']],
      ]),
      want: { email: 'work@example.com' },
    },
  ];

  for (const c of cases) {
    test(c.name, () => {
      assert.deepEqual(findRespondent(c.response, c.questions ?? QUESTIONS, c.flat), c.want);
    });
  }
});

describe('answerLines', () => {
  test('joined to titles, in question order, multiple selections comma-separated; unknown ids keep the id', () => {
    const r = response([
      ['q2', ['Speed', 'Price']],
      ['unknown-q', ['?']],
      ['q1', ['9']],
      ['qe', ['a@example.com']],
    ]);
    assert.deepEqual(answerLines(r, QUESTIONS), [
      { question: 'How likely are you to recommend us?', answer: '9' },
      { question: 'What could we improve?', answer: 'Speed, Price' },
      { question: 'Email', answer: 'a@example.com' },
      { question: 'unknown-q', answer: '?' },
    ]);
  });

  test('empty selections are left out; a question without a title is shown by its id; numbers are written out', () => {
    const r: OsResponse = {
      id: 'r2',
      attributes: {
        answers: [
          { question: 'q1', selection: [] },
          { question: 'q9', selection: [7, null, ' '] },
          { question: null, selection: ['orphan'] },
        ],
      },
    };
    assert.deepEqual(answerLines(r, [question('q1', 'Score', 'rating'), question('q9', null, 'rating')]), [{ question: 'q9', answer: '7' }]);
  });
});

describe('parseOsWebhookBody', () => {
  const bare = {
    id: 'r1',
    type: 'response',
    attributes: { answers: [{ question: 'qe', selection: ['a@example.com'] }], timestamps: { created: '2026-02-01T10:00:00Z' }, utm: {} },
    links: { self: 'https://api.opinionstage.com/api/v2/items/it%2F1/responses/r1' },
  };

  test('bare response with flat fields; item id from item_id', () => {
    const result = parseOsWebhookBody({ ...bare, item_id: 'it1', email: ' Ada@Example.com ', name: 'Ada', phone: '', contactId: 'c1' });
    assert.equal(result.kind, 'response');
    if (result.kind !== 'response') return;
    assert.equal(result.response.id, 'r1');
    assert.equal(result.itemId, 'it1');
    assert.deepEqual(result.flat, { email: 'Ada@Example.com', name: 'Ada', contactId: 'c1' }, 'trimmed, empty dropped; emails are checked by findRespondent');
  });

  test('wrapped in data, item id given as itemId number', () => {
    const result = parseOsWebhookBody({ data: bare, itemId: 42 });
    assert.equal(result.kind, 'response');
    if (result.kind !== 'response') return;
    assert.equal(result.response.id, 'r1');
    assert.deepEqual(result.response.attributes?.answers, bare.attributes.answers);
    assert.equal(result.itemId, '42');
    assert.deepEqual(result.flat, {});
  });

  test('without an item id field, the item id is read from links.self (inferred URL shape)', () => {
    const result = parseOsWebhookBody({ data: bare });
    assert.equal(result.kind === 'response' ? result.itemId : 'invalid', 'it/1');
    const noLink = parseOsWebhookBody({ ...bare, links: null });
    assert.equal(noLink.kind === 'response' ? noLink.itemId : 'invalid', undefined);
  });

  test('unknown fields and nulls where the API may send null are accepted', () => {
    const result = parseOsWebhookBody({ ...bare, extra: { x: 1 }, attributes: { ...bare.attributes, result: null, timestamps: null, utm: null, hidden_fields: { a: 1 }, more: true } });
    assert.equal(result.kind, 'response');
  });

  const invalid: { name: string; body: unknown; paths: string[] }[] = [
    { name: 'not an object', body: [bare], paths: [''] },
    { name: 'null', body: null, paths: [''] },
    { name: 'bare without id', body: { ...bare, id: undefined }, paths: ['id'] },
    { name: 'wrapped without id', body: { data: { ...bare, id: '' } }, paths: ['data.id'] },
    { name: 'wrapped data not an object', body: { data: 'r1' }, paths: ['data'] },
    { name: 'answers not a list', body: { data: { ...bare, attributes: { answers: 'x' } } }, paths: ['data.attributes.answers'] },
    { name: 'attributes not an object', body: { ...bare, attributes: 'x' }, paths: ['attributes'] },
    { name: 'selection not a list', body: { ...bare, attributes: { answers: [{ question: 'q', selection: 'x' }] } }, paths: ['attributes.answers.0.selection'] },
    { name: 'flat email not a string', body: { ...bare, email: 5 }, paths: ['email'] },
    { name: 'empty object', body: {}, paths: ['id'] },
  ];
  for (const c of invalid) {
    test(`invalid: ${c.name}`, () => {
      const result = parseOsWebhookBody(c.body);
      assert.equal(result.kind, 'invalid');
      if (result.kind !== 'invalid') return;
      assert.deepEqual(
        result.issues.map((issue) => issue.path),
        c.paths,
      );
      for (const issue of result.issues) assert.ok(issue.message.length > 0);
    });
  }

  test('a missing required field says "is required"', () => {
    const result = parseOsWebhookBody({ data: { attributes: { answers: [] } } });
    assert.deepEqual(result, { kind: 'invalid', issues: [{ path: 'data.id', message: 'is required' }] });
  });

  test('OsWebhookBodySchema (for the OpenAPI document) accepts both forms and refuses what the parser refuses', () => {
    assert.ok(OsWebhookBodySchema.safeParse(bare).success);
    assert.ok(OsWebhookBodySchema.safeParse({ data: bare, email: 'a@example.com' }).success);
    assert.ok(OsWebhookBodySchema.safeParse({ data: { id: 'r1', attributes: null } }).success, 'real records carry null attributes');
    assert.ok(OsWebhookBodySchema.safeParse({ data: { id: 'r1', attributes: { answers: null } } }).success, 'and null answers');
    assert.ok(!OsWebhookBodySchema.safeParse({ data: { id: '' } }).success);
    assert.ok(!OsWebhookBodySchema.safeParse({}).success);
  });
});
