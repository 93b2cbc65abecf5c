/**
 * While the server shuts down, a webhook arriving on a connection still open is answered 429 with
 * `Retry-After` (GHL redelivers on 429, never on 503), anything else 503; requests in flight finish.
 * Real HTTP: Fastify refuses `inject` once closing.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Client } from 'undici';
import { buildTestApp } from '../../helpers/app.js';
import { waitFor } from '../../helpers/wait.js';

test('a webhook during shutdown gets 429 with Retry-After, the request in flight finishes', async () => {
  let release: () => void = () => undefined;
  const held = new Promise<void>((resolve) => (release = resolve));
  let checking = false;
  const { app } = await buildTestApp({
    readinessChecks: [
      {
        name: 'held',
        check: async () => {
          checking = true;
          await held;
          return { ok: true };
        },
      },
    ],
  });
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  const client = new Client(address);
  try {
    const inFlight = client.request({ method: 'GET', path: '/ready' });
    await waitFor(() => (checking ? true : undefined), 10_000, 'the request in flight');
    const closed = app.close();
    // preClose has run once the server stopped listening.
    await waitFor(() => (app.server.listening ? undefined : true), 10_000, 'the server to start closing');
    release();
    const ready = await inFlight;
    await ready.body.dump();
    assert.equal(ready.statusCode, 200, 'the request in flight finishes');

    const webhook = await client.request({ method: 'POST', path: '/webhooks/trustpilot', headers: { 'content-type': 'application/json' }, body: '{}' });
    const body = (await webhook.body.json()) as { code?: string };
    assert.equal(webhook.statusCode, 429);
    assert.equal(webhook.headers['retry-after'], '10');
    assert.equal(body.code, 'SHUTTING_DOWN');
    await closed;
  } finally {
    release();
    await client.close().catch(() => undefined);
    await app.close();
  }
});
