/**
 * The GHL simulator's webhooks, received by a real HTTP server on loopback: one event per change (API
 * writes included), payload shapes as in GHL's examples, both signatures verified with node:crypto,
 * per-contact order, retries with the same webhookId, and delivery that never blocks the API.
 */
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createVerify, verify } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { request, type Dispatcher } from 'undici';
import { startGhlSimulator, type GhlSimulator } from '../../../src/sandbox/ghl/simulator.js';
import { createTestSigner, loadGhlFixture } from '../../helpers/ghl-signing.js';

const LOC = 'loc_sandbox_1';
const TOKEN = 'pit-sandbox-1';

interface Received {
  headers: IncomingHttpHeaders;
  raw: Buffer;
  payload: Record<string, unknown>;
}

interface Receiver {
  url: string;
  received: Received[];
  /** Chooses the status for each request; default 200. */
  respond: (payload: Record<string, unknown>, index: number) => number;
  /** While set, answers wait for it. */
  gate: Promise<void> | undefined;
  close(): Promise<void>;
}

async function startReceiver(): Promise<Receiver> {
  const receiver: Receiver = {
    url: '',
    received: [],
    respond: () => 200,
    gate: undefined,
    close: async () => {},
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const parsed: unknown = JSON.parse(raw.toString('utf8'));
      assert.ok(parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed));
      const payload = { ...parsed };
      const index = receiver.received.push({ headers: req.headers, raw, payload }) - 1;
      const answer = () => {
        res.statusCode = receiver.respond(payload, index);
        res.end();
      };
      if (receiver.gate) void receiver.gate.then(answer);
      else answer();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  assert.ok(address !== null && typeof address === 'object');
  receiver.url = `http://127.0.0.1:${address.port}/webhooks/ghl`;
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

async function api(sim: GhlSimulator, method: Dispatcher.HttpMethod, path: string, body?: unknown): Promise<Record<string, unknown>> {
  const response = await request(`${sim.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${TOKEN}`,
      version: '2021-07-28',
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const parsed: unknown = await response.body.json();
  assert.ok(response.statusCode < 300, `${method} ${path} → ${response.statusCode} ${JSON.stringify(parsed)}`);
  assert.ok(parsed !== null && typeof parsed === 'object');
  return { ...parsed };
}

function idOf(value: unknown): string {
  assert.ok(value !== null && typeof value === 'object' && 'id' in value && typeof value.id === 'string');
  return value.id;
}

describe('GHL simulator webhooks', () => {
  let receiver: Receiver;
  let sim: GhlSimulator;

  before(async () => {
    receiver = await startReceiver();
    sim = await startGhlSimulator({ webhookUrl: receiver.url, webhookRetry: { attempts: 3, baseDelayMs: 20 }, appId: 'app_test' });
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

  const typesFor = (contactId: string): unknown[] =>
    receiver.received
      .filter((r) => r.payload.id === contactId || r.payload.contactId === contactId)
      .map((r) => r.payload.type);

  test('an API-created contact arrives as ContactCreate, flat, shaped like the example, with both signatures valid', async () => {
    const field = await api(sim, 'POST', `/locations/${LOC}/customFields`, { name: 'Company Size', dataType: 'TEXT' });
    const fieldId = idOf(field.customField);
    const created = await api(sim, 'POST', '/contacts/', {
      locationId: LOC,
      firstName: 'John',
      lastName: 'Deo',
      email: 'JohnDeo@example.com',
      phone: '+919509597501',
      address1: '3535 1st St N',
      city: 'Dolomite',
      state: 'AL',
      postalCode: '452001',
      country: 'DE',
      companyName: 'Loram ipsum',
      source: 'xyz form',
      dateOfBirth: '2000-01-05',
      dnd: true,
      tags: ['vip'],
      website: 'https://www.example.com/',
      assignedTo: 'user_1',
      customFields: [{ id: fieldId, field_value: 'XYZ Corp' }],
    });
    const contactId = idOf(created.contact);
    await sim.idle();

    assert.equal(receiver.received.length, 1);
    const [delivery] = receiver.received;
    assert.ok(delivery);
    const { payload, headers, raw } = delivery;
    assert.equal(payload.type, 'ContactCreate');
    assert.equal(payload.id, contactId);
    assert.equal(payload.locationId, LOC);
    assert.deepEqual(payload.customFields, [{ id: fieldId, value: 'XYZ Corp' }]);
    assert.equal(payload.dateOfBirth, '2000-01-05T00:00:00.000Z');
    assert.equal(payload.appId, 'app_test');
    assert.equal(typeof payload.versionId, 'string');
    assert.match(String(payload.webhookId), /^[0-9a-f-]{36}$/);
    assert.ok(Math.abs(Date.parse(String(payload.timestamp)) - Date.now()) < 5_000);
    const expectedKeys = [...Object.keys(loadGhlFixture('ContactCreate')), 'appId', 'versionId', 'timestamp', 'webhookId'];
    assert.deepEqual(Object.keys(payload).sort(), expectedKeys.sort());

    assert.equal(headers['content-type'], 'application/json');
    const ed = headers['x-ghl-signature'];
    const rsa = headers['x-wh-signature'];
    assert.ok(typeof ed === 'string' && typeof rsa === 'string');
    assert.equal(verify(null, raw, sim.publicKeys.ed25519, Buffer.from(ed, 'base64')), true);
    assert.equal(createVerify('SHA256').update(raw).verify(sim.publicKeys.rsa, rsa, 'base64'), true);
    assert.equal(Buffer.from(rsa, 'base64').length, 512, 'RSA-4096 signatures are 512 bytes');
    const tampered = Buffer.from(raw.toString('utf8').replace('John', 'Jane'));
    assert.equal(verify(null, tampered, sim.publicKeys.ed25519, Buffer.from(ed, 'base64')), false);

    assert.deepEqual(sim.deliveries.map((d) => [d.type, d.status, d.attempts, d.body]), [['ContactCreate', 200, 1, raw.toString('utf8')]]);
  });

  test('every change through the API emits its event, in order per contact; silent edits emit nothing', async () => {
    const contactId = idOf((await api(sim, 'POST', '/contacts/', { locationId: LOC, email: 'flow@example.com' })).contact);
    await api(sim, 'PUT', `/contacts/${contactId}`, { firstName: 'Flo' });
    await api(sim, 'PUT', `/contacts/${contactId}`, {});
    await api(sim, 'POST', `/contacts/${contactId}/tags`, { tags: ['reviewed'] });
    await api(sim, 'POST', `/contacts/${contactId}/tags`, { tags: ['reviewed'] });
    await api(sim, 'DELETE', `/contacts/${contactId}/tags`, { tags: ['reviewed'] });
    const noteId = idOf((await api(sim, 'POST', `/contacts/${contactId}/notes`, { body: 'hello' })).note);
    await api(sim, 'PUT', `/contacts/${contactId}/notes/${noteId}`, { body: 'hello again' });
    await api(sim, 'DELETE', `/contacts/${contactId}/notes/${noteId}`);
    const taskPath = `/contacts/${contactId}/tasks`;
    const taskId = idOf((await api(sim, 'POST', taskPath, { title: 'Call', dueDate: '2026-12-01T10:00:00Z', completed: false })).task);
    await api(sim, 'PUT', `${taskPath}/${taskId}`, { title: 'Call back' });
    await api(sim, 'PUT', `${taskPath}/${taskId}/completed`, { completed: true });
    await api(sim, 'PUT', `${taskPath}/${taskId}/completed`, { completed: true });
    await api(sim, 'DELETE', `${taskPath}/${taskId}`);
    await api(sim, 'DELETE', `/contacts/${contactId}`);
    await sim.idle();

    assert.deepEqual(typesFor(contactId), [
      'ContactCreate',
      'ContactUpdate',
      'ContactUpdate',
      'ContactTagUpdate',
      'ContactTagUpdate',
      'NoteCreate',
      'NoteUpdate',
      'NoteDelete',
      'TaskCreate',
      'TaskComplete',
      'TaskDelete',
      'ContactDelete',
    ]);
    const note = receiver.received.find((r) => r.payload.type === 'NoteUpdate');
    assert.ok(note);
    assert.deepEqual(
      Object.keys(note.payload).sort(),
      [...Object.keys(loadGhlFixture('NoteUpdate')), 'appId', 'versionId', 'timestamp', 'webhookId'].sort(),
    );
    assert.equal(note.payload.body, 'hello again');
    const complete = receiver.received.find((r) => r.payload.type === 'TaskComplete');
    assert.equal(complete?.payload.title, 'Call back');
    assert.equal(complete?.payload.contactId, contactId);
    const ids = receiver.received.map((r) => r.payload.webhookId);
    assert.equal(new Set(ids).size, ids.length, 'every event has its own webhookId');
  });

  test('user actions emit events too', async () => {
    const contact = sim.userCreateContact(LOC, { firstName: 'Uma', email: 'uma@example.com' });
    sim.userUpdateContact(LOC, contact.id, { tags: ['from-ui'] });
    const task = await api(sim, 'POST', `/contacts/${contact.id}/tasks`, { title: 'T', dueDate: '2026-12-01T10:00:00Z', completed: false });
    const taskId = idOf(task.task);
    sim.userCompleteTask(LOC, contact.id, taskId);
    sim.userDeleteTask(LOC, contact.id, taskId);
    sim.userDeleteContact(LOC, contact.id);
    assert.throws(() => sim.userDeleteContact(LOC, contact.id), /Contact not found/);
    await sim.idle();
    assert.deepEqual(typesFor(contact.id), [
      'ContactCreate',
      'ContactUpdate',
      'ContactTagUpdate',
      'TaskCreate',
      'TaskComplete',
      'TaskDelete',
      'ContactDelete',
    ]);
  });

  test('a delivery answered 429 is retried with the same webhookId and bytes', async () => {
    receiver.respond = (_payload, index) => (index === 0 ? 429 : 200);
    const contact = sim.userCreateContact(LOC, { email: 'retry@example.com' });
    await sim.idle();
    assert.equal(receiver.received.length, 2);
    const [first, second] = receiver.received;
    assert.ok(first && second);
    assert.equal(first.payload.webhookId, second.payload.webhookId);
    assert.deepEqual(first.raw, second.raw);
    assert.equal(first.payload.id, contact.id);
    const delivery = sim.deliveries.find((d) => d.webhookId === first.payload.webhookId);
    assert.deepEqual({ status: delivery?.status, attempts: delivery?.attempts }, { status: 200, attempts: 2 });
  });

  test('a slow receiver never blocks the API, and idle() waits for it', async () => {
    let release = () => {};
    receiver.gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const contactId = idOf((await api(sim, 'POST', '/contacts/', { locationId: LOC, email: 'slow@example.com' })).contact);
    const updated = await api(sim, 'PUT', `/contacts/${contactId}`, { city: 'Oslo' });
    assert.equal(updated.succeded, true);
    const pending = sim.deliveries.filter((d) => d.status === 0);
    assert.ok(pending.length >= 1, 'deliveries still pending while the API already answered');
    let idle = false;
    const waiting = sim.idle().then(() => {
      idle = true;
    });
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(idle, false);
    release();
    await waiting;
    assert.deepEqual(typesFor(contactId), ['ContactCreate', 'ContactUpdate']);
  });

  test('without a webhook URL nothing is sent', async () => {
    sim.setWebhookUrl(undefined);
    const before = sim.deliveries.length;
    sim.userCreateContact(LOC, { email: 'quiet@example.com' });
    await sim.idle();
    assert.equal(sim.deliveries.length, before);
    assert.equal(receiver.received.length, 0);
    sim.setWebhookUrl(receiver.url);
  });
});

describe('GHL simulator webhook options', () => {
  test('given signing keys, signature modes and transport failures', async () => {
    const signer = createTestSigner();
    const receiver = await startReceiver();
    const sim = await startGhlSimulator({
      webhookUrl: receiver.url,
      webhookSignatures: 'ed25519',
      webhookRetry: { attempts: 3, baseDelayMs: 5 },
      signingKeys: { ed25519PrivateKeyPem: signer.ed25519PrivateKeyPem, rsaPrivateKeyPem: signer.rsaPrivateKeyPem },
    });
    try {
      assert.equal(sim.publicKeys.ed25519, signer.ed25519PublicKeyPem);
      assert.equal(sim.publicKeys.rsa, signer.rsaPublicKeyPem);
      sim.userCreateContact(LOC, { email: 'ed@example.com' });
      await sim.idle();
      const [only] = receiver.received;
      assert.ok(only);
      assert.equal(only.headers['x-wh-signature'], undefined);
      const signature = only.headers['x-ghl-signature'];
      assert.ok(typeof signature === 'string');
      assert.equal(verify(null, only.raw, signer.ed25519PublicKeyPem, Buffer.from(signature, 'base64')), true);

      // A receiver that is gone: every attempt fails at the transport level.
      await receiver.close();
      sim.userCreateContact(LOC, { email: 'lost@example.com' });
      await sim.idle();
      const lost = sim.deliveries.at(-1);
      assert.deepEqual({ status: lost?.status, attempts: lost?.attempts }, { status: 'error', attempts: 3 });
    } finally {
      await sim.close();
      await receiver.close();
    }
  });
});
