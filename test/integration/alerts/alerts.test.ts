/**
 * Alerts end to end against a real redis-server, a BullMQ worker running the alert processor and a
 * local HTTP receiver: the first failure of a cause alerts at once (signed), later ones within the
 * window become one summary with their count, other causes alert on their own, concurrent raisers
 * on separate connections yield one alert, a failing receiver is retried, the webhook URL never
 * shows in errors, and without a URL alerts are only logged.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, afterEach, before, describe, test } from 'node:test';
import { Queue, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { pino, type Logger } from 'pino';
import { z } from 'zod';
import {
  AlertPayloadSchema,
  AlertWebhookConfigError,
  createAlertClient,
  type AlertClient,
  type AlertPayload,
} from '../../../src/clients/alert-webhook/alert-client.js';
import { verifyHmacSignature } from '../../../src/clients/http/hmac-signature.js';
import { UpstreamError } from '../../../src/clients/http/upstream-error.js';
import { createAlerts, type AlertInput, type Alerts } from '../../../src/queue/alerts.js';
import { QUEUE_NAMES } from '../../../src/queue/catalog.js';
import { createRecentAlerts } from '../../../src/state/alert-throttle.js';
import { createAlertProcessor } from '../../../src/workers/alert-processor.js';
import { startRedisServer, type RedisServerHandle } from '../../helpers/redis-server.js';
import { waitFor } from '../../helpers/wait.js';

const WINDOW_MS = 500;
/** For tests whose raises must all fall inside one window, however slow the machine. */
const LONG_WINDOW_MS = 600_000;
const SECRET = 'alert-hmac-secret-for-tests';
/** Incoming-webhook URLs carry their credential in the path (Slack: /services/T/B/<secret>). */
const URL_SECRET = 'XyZsecretPathSegment0042';

interface Received {
  at: number;
  headers: IncomingHttpHeaders;
  body: string;
  payload: AlertPayload;
  answered: number;
}

/** A webhook receiver on loopback that records every request and can fail the next ones on demand. */
class Receiver {
  readonly requests: Received[] = [];
  private failures: { status: number; when: (payload: AlertPayload) => boolean; left: number } | undefined;
  private server: Server | undefined;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const payload = AlertPayloadSchema.parse(JSON.parse(body));
        const fail = this.failures && this.failures.left > 0 && this.failures.when(payload) ? this.failures : undefined;
        if (fail) fail.left -= 1;
        const answered = fail ? fail.status : 200;
        this.requests.push({ at: Date.now(), headers: req.headers, body, payload, answered });
        res.writeHead(answered, { 'content-type': 'text/plain' });
        res.end(fail ? 'unavailable' : 'ok');
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    const address = this.server.address();
    if (address === null || typeof address === 'string') throw new Error('receiver has no port');
    this.url = `http://127.0.0.1:${address.port}/services/T000/B000/${URL_SECRET}`;
  }

  failNext(times: number, status: number, when: (payload: AlertPayload) => boolean = () => true): void {
    this.failures = { status, when, left: times };
  }

  delivered(): Received[] {
    return this.requests.filter((request) => request.answered === 200);
  }

  reset(): void {
    this.requests.length = 0;
    this.failures = undefined;
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
  }
}

function captureLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const logger = pino({ level: 'info' }, new Writable({ write: (chunk: Buffer, _encoding, done) => void (lines.push(chunk.toString()), done()) }));
  return { logger, lines };
}

const failure = (overrides: Partial<AlertInput> = {}): AlertInput => ({
  kind: 'job-failed',
  queue: 'contact-sync',
  system: 'ghl',
  status: 404,
  errorCode: 'UPSTREAM_HTTP',
  errorClass: 'UpstreamError',
  event: 'ContactUpdate',
  locationId: 'locAlerts01',
  contactId: 'contact01',
  message: 'ghl GET /contacts/contact01 failed: status 404',
  ...overrides,
});

