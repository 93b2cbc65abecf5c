/**
 * The Opinion Stage simulator's "new response" webhooks, received by a real HTTP server on loopback:
 * wrapped and bare bodies, the x-webhook-token header, flat lead fields and contactId, retries with
 * the same bytes, delivery that never blocks, and the control API's webhook settings.
 */
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { request } from 'undici';
import { z } from 'zod';
import {
  DEFAULT_OPINIONSTAGE_API_KEY,
  startOpinionStageSimulator,
  type Item,
  type OpinionStageSimulator,
} from '../../../src/sandbox/opinionstage/simulator.js';
import { waitUntil } from '../../helpers/wait.js';

const TOKEN = 'os-webhook-secret';

interface Received {
  headers: IncomingHttpHeaders;
  raw: string;
  payload: Record<string, unknown>;
}

interface Receiver {
  url: string;
  received: Received[];
  /** Chooses the status for each request; default 200. */
  respond: (index: number) => number;
  /** While set, answers wait for it. */
  gate: Promise<void> | undefined;
  close(): Promise<void>;
}

const PayloadSchema = z.record(z.string(), z.unknown());

async function startReceiver(): Promise<Receiver> {
  const receiver: Receiver = { url: '', received: [], respond: () => 200, gate: undefined, close: async () => {} };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const payload = PayloadSchema.parse(JSON.parse(raw));
      const index = receiver.received.push({ headers: req.headers, raw, payload }) - 1;
      const answer = (): void => {
        res.statusCode = receiver.respond(index);
        res.end();
      };
      if (receiver.gate) void receiver.gate.then(answer);
      else answer();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  assert.ok(address !== null && typeof address === 'object');
  receiver.url = `http://127.0.0.1:${address.port}/webhooks/opinionstage`;
  let closed: Promise<void> | undefined;
  receiver.close = () => {
    closed ??= new Promise<void>((resolve, reject) => {
      server.closeAllConnections();
      server.close((error) => (error ? reject(error) : resolve()));
    });
    return closed;
  };
  return receiver;
}

/** The response resource as the API lists it, to compare with what the webhook carried. */
async function listedResponse(sim: OpinionStageSimulator, itemId: string, responseId: string): Promise<unknown> {
  const answer = await request(`${sim.apiBaseUrl}/items/${itemId}/responses?page[size]=100`, {
    headers: { authorization: `Basic ${Buffer.from(`${DEFAULT_OPINIONSTAGE_API_KEY}:`).toString('base64')}` },
  });
  const document = z.object({ data: z.array(z.looseObject({ id: z.string() })) }).parse(await answer.body.json());
  const found = document.data.find((r) => r.id === responseId);
  assert.ok(found, `response ${responseId} is listed`);
  return found;
}

function leadItem(sim: OpinionStageSimulator): Item {
  return sim.addItem({
    title: 'Lead quiz',
    questions: [
      { title: 'Email', kind: 'email' },
      { title: 'Full name', kind: 'name' },
      { title: 'Phone', kind: 'phone' },
      { title: 'Backup email', kind: 'email', lead: false },
      { title: 'Colour', kind: 'single_choice' },
    ],
  });
}

