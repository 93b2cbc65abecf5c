/**
 * The lazy per-request logger (src/http/lazy-request-logger.ts): no child logger until a line is
 * written, and then the same lines as Fastify's own child, request id included; as an app's
 * factory, every request logs through one, though Fastify itself holds no logger.
 */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import Fastify, { LogController, type FastifyBaseLogger } from 'fastify';
import { pino } from 'pino';
import { lazyChildrenOf, lazyRequestLogger } from '../../../src/http/lazy-request-logger.js';

function recordingParent(level: string) {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  const parent = pino({ level }, stream) as unknown as FastifyBaseLogger;
  let children = 0;
  const counting = Object.create(parent) as FastifyBaseLogger;
  counting.child = (bindings, options) => {
    children++;
    return parent.child(bindings, options);
  };
  return { parent: counting, lines, children: () => children };
}

test('no child is made for a request that logs nothing; a line carries the request id', async () => {
  const { parent, lines, children } = recordingParent('info');
  const quiet = lazyRequestLogger(parent, { reqId: 'req-1' }, {});
  assert.equal(quiet.level, 'info');
  assert.equal(children(), 0);

  const logging = lazyRequestLogger(parent, { reqId: 'req-2' }, {});
  logging.info({ eventType: 'ContactCreate' }, 'webhook for a location not served ignored');
  logging.warn('second line');
  logging.debug('below the level');
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(children(), 1, 'one child for the request, made at its first line');
  assert.deepEqual(
    lines.map((line) => [line.reqId, line.msg, line.eventType]),
    [
      ['req-2', 'webhook for a location not served ignored', 'ContactCreate'],
      ['req-2', 'second line', undefined],
    ],
  );
});

test('setting the level makes the child and keeps the level; child() binds more', async () => {
  const { parent, lines } = recordingParent('info');
  const logger = lazyRequestLogger(parent, { reqId: 'req-3' }, {});
  logger.level = 'debug';
  assert.equal(logger.level, 'debug');
  logger.debug('now written');
  logger.child({ part: 'inner' }).info('from a child');
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(
    lines.map((line) => [line.reqId, line.part, line.msg]),
    [
      ['req-3', undefined, 'now written'],
      ['req-3', 'inner', 'from a child'],
    ],
  );
});

test('as the app factory, requests log with their id through our logger; Fastify holds none of its own', async () => {
  const { parent, lines, children } = recordingParent('info');
  // As src/http/app.ts builds it: no logger for Fastify, no request lines.
  const app = Fastify({ childLoggerFactory: lazyChildrenOf(parent), logController: new LogController({ disableRequestLogging: true }) });
  app.get('/quiet', async () => ({ ok: true }));
  app.get('/loud', async (request) => {
    request.log.info({ part: 'route' }, 'from the route');
    return { ok: true };
  });
  try {
    assert.equal((await app.inject({ method: 'GET', url: '/quiet' })).statusCode, 200);
    assert.equal(children(), 0, 'a request that logs nothing makes no child');
    assert.equal((await app.inject({ method: 'GET', url: '/loud' })).statusCode, 200);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(children(), 1);
    assert.equal(lines.length, 1, 'only the route line');
    assert.equal(lines[0]?.msg, 'from the route');
    assert.match(String(lines[0]?.reqId), /^req-/);
  } finally {
    await app.close();
  }
});
