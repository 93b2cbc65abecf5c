/**
 * The Opinion Stage client against the Opinion Stage simulator on loopback: every method with paging,
 * the refusals (401 wrong key, 404 unknown item, 429, a cut-short body), and the domain functions on
 * what the simulator returns and what it sends as a webhook. Asserts what the simulator saw.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { once } from 'node:events';
import { createOpinionStageClient, type OpinionStageClient } from '../../../src/clients/opinionstage/opinionstage-client.js';
import { UpstreamError } from '../../../src/clients/http/upstream-error.js';
import { answerLines, findRespondent } from '../../../src/domain/opinionstage-answers.js';
import { parseOsWebhookBody } from '../../../src/webhooks/opinionstage-response.js';
import { startOpinionStageSimulator, type OpinionStageSimulator } from '../../../src/sandbox/opinionstage/simulator.js';

const API_KEY = 'os-client-it-key-0123456789';
const JSON_API = 'application/vnd.api+json';

let sim: OpinionStageSimulator;
let client: OpinionStageClient;

async function upstreamError(promise: Promise<unknown>): Promise<UpstreamError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof UpstreamError, `expected UpstreamError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected a rejection');
}

function callsTo(pathPart: string) {
  return sim.calls.filter((call) => call.method === 'GET' && call.path.includes(pathPart));
}

before(async () => {
  sim = await startOpinionStageSimulator({ apiKey: API_KEY });
  client = createOpinionStageClient({ baseUrl: sim.apiBaseUrl, apiKey: API_KEY, timeoutMs: 3_000 });
});

after(async () => {
  await client.close();
  await sim.close();
});

describe('reads', () => {
  test('listItems and listAllItems: one page, then every page (more items than a page of 100)', async () => {
    const before = (await client.listAllItems()).length;
    const seeded = Array.from({ length: 120 }, (_, i) => sim.addItem({ id: `bulk-${i}`, title: `Bulk ${i}`, type: 'survey', questions: [] }));

    const first = await client.listItems({ size: 10 });
    assert.equal(first.items.length, 10);
    assert.equal(first.nextPage, 2);
    const last = callsTo('/api/v2/items').at(-1);
    assert.equal(last?.auth, 'basic');
    assert.equal(last?.accept, JSON_API);
    assert.deepEqual(last?.query, { 'page[number]': '1', 'page[size]': '10' });

    sim.calls.length = 0;
    const all = await client.listAllItems();
    assert.equal(all.length, before + 120);
    const ids = new Set(all.map((item) => item.id));
    for (const item of seeded) assert.ok(ids.has(item.id), `item ${item.id} listed`);
    const bulk = all.find((item) => item.id === 'bulk-7');
    assert.equal(bulk?.attributes?.title, 'Bulk 7');
    assert.match(bulk?.links?.landing ?? '', /^https?:\/\//);
    assert.deepEqual(
      callsTo('/api/v2/items').map((call) => call.query['page[number]']),
      ['1', '2'],
      'followed links.next once with pages of 100',
    );
  });

  test('listResponses: newest first, paged; listQuestions: every page', async () => {
    const questions = Array.from({ length: 105 }, (_, i) => ({ id: `q${i}`, title: `Question ${i}`, kind: 'text' }));
    const item = sim.addItem({ title: 'Long survey', type: 'survey', questions });
    const start = Date.parse('2026-03-01T00:00:00Z');
    for (let i = 0; i < 60; i += 1) {
      sim.addResponse(item.id, { id: `resp-${i}`, answers: { q0: `answer ${i}` }, createdAt: new Date(start + i * 60_000).toISOString(), sendWebhook: false });
    }

    const page1 = await client.listResponses(item.id);
    assert.equal(page1.responses.length, 50);
    assert.equal(page1.nextPage, 2);
    assert.equal(page1.responses[0]?.id, 'resp-59', 'newest first');
    const created = page1.responses.map((r) => Date.parse(r.attributes?.timestamps?.created ?? ''));
    assert.deepEqual(
      created,
      [...created].sort((a, b) => b - a),
    );
    assert.deepEqual(page1.responses[0]?.attributes?.answers, [{ question: 'q0', selection: ['answer 59'] }]);

    const page2 = await client.listResponses(item.id, { number: page1.nextPage });
    assert.equal(page2.responses.length, 10);
    assert.equal(page2.nextPage, undefined);
    assert.equal(page2.responses.at(-1)?.id, 'resp-0');

    const listed = await client.listQuestions(item.id);
    assert.deepEqual(
      listed.map((q) => q.id),
      questions.map((q) => q.id),
    );
    assert.equal(listed[104]?.attributes?.title, 'Question 104');
    assert.equal(listed[0]?.attributes?.lead, false);
  });

  test('a response with its questions gives the respondent and the note lines', async () => {
    const item = sim.addItem({
      title: 'Feedback form',
      type: 'form',
      questions: [
        { id: 'score', title: 'How was it?', kind: 'rating' },
        { id: 'mail', title: 'Your email', kind: 'email', lead: true },
        { id: 'who', title: 'Your name', kind: 'name', lead: true },
      ],
    });
    sim.addResponse(item.id, { answers: { 'How was it?': '4', mail: 'Ada@Example.com', who: 'Ada Lovelace' }, query: { contact_id: 'cPersonal1' }, sendWebhook: false });
    const { responses } = await client.listResponses(item.id);
    const questions = await client.listQuestions(item.id);
    assert.equal(responses.length, 1);
    const response = responses[0];
    assert.ok(response);
    assert.deepEqual(findRespondent(response, questions), {
      contactId: 'cPersonal1',
      email: 'ada@example.com',
      name: 'Ada Lovelace',
      firstName: 'Ada',
      lastName: 'Lovelace',
    });
    assert.deepEqual(answerLines(response, questions), [
      { question: 'How was it?', answer: '4' },
      { question: 'Your email', answer: 'Ada@Example.com' },
      { question: 'Your name', answer: 'Ada Lovelace' },
    ]);
  });
});

describe('refusals', () => {
  test('a wrong key: 401 UpstreamError for every method, the key never in it', async () => {
    const wrong = createOpinionStageClient({ baseUrl: sim.apiBaseUrl, apiKey: 'not-the-key', timeoutMs: 3_000 });
    try {
      for (const call of [() => wrong.listItems(), () => wrong.listAllItems(), () => wrong.listResponses('x'), () => wrong.listQuestions('x')]) {
        const error = await upstreamError(call());
        assert.equal(error.system, 'opinionstage');
        assert.equal(error.code, 'UPSTREAM_HTTP');
        assert.equal(error.status, 401);
        assert.ok(!JSON.stringify(error.toJSON()).includes('not-the-key'));
      }
    } finally {
      await wrong.close();
    }
  });

  test('an unknown item: 404 on responses and questions', async () => {
    const responses = await upstreamError(client.listResponses('no-such-item'));
    assert.equal(responses.status, 404);
    assert.equal(responses.path, '/items/no-such-item/responses');
    const questions = await upstreamError(client.listQuestions('no-such-item'));
    assert.equal(questions.status, 404);
  });

  test('429 carries the Retry-After the simulator sent', async () => {
    const remove = sim.injectFault({ fault: { kind: 'rate-limit', retryAfterSeconds: 12 }, path: /\/items$/, times: 1 });
    try {
      const error = await upstreamError(client.listItems());
      assert.equal(error.status, 429);
      assert.equal(error.retryAfterMs, 12_000);
    } finally {
      remove();
    }
  });

  test('a body cut short is UPSTREAM_BAD_RESPONSE', async () => {
    const remove = sim.injectFault({ fault: { kind: 'malformed-body' }, path: /\/items$/, times: 1 });
    try {
      const error = await upstreamError(client.listItems());
      assert.equal(error.code, 'UPSTREAM_BAD_RESPONSE');
      assert.equal(error.status, 200);
    } finally {
      remove();
    }
  });
});

describe('webhook bodies the simulator sends', () => {
  let receiver: Server;
  let receiverUrl = '';
  const bodies: unknown[] = [];

  before(async () => {
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        bodies.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown);
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"accepted"}');
      });
    });
    receiver.listen(0, '127.0.0.1');
    await once(receiver, 'listening');
    const address = receiver.address();
    assert.ok(address !== null && typeof address === 'object');
    receiverUrl = `http://127.0.0.1:${address.port}/webhooks/opinionstage`;
    sim.setWebhookUrl(receiverUrl);
  });

  after(async () => {
    sim.setWebhookUrl(undefined);
    receiver.close();
    await once(receiver, 'close');
  });

  test('the wrapped body parses; item id, flat fields and respondent come out', async () => {
    const item = sim.addItem({
      title: 'Lead quiz',
      type: 'quiz',
      questions: [
        { id: 'lq1', title: 'Pick one', kind: 'single_choice' },
        { id: 'lq2', title: 'Email', kind: 'email', lead: true },
        { id: 'lq3', title: 'Phone', kind: 'phone', lead: true },
      ],
    });
    const stored = sim.addResponse(item.id, { answers: { lq1: 'B', lq2: 'Grace@Example.org', lq3: '+1 555 010 9999' }, query: { contact_id: 'cHook1' } });
    await sim.idle();
    const body = bodies.at(-1);
    assert.ok(body !== undefined, 'the receiver got the webhook');

    const parsed = parseOsWebhookBody(body);
    assert.equal(parsed.kind, 'response', JSON.stringify(parsed));
    if (parsed.kind !== 'response') return;
    assert.equal(parsed.response.id, stored.id);
    assert.equal(parsed.itemId, item.id);
    assert.equal(parsed.flat.contactId, 'cHook1');
    assert.equal(parsed.flat.email, 'Grace@Example.org');
    const questions = await client.listQuestions(item.id);
    assert.deepEqual(findRespondent(parsed.response, questions, parsed.flat), { contactId: 'cHook1', email: 'grace@example.org', phone: '+1 555 010 9999' });
    // Without the questions list, the flat fields still identify the respondent.
    assert.deepEqual(findRespondent(parsed.response, [], parsed.flat), { contactId: 'cHook1', email: 'grace@example.org', phone: '+1 555 010 9999' });
  });

  test('the bare body (a second simulator with webhookShape bare) parses the same way', async () => {
    const bareSim = await startOpinionStageSimulator({ apiKey: API_KEY, webhookShape: 'bare', webhookUrl: receiverUrl });
    try {
      const item = bareSim.addItem({ id: 'bare-item', title: 'Bare', type: 'survey', questions: [{ id: 'bn', title: 'Full name', kind: 'name', lead: true }] });
      const stored = bareSim.addResponse(item.id, { answers: { bn: 'Alan Mathison Turing' } });
      await bareSim.idle();
      const body = bodies.at(-1);
      assert.ok(typeof body === 'object' && body !== null && !('data' in body), 'the body is bare');
      const parsed = parseOsWebhookBody(body);
      assert.equal(parsed.kind, 'response', JSON.stringify(parsed));
      if (parsed.kind !== 'response') return;
      assert.equal(parsed.response.id, stored.id);
      assert.equal(parsed.itemId, 'bare-item');
      assert.deepEqual(findRespondent(parsed.response, [], parsed.flat), { name: 'Alan Mathison Turing', firstName: 'Alan', lastName: 'Mathison Turing' });
    } finally {
      await bareSim.close();
    }
  });
});
