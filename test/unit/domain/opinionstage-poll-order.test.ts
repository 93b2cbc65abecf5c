import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createdMs, pageOrder, reachesBefore } from '../../../src/domain/opinionstage-poll-order.js';
import type { OsResponse } from '../../../src/clients/opinionstage/schemas.js';

const at = (id: string, created: string | null | undefined): OsResponse => ({ id, attributes: created === undefined ? null : { answers: [], timestamps: { created } } });

describe('Opinion Stage page order', () => {
  test('createdMs reads the created time, and nothing from a record without one', () => {
    assert.equal(createdMs(at('a', '2026-01-01T00:00:00Z')), Date.parse('2026-01-01T00:00:00Z'));
    assert.equal(createdMs(at('b', undefined)), undefined);
    assert.equal(createdMs(at('c', null)), undefined);
    assert.equal(createdMs(at('d', 'yesterday')), undefined);
  });

  test('pageOrder tells newest first from oldest first, and admits when it cannot tell', () => {
    const days = ['2026-01-03T00:00:00Z', '2026-01-02T00:00:00Z', '2026-01-01T00:00:00Z'];
    assert.equal(pageOrder(days.map((day, i) => at(`n${i}`, day))), 'newest-first');
    assert.equal(pageOrder([...days].reverse().map((day, i) => at(`o${i}`, day))), 'oldest-first');
    assert.equal(pageOrder([at('x', days[0]), at('y', undefined), at('z', days[2])]), 'newest-first', 'records without a time are passed over');
    assert.equal(pageOrder([at('one', days[0])]), 'unknown');
    assert.equal(pageOrder([at('s1', days[0]), at('s2', days[0])]), 'unknown');
    assert.equal(pageOrder([at('m1', days[1]), at('m2', days[0]), at('m3', days[2])]), 'unknown');
    assert.equal(pageOrder([]), 'unknown');
  });

  test('reachesBefore: a page holding any response created before the cutoff', () => {
    const cutoff = Date.parse('2026-01-02T00:00:00Z');
    assert.equal(reachesBefore([at('a', '2026-01-03T00:00:00Z'), at('b', '2026-01-01T00:00:00Z')], cutoff), true);
    assert.equal(reachesBefore([at('a', '2026-01-03T00:00:00Z'), at('b', '2026-01-02T00:00:00Z')], cutoff), false, 'at the cutoff is not before it');
    assert.equal(reachesBefore([at('a', undefined)], cutoff), false, 'a record without a time never ends a walk');
  });
});
