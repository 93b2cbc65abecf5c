/**
 * The Trustpilot simulator's review-event webhooks, received by a real HTTP server on loopback
 * (one event per POST in `events[]`, the documented eventData, no email, deleted = `{ id }`,
 * retries on non-2xx, per-review order, never blocking the API), and the /__sandbox control API.
 */
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { startTrustpilotSimulator, type TrustpilotSimulator } from '../../../src/sandbox/trustpilot/simulator.js';
import { arr, call, KEY, obj, OWN_BU, passwordGrant, str } from '../../helpers/trustpilot-sim.js';
import { waitUntil } from '../../helpers/wait.js';

/** The keys of eventData in examples/webhook-service-review-created.example.json, in order. */
const EXAMPLE_EVENT_DATA_KEYS = [
  'id', 'language', 'title', 'text', 'referenceId', 'stars', 'createdAt', 'isVerified', 'locationId', 'link', 'consumer', 'tags',
];

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

async function startReceiver(): Promise<Receiver> {
  const receiver: Receiver = { url: '', received: [], respond: () => 200, gate: undefined, close: async () => {} };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const index = receiver.received.push({ headers: req.headers, raw, payload: obj(JSON.parse(raw)) }) - 1;
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
  receiver.url = `http://127.0.0.1:${address.port}/webhooks/trustpilot?token=secret-in-url`;
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

/** The single event of a delivery, after checking the envelope. */
function eventOf(received: Received): { eventName: unknown; eventData: Record<string, unknown> } {
  assert.deepEqual(Object.keys(received.payload), ['events']);
  const events = arr(received.payload.events);
  assert.equal(events.length, 1);
  const event = obj(events[0]);
  assert.deepEqual(Object.keys(event), ['eventName', 'version', 'eventData']);
  assert.equal(event.version, '1');
  return { eventName: event.eventName, eventData: obj(event.eventData) };
}

describe('Trustpilot simulator webhooks', () => {
  let receiver: Receiver;
  let sim: TrustpilotSimulator;

  before(async () => {
    receiver = await startReceiver();
    sim = await startTrustpilotSimulator({ webhookUrl: receiver.url, webhookRetry: { attempts: 3, baseDelayMs: 20 } });
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
  });

  test('a new review arrives as service-review-created with the documented eventData and no email', async () => {
    const review = sim.addReview({
      stars: 5,
      title: 'Great service',
      text: 'Nothing other than excellent customer service.',
      referenceId: 'ghl-contact-1',
      referralEmail: 'jane@example.com',
      consumerName: 'Jane Doe',
    });
    await sim.idle();
    assert.equal(receiver.received.length, 1);
    const [received] = receiver.received;
    assert.ok(received);
    assert.equal(received.headers['content-type'], 'application/json');
    assert.equal(received.headers['x-trustpilot-signature'], undefined);
    assert.doesNotMatch(received.raw, /jane@example\.com|referralEmail/i);
    const { eventName, eventData } = eventOf(received);
    assert.equal(eventName, 'service-review-created');
    assert.deepEqual(Object.keys(eventData), EXAMPLE_EVENT_DATA_KEYS);
    assert.equal(eventData.id, review.id);
    assert.equal(eventData.referenceId, 'ghl-contact-1');
    assert.equal(eventData.stars, 5);
    assert.equal(eventData.createdAt, review.createdAt);
    assert.equal(eventData.locationId, null);
    assert.equal(eventData.link, `${sim.url}/v1/reviews/${review.id}`);
    assert.deepEqual(eventData.consumer, {
      id: review.consumer.id,
      name: 'Jane Doe',
      link: `${sim.url}/v1/consumers/${review.consumer.id}`,
    });
    assert.deepEqual(sim.deliveries.at(-1), { eventName: 'service-review-created', body: received.raw, status: 200, attempts: 1 });
  });

  test('an edit and a company reply arrive as service-review-updated; a deletion as { id } only; in order', async () => {
    const review = sim.addReview({ stars: 2, title: 'Meh', text: 'Slow delivery', referenceId: 'ghl-contact-2' });
    sim.updateReview(review.id, { stars: 4, text: 'Arrived in the end' });
    sim.replyToReview(review.id, 'Thanks for the update');
    sim.deleteReview(review.id);
    await sim.idle();
    const events = receiver.received.map(eventOf);
    assert.deepEqual(events.map((e) => e.eventName), [
      'service-review-created', 'service-review-updated', 'service-review-updated', 'service-review-deleted',
    ]);
    const [, edited, replied, deleted] = events;
    assert.ok(edited && replied && deleted);
    assert.deepEqual(Object.keys(edited.eventData), EXAMPLE_EVENT_DATA_KEYS);
    assert.equal(edited.eventData.stars, 4);
    assert.equal(edited.eventData.text, 'Arrived in the end');
    assert.equal(replied.eventData.id, review.id);
    assert.equal(replied.eventData.referenceId, 'ghl-contact-2');
    assert.deepEqual(deleted.eventData, { id: review.id });
  });

  test('a non-2xx answer is retried with the same bytes until it succeeds', async () => {
    receiver.respond = (index) => (index < 2 ? 500 : 200);
    sim.addReview({ stars: 3, title: 'Retry me', text: 'x' });
    await sim.idle();
    assert.equal(receiver.received.length, 3);
    assert.equal(new Set(receiver.received.map((r) => r.raw)).size, 1);
    const delivery = sim.deliveries.at(-1);
    assert.equal(delivery?.attempts, 3);
    assert.equal(delivery?.status, 200);
  });

  test('retries stop after the configured attempts', async () => {
    receiver.respond = () => 503;
    sim.addReview({ stars: 1, title: 'Never delivered', text: 'x' });
    await sim.idle();
    assert.equal(receiver.received.length, 3);
    assert.equal(sim.deliveries.at(-1)?.status, 503);
  });

  test('a slow receiver never blocks the API', async () => {
    let open: () => void = () => {};
    receiver.gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    const created = await call(sim.url, 'POST', '/__sandbox/reviews', { json: { stars: 4, title: 'Blocked?', text: 'x' } });
    assert.equal(created.status, 201, created.text);
    await waitUntil(() => receiver.received.length === 1, 'the delivery to reach the receiver');
    const id = str(obj(created.json).id);
    const token = (await passwordGrant(sim.url)).access;
    const read = await call(sim.url, 'GET', `/v1/private/reviews/${id}`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(read.status, 200);
    assert.equal(sim.deliveries.at(-1)?.status, 0);
    open();
    await sim.idle();
    assert.equal(sim.deliveries.at(-1)?.status, 200);
  });
});

describe('Trustpilot simulator control API', () => {
  let receiver: Receiver;
  let sim: TrustpilotSimulator;

  before(async () => {
    receiver = await startReceiver();
    sim = await startTrustpilotSimulator({ webhookRetry: { attempts: 2, baseDelayMs: 20 } });
  });
  after(async () => {
    await sim.close();
    await receiver.close();
  });

  test('seeds business units and drives reviews over HTTP', async () => {
    const unit = await call(sim.url, 'POST', '/__sandbox/business-units', {
      json: { domain: 'acme.test', trustScore: 3.9, stars: 4, totalReviews: 10 },
    });
    assert.equal(unit.status, 201, unit.text);
    const found = await call(sim.url, 'GET', '/v1/business-units/find?name=www.acme.test', { headers: { apikey: KEY } });
    assert.equal(obj(found.json).id, obj(unit.json).id);

    assert.equal((await call(sim.url, 'PUT', '/__sandbox/webhook-url', { json: { url: receiver.url } })).status, 200);
    const created = await call(sim.url, 'POST', '/__sandbox/reviews', {
      json: { stars: 5, title: 'Via control', text: 'x', referenceId: 'ref-ctl', referralEmail: 'ctl@example.com' },
    });
    assert.equal(created.status, 201, created.text);
    const review = obj(created.json);
    const id = str(review.id);
    assert.equal(review.referralEmail, 'ctl@example.com');

    const patched = await call(sim.url, 'PATCH', `/__sandbox/reviews/${id}`, { json: { title: 'Edited' } });
    assert.equal(obj(patched.json).title, 'Edited');
    assert.equal(typeof obj(patched.json).updatedAt, 'string');
    const replied = await call(sim.url, 'POST', `/__sandbox/reviews/${id}/reply`, { json: { text: 'Thank you' } });
    assert.equal(obj(obj(replied.json).companyReply).text, 'Thank you');
    const deleted = await call(sim.url, 'DELETE', `/__sandbox/reviews/${id}`);
    assert.deepEqual(deleted.json, { deleted: true });
    await sim.idle();
    assert.deepEqual(
      receiver.received.map((r) => eventOf(r).eventName),
      ['service-review-created', 'service-review-updated', 'service-review-updated', 'service-review-deleted'],
    );

    assert.equal((await call(sim.url, 'PUT', '/__sandbox/webhook-url', { json: { url: null } })).status, 200);
    await call(sim.url, 'POST', '/__sandbox/reviews', { json: { stars: 5, title: 'Silent', text: 'x' } });
    await sim.idle();
    assert.equal(receiver.received.length, 4);
  });

  test('refuses bad input with 400 and unknown reviews with 404', async () => {
    assert.equal((await call(sim.url, 'POST', '/__sandbox/reviews', { json: { stars: 9, title: 'x', text: 'y' } })).status, 400);
    assert.equal((await call(sim.url, 'POST', '/__sandbox/reviews', { json: { stars: 5, title: 'x', text: 'y', email: 'typo' } })).status, 400);
    assert.equal((await call(sim.url, 'POST', '/__sandbox/business-units', { json: { domain: 'x.test' } })).status, 400);
    assert.equal((await call(sim.url, 'PATCH', '/__sandbox/reviews/nope', { json: { title: 'x' } })).status, 404);
    assert.equal((await call(sim.url, 'POST', '/__sandbox/reviews/nope/reply', { json: { text: 'x' } })).status, 404);
    assert.equal((await call(sim.url, 'DELETE', '/__sandbox/reviews/nope')).status, 404);
    assert.equal((await call(sim.url, 'POST', '/__sandbox/faults', { json: { fault: { kind: 'nope' } } })).status, 400);
  });

  test('records calls, injects and clears faults, expires tokens', async () => {
    assert.equal((await call(sim.url, 'DELETE', '/__sandbox/calls')).status, 200);
    const fault = await call(sim.url, 'POST', '/__sandbox/faults', { json: { fault: { kind: 'status', status: 500 }, path: '^/v1/business-units/' } });
    assert.equal(fault.status, 201, fault.text);
    assert.equal((await call(sim.url, 'GET', `/v1/business-units/${OWN_BU}?apikey=${KEY}`)).status, 500);
    assert.deepEqual(await call(sim.url, 'DELETE', '/__sandbox/faults').then((a) => a.json), { cleared: true });
    assert.equal((await call(sim.url, 'GET', `/v1/business-units/${OWN_BU}`, { headers: { apikey: KEY } })).status, 200);

    const { access } = await passwordGrant(sim.url);
    assert.equal((await call(sim.url, 'POST', '/__sandbox/expire-access-tokens')).status, 200);
    const expired = await call(sim.url, 'GET', '/v1/private/reviews/any', { headers: { authorization: `Bearer ${access}` } });
    assert.equal(expired.status, 401);

    const calls = arr(obj((await call(sim.url, 'GET', '/__sandbox/calls')).json).calls).map((c) => obj(c));
    assert.deepEqual(
      calls.map((c) => [c.method, c.path, c.status, c.auth]),
      [
        ['GET', `/v1/business-units/${OWN_BU}`, 500, 'apikey'],
        ['GET', `/v1/business-units/${OWN_BU}`, 200, 'apikey'],
        ['POST', '/v1/oauth/oauth-business-users-for-applications/accesstoken', 200, 'basic'],
        ['GET', '/v1/private/reviews/any', 401, 'bearer'],
      ],
    );
    assert.deepEqual(calls[0]?.query, { apikey: KEY });
    assert.equal(typeof calls[0]?.at, 'number');
  });
});
