/**
 * Closing within a deadline (src/lifecycle/wiring/resources.ts): a close that cannot finish (a
 * flush to a Redis that is away) is left behind at the deadline and the rest still close, so a
 * shutdown ends on its own instead of being stopped with exit code 1.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfig } from '../../../src/config/env.js';
import { createResources } from '../../../src/lifecycle/wiring/resources.js';
import { closeBudget } from '../../../src/lifecycle/shutdown.js';
import { createLogger } from '../../../src/observability/logger.js';

function resourcesWithLogs() {
  const lines: string[] = [];
  const logger = createLogger({ level: 'debug', destination: { write: (line: string) => void lines.push(line) } });
  return { resources: createResources(loadConfig({}), logger), lines };
}

const never = () => new Promise<void>(() => undefined);

test('a close that never finishes is left behind at the deadline; the ones after it still close, in reverse order', async () => {
  const { resources, lines } = resourcesWithLogs();
  const closed: string[] = [];
  resources.add('first', async () => void closed.push('first'));
  resources.add('stuck', never);
  resources.add('last', async () => void closed.push('last'));

  await resources.closeAll(50);

  assert.deepEqual(closed, ['last', 'first']);
  assert.ok(lines.some((line) => line.includes('"resource":"stuck"') && line.includes('left behind')), 'the stuck close is reported');
});

test('each close is told the time left, which only shrinks; with no budget it is unlimited', async () => {
  const { resources } = resourcesWithLogs();
  const told: number[] = [];
  resources.add('b', async (remainingMs) => void told.push(remainingMs));
  resources.add('a', async (remainingMs) => {
    told.push(remainingMs);
    await new Promise((resolve) => setTimeout(resolve, 5));
  });
  await resources.closeAll(10_000);
  assert.equal(told.length, 2);
  assert.ok(told[0]! <= 10_000 && told[1]! < told[0]!, `time left: ${told.join(', ')}`);

  const unlimited = resourcesWithLogs().resources;
  let remaining = 0;
  unlimited.add('any', async (remainingMs) => void (remaining = remainingMs));
  await unlimited.closeAll();
  assert.equal(remaining, Number.POSITIVE_INFINITY);
});

test('a close left behind that fails later does not become an unhandled rejection', async () => {
  const { resources } = resourcesWithLogs();
  let fail: (error: Error) => void = () => undefined;
  const late = new Promise<void>((_resolve, reject) => (fail = reject));
  resources.add('late', () => late);
  await resources.closeAll(10);

  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => void unhandled.push(reason);
  process.on('unhandledRejection', onUnhandled);
  try {
    fail(new Error('Redis went away'));
    await late.catch(() => undefined);
    // Unhandled rejections are reported after the microtask queue drains.
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(unhandled, []);
  } finally {
    process.off('unhandledRejection', onUnhandled);
  }
});

test('a close that fails within the deadline is reported and the rest still close', async () => {
  const { resources, lines } = resourcesWithLogs();
  const closed: string[] = [];
  resources.add('after', async () => void closed.push('after'));
  resources.add('broken', () => Promise.reject(new Error('boom')));
  await resources.closeAll(1_000);
  assert.deepEqual(closed, ['after']);
  assert.ok(lines.some((line) => line.includes('"resource":"broken"') && line.includes('close failed') && line.includes('boom')));
});

test('the shutdown budget keeps a margin before the grace timer: a tenth, at most 1 s', () => {
  assert.equal(closeBudget(30_000), 29_000);
  assert.equal(closeBudget(5_000), 4_500);
  assert.equal(closeBudget(2_000), 1_800);
});
