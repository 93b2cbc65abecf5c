/**
 * Several accounts in the Opinion Stage simulator, over real HTTP on loopback: each API key lists only
 * its own items, another account's item (its responses, its questions) answers 404 as an unknown item
 * does, an unknown key is a 401, and each account's responses go to its own webhook URL with its own
 * token. The default account behaves as before.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { request } from 'undici';
import { DEFAULT_OPINIONSTAGE_API_KEY, startOpinionStageSimulator, type OpinionStageSimulator } from '../../../src/sandbox/opinionstage/simulator.js';
import { waitFor } from '../../helpers/wait.js';

const OTHER_KEY = 'os-other-account-key';
const QUESTIONS = [{ id: 'q-email', title: 'Email', kind: 'email' }];

async function get(sim: OpinionStageSimulator, path: string, key: string): Promise<{ status: number; json: unknown }> {
  const answer = await request(`${sim.apiBaseUrl}${path}`, { headers: { authorization: `Basic ${Buffer.from(`${key}:`).toString('base64')}` } });
  const text = await answer.body.text();
  return { status: answer.statusCode, json: text === '' ? undefined : JSON.parse(text) };
}

function ids(json: unknown): string[] {
  assert.ok(json !== null && typeof json === 'object' && 'data' in json && Array.isArray(json.data));
  return json.data.map((entry: unknown) => (entry !== null && typeof entry === 'object' && 'id' in entry ? String(entry.id) : ''));
}

describe('Opinion Stage simulator with several accounts', () => {
  let sim: OpinionStageSimulator;
  let receiver: Server;
  const received: { path: string; token: string | undefined; body: string }[] = [];
  const items = { own: '', other: '' };

  before(async () => {
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const token = req.headers['x-webhook-token'];
        received.push({ path: req.url ?? '', token: Array.isArray(token) ? token[0] : token, body: Buffer.concat(chunks).toString('utf8') });
        res.end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const address = receiver.address();
    assert.ok(address !== null && typeof address === 'object');
    const base = `http://127.0.0.1:${address.port}`;
    sim = await startOpinionStageSimulator({
      webhookUrl: `${base}/default`,
      webhookToken: 'default-token',
      accounts: [{ apiKey: OTHER_KEY, webhookUrl: `${base}/other`, webhookToken: 'other-token' }],
    });
    items.own = sim.addItem({ title: 'Default survey', type: 'survey', questions: QUESTIONS }).id;
    items.other = sim.addItem({ title: 'Other survey', type: 'survey', questions: QUESTIONS }, { apiKey: OTHER_KEY }).id;
  });

  after(async () => {
    await sim.close();
    await new Promise<void>((resolve) => receiver.close(() => resolve()));
  });

  test('each key lists only its own items', async () => {
    assert.deepEqual(ids((await get(sim, '/items', DEFAULT_OPINIONSTAGE_API_KEY)).json), [items.own]);
    assert.deepEqual(ids((await get(sim, '/items', OTHER_KEY)).json), [items.other]);
    assert.equal((await get(sim, '/items', 'os-unknown-key')).status, 401);
  });

  test("another account's item answers 404, as an unknown item does", async () => {
    sim.addResponse(items.other, { answers: { 'q-email': 'seen@other.test' }, sendWebhook: false });
    const mine = await get(sim, `/items/${items.other}/responses`, OTHER_KEY);
    assert.equal(mine.status, 200);
    assert.equal(ids(mine.json).length, 1);
    for (const path of [`/items/${items.other}/responses`, `/items/${items.other}/questions`]) {
      const refused = await get(sim, path, DEFAULT_OPINIONSTAGE_API_KEY);
      assert.equal(refused.status, 404, path);
      assert.deepEqual(refused.json, await get(sim, path.replace(items.other, 'no-such-item'), DEFAULT_OPINIONSTAGE_API_KEY).then((answer) => {
        // Same document but for the id in its detail.
        return JSON.parse(JSON.stringify(answer.json).replaceAll('no-such-item', items.other)) as unknown;
      }));
    }
    assert.equal((await get(sim, `/items/${items.own}/responses`, OTHER_KEY)).status, 404);
    assert.equal((await get(sim, `/items/${items.own}/responses`, DEFAULT_OPINIONSTAGE_API_KEY)).status, 200);
  });

  test("each account's responses go to its own webhook URL with its own token", async () => {
    received.length = 0;
    const other = sim.addResponse(items.other, { answers: { 'q-email': 'hook@other.test' } });
    const own = sim.addResponse(items.own, { answers: { 'q-email': 'hook@default.test' } });
    await sim.idle();
    await waitFor(() => (received.length >= 2 ? true : undefined), 10_000, 'two deliveries');
    const byPath = new Map(received.map((entry) => [entry.path, entry]));
    assert.equal(byPath.get('/other')?.token, 'other-token');
    assert.ok(byPath.get('/other')?.body.includes(other.id));
    assert.equal(byPath.get('/default')?.token, 'default-token');
    assert.ok(byPath.get('/default')?.body.includes(own.id));
    assert.equal(received.length, 2);
    assert.deepEqual(sim.accountDeliveries(OTHER_KEY).map((delivery) => delivery.responseId), [other.id]);
    assert.ok(sim.deliveries.every((delivery) => delivery.responseId !== other.id));
    sim.setAccountWebhook(OTHER_KEY, { url: undefined });
    sim.addResponse(items.other, { answers: { 'q-email': 'quiet@other.test' } });
    await sim.idle();
    assert.equal(sim.accountDeliveries(OTHER_KEY).length, 1, 'no URL, no delivery');
  });

  test('an item for an unknown account is refused', () => {
    assert.throws(() => sim.addItem({ title: 'Nobody', questions: [] }, { apiKey: 'os-unknown-key' }), /not found/);
  });

  test('the control API adds an item for an account and sets its webhook', async () => {
    const added = await request(`${sim.url}/__sandbox/items?account=${OTHER_KEY}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ title: 'Over HTTP', questions: QUESTIONS }) });
    assert.equal(added.statusCode, 201);
    const body: unknown = await added.body.json();
    assert.ok(body !== null && typeof body === 'object' && 'item' in body && body.item !== null && typeof body.item === 'object' && 'id' in body.item);
    assert.ok(ids((await get(sim, '/items', OTHER_KEY)).json).includes(String(body.item.id)));
    assert.ok(!ids((await get(sim, '/items', DEFAULT_OPINIONSTAGE_API_KEY)).json).includes(String(body.item.id)));
    const unknown = await request(`${sim.url}/__sandbox/webhook-url`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ url: null, apiKey: 'os-unknown-key' }) });
    assert.equal(unknown.statusCode, 404);
    await unknown.body.dump();
    const set = await request(`${sim.url}/__sandbox/webhook-url`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ url: null, apiKey: OTHER_KEY }) });
    assert.equal(set.statusCode, 200);
    await set.body.dump();
  });
});