describe('Opinion Stage simulator webhooks', () => {
  let receiver: Receiver;
  let sim: OpinionStageSimulator;

  before(async () => {
    receiver = await startReceiver();
    sim = await startOpinionStageSimulator({
      webhookUrl: receiver.url,
      webhookToken: TOKEN,
      webhookRetry: { attempts: 3, baseDelayMs: 20 },
    });
  });
  after(async () => {
    await sim.close();
    await receiver.close();
  });
  beforeEach(async () => {
    await sim.idle();
    receiver.received.length = 0;
    receiver.respond = () => 200;
    receiver.gate = undefined;
    sim.deliveries.length = 0;
  });

  test('a response is POSTed wrapped in data, with the token header and flat item_id, lead fields and contactId', async () => {
    const item = leadItem(sim);
    const response = sim.addResponse(item.id, {
      answers: { Email: 'ann@example.com', 'Full name': 'Ann Lee', Phone: '+15550100', 'Backup email': 'other@example.com', Colour: 'red' },
      result: { title: 'Red lover', text: 'You like red', score: 8 },
      query: { contact_id: 'ghl_c_1', email: 'ann@example.com' },
    });
    await sim.idle();

    assert.equal(receiver.received.length, 1);
    const [delivery] = receiver.received;
    assert.ok(delivery);
    assert.equal(delivery.headers['x-webhook-token'], TOKEN);
    assert.equal(delivery.headers['content-type'], 'application/json');
    const { payload } = delivery;
    assert.deepEqual(Object.keys(payload).sort(), ['contactId', 'data', 'email', 'item_id', 'name', 'phone']);
    assert.deepEqual(
      [payload.item_id, payload.email, payload.name, payload.phone, payload.contactId],
      [item.id, 'ann@example.com', 'Ann Lee', '+15550100', 'ghl_c_1'],
    );
    assert.deepEqual(payload.data, await listedResponse(sim, item.id, response.id));
    assert.deepEqual(sim.deliveries, [{ responseId: response.id, itemId: item.id, body: delivery.raw, status: 200, attempts: 1 }]);
  });

  test('the bare shape spreads the response object at the top level; first and last name make the flat name', async () => {
    const bareSim = await startOpinionStageSimulator({ webhookUrl: receiver.url, webhookShape: 'bare' });
    try {
      const item = bareSim.addItem({
        title: 'Split name form',
        type: 'form',
        questions: [
          { title: 'First', kind: 'first_name' },
          { title: 'Last', kind: 'last_name' },
        ],
      });
      const response = bareSim.addResponse(item.id, { answers: { First: 'Bo', Last: 'Diaz' } });
      await bareSim.idle();
      assert.equal(receiver.received.length, 1);
      const [delivery] = receiver.received;
      assert.ok(delivery);
      assert.equal(delivery.headers['x-webhook-token'], undefined, 'no token configured, no header');
      const { item_id: itemId, name, ...resource } = delivery.payload;
      assert.deepEqual([itemId, name], [item.id, 'Bo Diaz']);
      assert.deepEqual(resource, await listedResponse(bareSim, item.id, response.id));
      assert.equal(resource.type, 'response');
    } finally {
      await bareSim.close();
    }
  });

  test('a receiver answering 500 once gets the same bytes again, and the delivery records 2 attempts', async () => {
    receiver.respond = (index) => (index === 0 ? 500 : 204);
    const item = leadItem(sim);
    sim.addResponse(item.id, { answers: { Email: 'retry@example.com' } });
    await sim.idle();
    assert.equal(receiver.received.length, 2);
    assert.equal(receiver.received[0]?.raw, receiver.received[1]?.raw);
    assert.deepEqual(
      sim.deliveries.map((d) => [d.status, d.attempts]),
      [[204, 2]],
    );
    assert.equal(receiver.received[1]?.payload.email, 'retry@example.com');
    assert.equal(receiver.received[1]?.payload.contactId, undefined, 'no contact_id, no contactId');
  });

  test('a receiver that always fails gets the configured number of attempts, then the delivery gives up', async () => {
    receiver.respond = () => 503;
    const item = leadItem(sim);
    sim.addResponse(item.id, { answers: {} });
    await sim.idle();
    assert.equal(receiver.received.length, 3);
    assert.deepEqual(
      sim.deliveries.map((d) => [d.status, d.attempts]),
      [[503, 3]],
    );
  });

  test('delivery never blocks: addResponse and the API answer while the receiver hangs; idle waits for it', async () => {
    let release: () => void = () => {};
    receiver.gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const item = leadItem(sim);
    const response = sim.addResponse(item.id, { answers: { Email: 'slow@example.com' } });
    assert.deepEqual(sim.deliveries.map((d) => [d.responseId, d.status]), [[response.id, 0]]);
    await listedResponse(sim, item.id, response.id);

    let idle = false;
    const waiting = sim.idle().then(() => {
      idle = true;
    });
    await waitUntil(() => receiver.received.length > 0, 'the webhook to reach the receiver', 10_000, 1);
    assert.equal(idle, false, 'idle waits for the held delivery');
    release();
    await waiting;
    assert.deepEqual(sim.deliveries.map((d) => [d.status, d.attempts]), [[200, 1]]);
  });

  test('sendWebhook: false and an unset URL send nothing; the control API sets URL, token and shape', async () => {
    const item = leadItem(sim);
    sim.addResponse(item.id, { answers: {}, sendWebhook: false });
    sim.setWebhookUrl(undefined);
    sim.addResponse(item.id, { answers: {} });
    await sim.idle();
    assert.equal(receiver.received.length, 0);
    assert.equal(sim.deliveries.length, 0);

    const put = async (body: unknown): Promise<number> => {
      const answer = await request(`${sim.url}/__sandbox/webhook-url`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      await answer.body.dump();
      return answer.statusCode;
    };
    assert.equal(await put({ url: 'not a url' }), 422);
    assert.equal(await put({ url: receiver.url, token: 'rotated', shape: 'bare' }), 200);
    const response = sim.addResponse(item.id, { answers: { Phone: '+15550199' }, query: { contact_id: 'c_77' } });
    await sim.idle();
    const [delivery] = receiver.received;
    assert.ok(delivery);
    assert.equal(delivery.headers['x-webhook-token'], 'rotated');
    assert.deepEqual([delivery.payload.id, delivery.payload.type, delivery.payload.phone, delivery.payload.contactId], [response.id, 'response', '+15550199', 'c_77']);

    const listed = await request(`${sim.url}/__sandbox/deliveries`);
    const { deliveries } = z.object({ deliveries: z.array(z.looseObject({ responseId: z.string() })) }).parse(await listed.body.json());
    assert.deepEqual(deliveries.map((d) => d.responseId), [response.id]);

    assert.equal(await put({ url: null }), 200);
    sim.addResponse(item.id, { answers: {} });
    await sim.idle();
    assert.equal(receiver.received.length, 1, 'a null URL turns webhooks off');
    assert.equal(await put({ url: receiver.url, token: TOKEN, shape: 'wrapped' }), 200);
  });
});
