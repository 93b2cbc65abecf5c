/**
 * What a new user sees: with no credentials, `ghl-bridge all` starts in sandbox mode, serves /health,
 * prints how to send a demo contact, and that demo contact goes through the whole flow; on the
 * dashboard, the contact is found by its email, its page shows the note, task, tags and the sync that
 * wrote them, and the charts draw the demo's traffic.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, test } from 'node:test';
import { request } from 'undici';
import { z } from 'zod';
import { waitFor } from '../helpers/wait.js';
import { startRedisServer, type RedisServerHandle } from '../helpers/redis-server.js';

const MAIN = new URL('../../src/main.ts', import.meta.url).pathname;

let redis: RedisServerHandle;
before(async () => {
  redis = await startRedisServer();
});
after(async () => {
  await redis.close();
});

test('sandbox mode starts, explains itself, and both demo commands run through their flows', async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'all'], {
    env: { PATH: process.env.PATH, REDIS_URL: redis.url, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn', COALESCE_WINDOW_MS: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    const bridgeUrl = await waitFor(() => /bridge:\s+(http:\/\/\S+)/.exec(stdout)?.[1], 60_000, `the sandbox banner (stderr: ${stderr})`);
    assert.match(stdout, /sandbox mode/);
    const demos = [...stdout.matchAll(/curl -s -X POST (\S+) -H 'content-type: application\/json' -d '(\{.*\})'/g)];
    assert.equal(demos.length, 2, `two demo commands are printed:\n${stdout}`);

    const dashboard = /dashboard:\s+(http:\/\/\S+)/.exec(stdout)?.[1];
    assert.ok(dashboard, 'the dashboard link is printed');
    const login = await request(dashboard);
    await login.body.dump();
    const cookie = String(login.headers['set-cookie'] ?? '').split(';')[0] ?? '';
    assert.equal(login.statusCode, 303, 'the link signs in');
    const page = await request(`${bridgeUrl}/dashboard`, { headers: { cookie } });
    assert.equal(page.statusCode, 200, 'the printed dashboard link opens the dashboard');
    assert.match(await page.body.text(), /Dead letters/i);

    const health = await request(`${bridgeUrl}/health`);
    assert.deepEqual(await health.body.json(), { status: 'ok' });

    for (const [, url, body] of demos) {
      const created = await request(String(url), { method: 'POST', headers: { 'content-type': 'application/json' }, body: String(body) });
      assert.equal(created.statusCode, 201, `demo command ${url}`);
      await created.body.dump();
    }
    const ghlUrl = /GHL:\s+(http:\/\/\S+)/.exec(stdout)?.[1];
    assert.ok(ghlUrl);
    type State = { locations: { contacts: { id: string; email?: string; tags?: string[] }[]; notes: { contactId: string }[]; tasks: { contactId: string }[] }[] };
    const done = await waitFor(
      async () => {
        const state = (await (await request(`${ghlUrl}/__sandbox/state`)).body.json()) as State;
        const location = state.locations[0];
        const ada = location?.contacts.find((contact) => contact.email === 'ada@example.com');
        const lin = location?.contacts.find((contact) => contact.email === 'lin@example.com');
        const complete = (id: string | undefined) => id && location?.notes.some((note) => note.contactId === id) && location.tasks.some((task) => task.contactId === id);
        return complete(ada?.id) && complete(lin?.id) && ada?.tags?.includes('trustpilot-detractor') ? { ada, lin } : undefined;
      },
      20_000,
      'both demo flows to write their notes, tags and tasks',
    );
    assert.ok(done.lin?.tags?.includes('opinionstage-respondent'));

    // The walk a new user makes on the dashboard: find the demo contact by email, see what the bridge wrote.
    const json = { cookie, accept: 'application/json' };
    const SearchSchema = z.object({ known: z.array(z.object({ locationId: z.string(), contactId: z.string(), name: z.string().optional() })) });
    // The run records itself just after its last write to GHL.
    const found = await waitFor(
      async () => SearchSchema.parse(await (await request(`${bridgeUrl}/dashboard/search?q=ada%40example.com`, { headers: json })).body.json()).known.find((entry) => entry.contactId === done.ada?.id),
      20_000,
      'the demo contact found by email',
    );
    assert.equal(found.name, 'Ada Lovelace');
    const ContactSchema = z.object({
      contact: z.object({ tags: z.array(z.string()) }),
      notes: z.array(z.object({ body: z.string().optional() })),
      tasks: z.array(z.object({ sourceKey: z.string() })),
      syncs: z.array(z.object({ outcome: z.string(), wrote: z.array(z.string()).optional() })),
    });
    const contactPage = await request(`${bridgeUrl}/dashboard/contacts/${found.contactId}?locationId=${found.locationId}`, { headers: json });
    const view = ContactSchema.parse(await contactPage.body.json());
    assert.ok(view.contact.tags.includes('trustpilot-detractor'));
    assert.equal(view.notes.length, 1);
    assert.match(view.notes[0]?.body ?? '', /Trustpilot review/);
    assert.equal(view.tasks.length, 1);
    assert.ok(view.syncs.some((sync) => sync.outcome === 'synced' && sync.wrote?.includes('create-note') && sync.wrote.includes('create-task')), 'the sync that wrote them');
    const charts = await (await request(`${bridgeUrl}/dashboard`, { headers: { cookie } })).body.text();
    for (const chart of ['webhooks', 'syncs', 'ghl-calls']) {
      const figure = new RegExp(`<figure class="chart" id="chart-${chart}">.*?</figure>`, 's').exec(charts)?.[0] ?? '';
      assert.match(figure, /<circle [^>]*data-value="[1-9]/, `the ${chart} chart draws the demo's traffic`);
    }

    // An install as an agency would make it: the bridge's redirect, the (simulated) install page, the callback.
    const start = await request(`${bridgeUrl}/oauth/install`);
    await start.body.dump();
    assert.equal(start.statusCode, 302);
    const installPage = new URL(String(start.headers.location));
    assert.equal(installPage.origin, new URL(ghlUrl).origin, 'in sandbox mode the install page is the simulator');
    assert.ok(installPage.searchParams.get('version_id'), 'the install carries a version_id');
    const approved = await request(installPage.toString());
    await approved.body.dump();
    assert.equal(approved.statusCode, 302, 'the install page accepts the request');
    const installed = await request(String(approved.headers.location), { headers: { accept: 'application/json' } });
    assert.equal(installed.statusCode, 200);
    assert.deepEqual(await installed.body.json(), { status: 'installed', locations: ['loc_sandbox_1'] });
  } finally {
    child.kill('SIGTERM');
  }
  assert.equal(await exited, 0, `clean exit (stderr: ${stderr.slice(-500)}) (stdout: ${stdout.slice(-3000)})`);
});
