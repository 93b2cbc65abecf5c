import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ContactSchema,
  CreateTaskBodySchema,
  TaskSchema,
  UpdateContactBodySchema,
} from '../../../../src/clients/ghl/schemas.js';

describe('read schemas are loose', () => {
  test('a contact needs only an id; nulls and unknown fields pass', () => {
    const parsed = ContactSchema.parse({ id: 'c1', email: null, tags: null, customFields: [{ id: 'f', value: { file: 1 } }], brandNew: 1 });
    assert.equal(parsed.id, 'c1');
    assert.equal(parsed.email, null);
    assert.deepEqual(parsed.customFields, [{ id: 'f', value: { file: 1 } }]);
    assert.equal(parsed['brandNew'], 1);
  });

  test('a contact without an id, or with a non-string id, is refused', () => {
    assert.equal(ContactSchema.safeParse({ email: 'a@b.c' }).success, false);
    assert.equal(ContactSchema.safeParse({ id: 42 }).success, false);
  });

  test('a custom-field value without an id is refused', () => {
    assert.equal(ContactSchema.safeParse({ id: 'c1', customFields: [{ value: 'x' }] }).success, false);
  });

  test('a task with completed: null is accepted', () => {
    assert.equal(TaskSchema.parse({ id: 't', completed: null }).completed, null);
  });
});

describe('write schemas are strict', () => {
  test('unknown keys are refused, also inside customFields', () => {
    assert.equal(UpdateContactBodySchema.safeParse({ nickname: 'x' }).success, false);
    assert.equal(UpdateContactBodySchema.safeParse({ customFields: [{ id: 'f', value: 'x' }] }).success, false);
    assert.equal(UpdateContactBodySchema.safeParse({ customFields: [{ id: 'f', field_value: 'x' }] }).success, true);
  });

  test('field_value accepts string, number and string[], nothing else', () => {
    for (const value of ['x', 4.5, ['a']]) {
      assert.equal(UpdateContactBodySchema.safeParse({ customFields: [{ id: 'f', field_value: value }] }).success, true);
    }
    for (const value of [true, null, { a: 1 }, [1]]) {
      assert.equal(UpdateContactBodySchema.safeParse({ customFields: [{ id: 'f', field_value: value }] }).success, false);
    }
  });

  test('a task needs title and an ISO dueDate; completed defaults to false', () => {
    assert.deepEqual(CreateTaskBodySchema.parse({ title: 't', dueDate: '2026-01-01T00:00:00.000Z' }), {
      title: 't',
      dueDate: '2026-01-01T00:00:00.000Z',
      completed: false,
    });
    assert.equal(CreateTaskBodySchema.safeParse({ title: 't', dueDate: '2026-01-01' }).success, false);
    assert.equal(CreateTaskBodySchema.safeParse({ dueDate: '2026-01-01T00:00:00Z' }).success, false);
  });
});
