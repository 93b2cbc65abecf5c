import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createMemoryTokenStore } from '../../../../src/clients/trustpilot/token-store.js';

describe('memory token store', () => {
  test('set, get (a copy), clear', async () => {
    const store = createMemoryTokenStore();
    assert.equal(await store.get(), undefined);
    const token = { accessToken: 'a', refreshToken: 'r', expiresAt: 1 };
    await store.set(token);
    token.accessToken = 'mutated';
    const read = await store.get();
    assert.deepEqual(read, { accessToken: 'a', refreshToken: 'r', expiresAt: 1 });
    await store.clear();
    assert.equal(await store.get(), undefined);
  });

  test('withLock runs holders one at a time, in order, and a failure does not block the next', async () => {
    const store = createMemoryTokenStore();
    const events: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const first = store.withLock(async () => {
      events.push('first:start');
      await gate;
      events.push('first:end');
      return 1;
    });
    const second = store.withLock(async () => {
      events.push('second');
      throw new Error('boom');
    });
    const third = store.withLock(async () => {
      events.push('third');
      return 3;
    });
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(events, ['first:start']);
    release();
    assert.equal(await first, 1);
    await assert.rejects(second, /boom/);
    assert.equal(await third, 3);
    assert.deepEqual(events, ['first:start', 'first:end', 'second', 'third']);
  });
});