describe('alerts', () => {
  let server: RedisServerHandle;
  const receiver = new Receiver();
  /** Everything a test opened, closed after it in reverse order. */
  let opened: (() => Promise<unknown>)[] = [];

  before(async () => {
    server = await startRedisServer();
    await receiver.start();
  });

  afterEach(async () => {
    for (const close of opened.reverse()) await close();
    opened = [];
    receiver.reset();
  });

  after(async () => {
    await receiver.close();
    await server.close();
  });

  function connect(role: 'worker' | 'client'): Redis {
    const redis = new Redis(server.url, role === 'worker' ? { maxRetriesPerRequest: null } : { maxRetriesPerRequest: 1 });
    redis.on('error', () => undefined);
    opened.push(() => redis.quit());
    return redis;
  }

  interface Rig {
    prefix: string;
    queue: Queue;
    alerts: Alerts;
    worker: Worker;
    lines: string[];
    client: AlertClient | undefined;
    /** The alert jobs that finished (completed or failed for good), by id. */
    finished: Map<string, Job>;
  }

  /** A queue, `createAlerts` and a worker running the alert processor, all on one fresh prefix. */
  async function rig(options: { url?: string | undefined; secret?: string; windowMs?: number } = { url: receiver.url, secret: SECRET }): Promise<Rig> {
    const windowMs = options.windowMs ?? WINDOW_MS;
    const prefix = `t${randomBytes(4).toString('hex')}`;
    const { logger, lines } = captureLogger();
    const queue = new Queue(QUEUE_NAMES.alerts, { connection: connect('client'), prefix });
    queue.on('error', () => undefined);
    opened.push(() => queue.close());
    const client = options.url ? createAlertClient({ url: options.url, secret: options.secret, timeoutMs: 2_000 }) : undefined;
    if (client) opened.push(() => client.close());
    const stateRedis = connect('client');
    const processor = createAlertProcessor({ client, logger, redis: stateRedis, prefix });
    const worker = new Worker(QUEUE_NAMES.alerts, processor, {
      connection: connect('worker'),
      prefix,
      concurrency: 4,
      // The catalog's backoff starts at 5 s; a test waits 50 ms between attempts.
      settings: { backoffStrategy: () => 50 },
    });
    worker.on('error', () => undefined);
    const finished = new Map<string, Job>();
    worker.on('completed', (job) => finished.set(String(job.id), job));
    worker.on('failed', (job) => {
      if (job && job.attemptsMade >= (job.opts.attempts ?? 1)) finished.set(String(job.id), job);
    });
    opened.push(() => worker.close());
    await worker.waitUntilReady();
    const alerts = createAlerts({ queue, redis: stateRedis, prefix, logger, windowMs });
    return { prefix, queue, alerts, worker, lines, client, finished };
  }

  /**
   * Runs the window's summary now instead of at the window's end: tests whose follow-ups must fall
   * inside one window use a window no loaded machine can outlast, then release its summary here.
   */
  async function releaseSummary(queue: Queue, windowMs: number): Promise<void> {
    const [summary] = await waitFor(async () => {
      const delayed = await queue.getDelayed();
      return delayed.length > 0 ? delayed : undefined;
    }, 5_000, 'the summary to be scheduled');
    assert.ok(summary);
    assert.match(summary.name, /-summary$/);
    const delay = summary.opts.delay ?? 0;
    assert.ok(delay > 0 && delay <= windowMs, `the summary waits for the end of the window (delay ${delay})`);
    await summary.promote();
  }

  /** Waits until every alert job of the queue has finished (nothing waiting, delayed or active). */
  async function drained(queue: Queue, timeoutMs = 5_000): Promise<void> {
    await waitFor(
      async () => {
        const counts = await queue.getJobCounts('waiting', 'delayed', 'active', 'prioritized', 'paused');
        return Object.values(counts).every((count) => count === 0) ? true : undefined;
      },
      timeoutMs,
      'the alerts queue to drain',
    );
  }

  test('the first failure of a cause alerts at once, signed, with ids and no personal data', async () => {
    const { alerts, queue, finished } = await rig();
    await alerts.raise(failure({ message: 'lookup for jane@example.com failed with Bearer abcdef123456' }));
    const [first] = await waitFor(() => (receiver.delivered().length === 1 ? receiver.delivered() : undefined), 3_000, 'the first alert');
    assert.ok(first);
    const job = await waitFor(() => [...finished.values()][0], 3_000, 'the alert job to finish');
    assert.ok(!job.opts.delay, 'queued to run at once, not at the end of the window');
    assert.ok(verifyHmacSignature(SECRET, first.body, String(first.headers['x-bridge-signature'])), 'valid x-bridge-signature');
    assert.match(String(first.headers['x-bridge-signature']), /^sha256=[0-9a-f]{64}$/);
    assert.equal(first.headers['content-type'], 'application/json');
    assert.equal(first.payload.summary, false);
    assert.equal(first.payload.count, 1);
    assert.equal(first.payload.kind, 'job-failed');
    assert.equal(first.payload.queue, 'contact-sync');
    assert.equal(first.payload.system, 'ghl');
    assert.equal(first.payload.status, 404);
    assert.equal(first.payload.locationId, 'locAlerts01');
    assert.equal(first.payload.contactId, 'contact01');
    assert.equal(first.payload.firstSeen, first.payload.lastSeen);
    assert.match(first.payload.text, /^\[ghl-bridge\] contact-sync failed: ghl 404/);
    assert.ok(!first.body.includes('jane@example.com'), 'no email address in the body');
    assert.ok(!first.body.includes('abcdef123456'), 'no token in the body');
    assert.ok(!first.body.includes(SECRET), 'no secret in the body');

    // No follow-ups: nothing is scheduled, and once the window is over the cause alerts afresh.
    await drained(queue);
    assert.equal((await queue.getDelayed()).length, 0, 'no summary scheduled for a window without follow-ups');
    await sleep(WINDOW_MS + 50);
    await alerts.raise(failure());
    await waitFor(() => (receiver.delivered().length === 2 ? true : undefined), 3_000, 'the alert of the next window');
    assert.deepEqual(receiver.delivered().map((request) => request.payload.summary), [false, false]);
  });

  test('later failures within the window become one summary with their count', async () => {
    const { alerts, queue, prefix } = await rig({ url: receiver.url, secret: SECRET, windowMs: LONG_WINDOW_MS });
    await alerts.raise(failure());
    await waitFor(() => (receiver.delivered().length === 1 ? true : undefined), 3_000, 'the first alert');
    for (let index = 2; index <= 6; index += 1) await alerts.raise(failure({ contactId: `contact0${index}`, message: `failure ${index}` }));
    assert.equal(receiver.delivered().length, 1, 'no immediate alert for follow-ups');

    await releaseSummary(queue, LONG_WINDOW_MS);
    const summary = await waitFor(() => receiver.delivered().find((request) => request.payload.summary), 5_000, 'the summary');
    assert.equal(summary.payload.count, 5);
    assert.equal(summary.payload.contactId, 'contact06', 'the latest follow-up is shown');
    assert.match(summary.payload.text, /^\[ghl-bridge\] contact-sync failed: ghl 404 \(5 more times since \d\d:\d\d UTC/);
    assert.ok(Date.parse(summary.payload.firstSeen) <= Date.parse(summary.payload.lastSeen));
    assert.ok(verifyHmacSignature(SECRET, summary.body, String(summary.headers['x-bridge-signature'])));

    await drained(queue);
    assert.equal(receiver.delivered().length, 2, 'exactly one immediate alert and one summary');
    // The delivered window is forgotten.
    const checker = connect('client');
    const leftovers = await checker.keys(`${prefix}:alert-throttle:*`);
    for (const key of leftovers) {
      if (key.endsWith(':counts')) assert.equal(await checker.hlen(key), 0, 'the delivered window is cleared');
    }
    const recent = await createRecentAlerts(checker, prefix).list();
    assert.deepEqual(recent.map((entry) => [entry.via, entry.alert.summary, entry.alert.count]), [['webhook', true, 5], ['webhook', false, 1]]);
  });

  test('a different cause alerts on its own', async () => {
    const { alerts, queue } = await rig();
    await alerts.raise(failure());
    await alerts.raise(failure({ status: 422 }));
    await alerts.raise(failure({ queue: 'ghl-webhooks' }));
    await alerts.raise({ kind: 'oauth-reconnect', system: 'ghl', errorCode: 'invalid_grant', locationId: 'locA', message: 'refresh token rejected' });
    await alerts.raise({ kind: 'oauth-reconnect', system: 'ghl', errorCode: 'invalid_grant', locationId: 'locB', message: 'refresh token rejected' });
    await waitFor(() => (receiver.delivered().length === 5 ? true : undefined), 3_000, 'five alerts');
    await drained(queue);
    assert.equal(receiver.delivered().length, 5);
    assert.ok(receiver.delivered().every((request) => !request.payload.summary && request.payload.count === 1));
    const texts = receiver.delivered().map((request) => request.payload.text);
    assert.ok(texts.some((text) => text.includes('reconnect location locA')));
    assert.ok(texts.some((text) => text.includes('reconnect location locB')));
    assert.ok(texts.some((text) => text.includes('ghl 422')));
  });

  test('concurrent raisers on three connections yield one immediate alert', async () => {
    const { prefix, queue } = await rig({ url: receiver.url, secret: SECRET, windowMs: LONG_WINDOW_MS });
    const { logger } = captureLogger();
    const raisers = [0, 1, 2].map(() => {
      const redis = connect('client');
      const ownQueue = new Queue(QUEUE_NAMES.alerts, { connection: redis, prefix });
      ownQueue.on('error', () => undefined);
      opened.push(() => ownQueue.close());
      return createAlerts({ queue: ownQueue, redis, prefix, logger, windowMs: LONG_WINDOW_MS });
    });
    await Promise.all(raisers.flatMap((raiser) => Array.from({ length: 5 }, (_, index) => raiser.raise(failure({ message: `concurrent ${index}` })))));
    await releaseSummary(queue, LONG_WINDOW_MS);
    const summary = await waitFor(() => receiver.delivered().find((request) => request.payload.summary), 5_000, 'the summary');
    await drained(queue);
    const immediate = receiver.delivered().filter((request) => !request.payload.summary);
    assert.equal(immediate.length, 1, 'one immediate alert for 15 concurrent raises');
    assert.equal(summary.payload.count, 14);
    assert.equal(receiver.delivered().length, 2);
  });

  test('a failing receiver is retried until the alert is delivered, and the URL never shows', async () => {
    const { alerts, finished } = await rig();
    receiver.failNext(2, 503);
    await alerts.raise(failure());
    const job = await waitFor(() => [...finished.values()][0], 5_000, 'the alert job to finish');
    assert.equal(await job.getState(), 'completed');
    assert.deepEqual(receiver.requests.map((request) => request.answered), [503, 503, 200]);
    assert.equal(new Set(receiver.requests.map((request) => request.body)).size, 1, 'the same body each time');
    assert.equal(job.attemptsMade, 3);
    const history = JSON.stringify([job.failedReason, job.stacktrace]);
    assert.match(history, /status 503/);
    assert.ok(!history.includes(URL_SECRET), 'the webhook URL path is not in the error history');
  });

  test('a failing summary is retried without losing its count', async () => {
    const { alerts, queue } = await rig({ url: receiver.url, secret: SECRET, windowMs: LONG_WINDOW_MS });
    receiver.failNext(2, 503, (payload) => payload.summary);
    for (let index = 0; index < 4; index += 1) await alerts.raise(failure());
    await releaseSummary(queue, LONG_WINDOW_MS);
    const summary = await waitFor(() => receiver.delivered().find((request) => request.payload.summary), 5_000, 'the summary');
    await drained(queue);
    assert.equal(summary.payload.count, 3);
    assert.deepEqual(
      receiver.requests.filter((request) => request.payload.summary).map((request) => [request.answered, request.payload.count]),
      [[503, 3], [503, 3], [200, 3]],
    );
  });

  test('without ALERT_WEBHOOK_URL the alert is logged at warn level and nothing throws', async () => {
    const { alerts, lines, finished } = await rig({ url: undefined });
    await alerts.raise(failure({ message: 'no url configured, bob@example.com' }));
    const job = await waitFor(() => [...finished.values()][0], 3_000, 'the alert job to finish');
    assert.equal(await job.getState(), 'completed');
    assert.deepEqual(job.returnvalue, { sent: true, via: 'log', summary: false, count: 1 });
    const LoggedAlertSchema = z.object({ level: z.number(), alert: z.object({ text: z.string() }) });
    const logged = lines.map((line) => LoggedAlertSchema.safeParse(JSON.parse(line))).find((parsed) => parsed.success)?.data;
    assert.ok(logged, 'the alert was logged');
    assert.equal(logged.level, 40, 'at warn level');
    assert.match(logged.alert.text, /contact-sync failed: ghl 404/);
    assert.ok(!lines.join('\n').includes('bob@example.com'));
    assert.equal(receiver.requests.length, 0);
  });
});

describe('alert client', () => {
  test('a bad ALERT_WEBHOOK_URL is refused at start-up without echoing it', () => {
    for (const url of ['not a url', 'ftp://example.com/hook', 'https://user:pw@example.com/hook', 'https://example.com/hook#x']) {
      assert.throws(
        () => createAlertClient({ url, timeoutMs: 1_000 }),
        (error: unknown) => error instanceof AlertWebhookConfigError && error.code === 'ALERT_WEBHOOK_URL_INVALID' && !error.message.includes(url),
      );
    }
  });

  test('without a secret no signature is sent; a 4xx answer is an UpstreamError without the URL path', async () => {
    const receiver = new Receiver();
    await receiver.start();
    const client = createAlertClient({ url: receiver.url, timeoutMs: 2_000 });
    try {
      const payload = AlertPayloadSchema.parse({
        text: '[ghl-bridge] test',
        kind: 'circuit-open',
        queue: null,
        event: null,
        locationId: null,
        contactId: null,
        errorClass: null,
        errorCode: null,
        system: 'ghl',
        status: null,
        message: 'test',
        count: 1,
        firstSeen: new Date(0).toISOString(),
        lastSeen: new Date(0).toISOString(),
        summary: false,
      });
      await client.send(payload);
      assert.equal(receiver.requests[0]?.headers['x-bridge-signature'], undefined);
      assert.deepEqual(JSON.parse(receiver.requests[0]?.body ?? ''), payload);

      receiver.failNext(1, 404);
      const error = await client.send(payload).then(
        () => assert.fail('a 404 must throw'),
        (thrown: unknown) => thrown,
      );
      assert.ok(error instanceof UpstreamError);
      assert.equal(error.system, 'alert-webhook');
      assert.equal(error.status, 404);
      assert.ok(!error.message.includes(URL_SECRET) && !error.path.includes(URL_SECRET));
    } finally {
      await client.close();
      await receiver.close();
    }
  });

  test('a receiver that is down is a network UpstreamError without the URL path', async () => {
    const receiver = new Receiver();
    await receiver.start();
    const url = receiver.url;
    await receiver.close();
    const client = createAlertClient({ url, timeoutMs: 1_000 });
    try {
      const error = await client
        .send({ text: 't', kind: 'dead-letter-growth', queue: null, event: null, locationId: null, contactId: null, errorClass: null, errorCode: null, system: null, status: null, message: 't', count: 1, firstSeen: new Date(0).toISOString(), lastSeen: new Date(0).toISOString(), summary: false })
        .then(
          () => assert.fail('must throw'),
          (thrown: unknown) => thrown,
        );
      assert.ok(error instanceof UpstreamError);
      assert.equal(error.code, 'UPSTREAM_NETWORK');
      assert.ok(!error.message.includes(URL_SECRET));
    } finally {
      await client.close();
    }
  });
});
