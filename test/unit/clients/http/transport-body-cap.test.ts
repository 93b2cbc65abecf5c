/**
 * The transport stops reading an upstream body past its cap and fails the call with a permanent
 * UPSTREAM_BODY_TOO_LARGE (a job gives up rather than fetching it again), even when the body never ends.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { z } from 'zod';
import { createHttpTransport, MAX_RESPONSE_BODY_BYTES } from '../../../../src/clients/http/transport.js';
import { UpstreamError } from '../../../../src/clients/http/upstream-error.js';
import { classifyError } from '../../../../src/workers/classify-error.js';

let server: Server;
let baseUrl = '';
let endlessClosed: Promise<void> = Promise.resolve();

before(async () => {
  server = createServer((request, response) => {
    response.setHeader('content-type', 'application/json');
    if (request.url === '/small') return void response.end(JSON.stringify({ ok: true, pad: 'x'.repeat(500) }));
    // Never ends on its own: only our side closing the connection stops it.
    endlessClosed = new Promise((resolve) => response.on('close', () => resolve()));
    const chunk = Buffer.alloc(16 * 1024, 0x20);
    const pump = () => {
      while (!response.destroyed && response.write(chunk));
      if (!response.destroyed) response.once('drain', pump);
    };
    response.write('{"pad":"');
    pump();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

test('the default cap is 5 MiB', () => {
  assert.equal(MAX_RESPONSE_BODY_BYTES, 5 * 1024 * 1024);
});

test('a body under the cap is read; an endless one fails at the cap, permanently', async () => {
  const transport = createHttpTransport({ system: 'opinionstage', baseUrl, timeoutMs: 30_000, maxBodyBytes: 64 * 1024 });
  try {
    assert.deepEqual(await transport.json({ method: 'GET', path: '/small' }, z.looseObject({ ok: z.boolean() }).transform(({ ok }) => ({ ok }))), { ok: true });
    const failure = await transport.json({ method: 'GET', path: '/endless' }, z.unknown()).then(
      () => assert.fail('expected a failure'),
      (error: unknown) => error,
    );
    assert.ok(failure instanceof UpstreamError, String(failure));
    assert.equal(failure.code, 'UPSTREAM_BODY_TOO_LARGE');
    assert.equal(failure.permanent, true);
    assert.equal(failure.status, 200);
    assert.deepEqual(classifyError(failure), { action: 'give-up', cause: 'opinionstage:body-too-large' });
    await endlessClosed;
  } finally {
    await transport.close();
  }
});
