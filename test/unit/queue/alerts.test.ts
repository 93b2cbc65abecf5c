/**
 * Alert payloads: the Slack line for each kind, immediate and summary; redaction of emails, phones
 * and tokens whatever the caller passed; cause ids (what is throttled together); the alert built for
 * a job that failed for good; and `raise` never throwing.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { Writable } from 'node:stream';
import { z } from 'zod';
import { AlertPayloadSchema } from '../../../src/clients/alert-webhook/alert-client.js';
import { UpstreamError } from '../../../src/clients/http/upstream-error.js';
import {
  alertCauseId,
  AlertJobSchema,
  buildAlertPayload,
  createAlerts,
  jobFailedAlert,
  normalizeAlert,
  redactAlertText,
  type AlertInput,
} from '../../../src/queue/alerts.js';

const AT = Date.parse('2026-03-04T12:01:30.000Z');

function payloadOf(input: AlertInput, tally = { count: 1, firstSeen: AT, lastSeen: AT, summary: false }) {
  const { cause, detail } = normalizeAlert(input);
  return AlertPayloadSchema.parse(buildAlertPayload(cause, detail, tally));
}

describe('alert text', () => {
  test('an immediate job failure names queue, system, status, message and ids', () => {
    const payload = payloadOf({
      kind: 'job-failed',
      queue: 'contact-sync',
      system: 'ghl',
      status: 404,
      errorCode: 'UPSTREAM_HTTP',
      errorClass: 'UpstreamError',
      event: 'ContactUpdate',
      locationId: 'loc1',
      contactId: 'c1',
      message: 'ghl GET /contacts/c1 failed: status 404',
    });
    assert.equal(payload.text, '[ghl-bridge] contact-sync failed: ghl 404: ghl GET /contacts/c1 failed: status 404 (location loc1, contact c1)');
    assert.deepEqual(
      { ...payload, text: undefined },
      {
        text: undefined,
        kind: 'job-failed',
        queue: 'contact-sync',
        event: 'ContactUpdate',
        locationId: 'loc1',
        contactId: 'c1',
        errorClass: 'UpstreamError',
        errorCode: 'UPSTREAM_HTTP',
        system: 'ghl',
        status: 404,
        message: 'ghl GET /contacts/c1 failed: status 404',
        count: 1,
        firstSeen: '2026-03-04T12:01:30.000Z',
        lastSeen: '2026-03-04T12:01:30.000Z',
        summary: false,
      },
    );
  });

  test('a summary gives the count of later failures and when they started and ended', () => {
    const payload = payloadOf(
      { kind: 'job-failed', queue: 'contact-sync', system: 'ghl', status: 404, message: 'not found' },
      { count: 3, firstSeen: AT, lastSeen: AT + 6 * 60_000, summary: true },
    );
    assert.equal(payload.text, '[ghl-bridge] contact-sync failed: ghl 404 (3 more times since 12:01 UTC, last 12:07 UTC); latest: not found');
    assert.equal(payload.count, 3);
    assert.equal(payload.summary, true);
    assert.equal(payload.lastSeen, '2026-03-04T12:07:30.000Z');
  });

  test('one follow-up reads "1 more time"', () => {
    const payload = payloadOf({ kind: 'job-failed', queue: 'alerts', errorCode: 'X', message: '' }, { count: 1, firstSeen: AT, lastSeen: AT, summary: true });
    assert.equal(payload.text, '[ghl-bridge] alerts failed: X (1 more time since 12:01 UTC)');
  });

  test('each kind has its own line', () => {
    assert.equal(payloadOf({ kind: 'circuit-open', system: 'trustpilot', message: '5 failures in 30 s' }).text, '[ghl-bridge] circuit opened for trustpilot: 5 failures in 30 s');
    assert.equal(
      payloadOf({ kind: 'oauth-reconnect', system: 'ghl', errorCode: 'invalid_grant', locationId: 'locA', message: 'refresh token rejected' }).text,
      '[ghl-bridge] OAuth refresh failed: reconnect location locA: refresh token rejected',
    );
    assert.equal(payloadOf({ kind: 'daily-budget', system: 'ghl', locationId: 'locA', message: '180000 of 200000 used' }).text, '[ghl-bridge] daily ghl budget nearly spent for location locA: 180000 of 200000 used');
    assert.equal(payloadOf({ kind: 'dead-letter-growth', queue: 'dead-letter', message: '25 new in 10 min' }).text, '[ghl-bridge] dead letters growing in dead-letter: 25 new in 10 min');
  });

  test('Slack markup characters are escaped in the text', () => {
    const payload = payloadOf({ kind: 'circuit-open', system: 'ghl', message: 'a <b> & c' });
    assert.equal(payload.text, '[ghl-bridge] circuit opened for ghl: a &lt;b&gt; &amp; c');
    assert.equal(payload.message, 'a <b> & c', 'the structured field keeps the plain text');
  });

  test('absent fields are null, so receivers see a stable shape', () => {
    const payload = payloadOf({ kind: 'dead-letter-growth', message: 'growing' });
    assert.equal(payload.queue, null);
    assert.equal(payload.contactId, null);
    assert.equal(payload.status, null);
  });
});

describe('redaction', () => {
  const cases: [string, string, string][] = [
    ['email', 'no contact for jane.doe+x@example.co.uk found', 'no contact for [email] found'],
    ['bearer token', 'sent Authorization: Bearer abc.DEF-123_456xyz', 'sent Authorization: Bearer [redacted]'],
    ['GHL private token', 'token pit-1234abcd-5678-90ef failed', 'token [token] failed'],
    ['JWT', 'got eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig_part here', 'got [token] here'],
    ['query secret', 'GET /x?token=s3cr3t&page=2', 'GET /x?token=[redacted]&page=2'],
    ['key=value secret', 'client_secret=hunter2 rejected', 'client_secret=[redacted] rejected'],
    ['phone', 'call +1 (555) 123-4567 now', 'call [phone] now'],
    ['long opaque string', `key ${'a1B2'.repeat(12)} leaked`, 'key [redacted] leaked'],
    ['base64 key', `enc ${'QUJD'.repeat(10)}AB== oops`, 'enc [redacted] oops'],
    ['newlines', 'line one\nline two\r\n\tthree', 'line one line two three'],
  ];
  for (const [name, input, expected] of cases) {
    test(`blanks out ${name}`, () => assert.equal(redactAlertText(input), expected));
  }

  test('keeps ordinary failure text and ids intact', () => {
    const text = 'ghl GET /contacts/aBcDeFgHiJkLmNoPqRsT/notes/uVwXyZ0123456789AbCd failed: status 404';
    assert.equal(redactAlertText(text), text);
    assert.equal(redactAlertText('Bearer token missing'), 'Bearer token missing');
  });

  test('truncates to the limit', () => {
    const text = redactAlertText('word '.repeat(200), 50);
    assert.equal(text.length, 50);
    assert.ok(text.endsWith('…'));
  });

  test('every field of the payload is redacted, not just the message', () => {
    const payload = payloadOf({
      kind: 'job-failed',
      queue: 'contact-sync',
      event: 'mail bob@example.com',
      contactId: 'bob@example.com',
      errorClass: 'Bearer abcdefghijkl',
      message: 'x',
    });
    const body = JSON.stringify(payload);
    assert.ok(!body.includes('bob@example.com'), body);
    assert.ok(!body.includes('abcdefghijkl'), body);
  });
});

describe('causes', () => {
  const base: AlertInput = { kind: 'job-failed', queue: 'contact-sync', system: 'ghl', status: 404, errorCode: 'UPSTREAM_HTTP', message: 'a', contactId: 'c1' };
  const idOf = (input: AlertInput) => {
    const { cause, detail } = normalizeAlert(input);
    return alertCauseId(cause, detail);
  };

  test('the same (queue, code, system, status) is one cause whatever the contact or message', () => {
    assert.equal(idOf(base), idOf({ ...base, contactId: 'c2', locationId: 'other', message: 'b' }));
    assert.match(idOf(base), /^[a-f0-9]{24}$/);
  });

  test('a different queue, code, system, status or kind is a different cause', () => {
    const ids = new Set([
      idOf(base),
      idOf({ ...base, queue: 'ghl-webhooks' }),
      idOf({ ...base, errorCode: 'UPSTREAM_TIMEOUT' }),
      idOf({ ...base, system: 'trustpilot' }),
      idOf({ ...base, status: 422 }),
      idOf({ ...base, kind: 'circuit-open' }),
    ]);
    assert.equal(ids.size, 6);
  });

  test('OAuth and budget alerts are per location', () => {
    const oauth: AlertInput = { kind: 'oauth-reconnect', system: 'ghl', errorCode: 'invalid_grant', locationId: 'locA', message: 'x' };
    assert.notEqual(idOf(oauth), idOf({ ...oauth, locationId: 'locB' }));
    const budget: AlertInput = { kind: 'daily-budget', system: 'ghl', locationId: 'locA', message: 'x' };
    assert.notEqual(idOf(budget), idOf({ ...budget, locationId: 'locB' }));
  });

  test('an out-of-range status is dropped rather than failing the alert', () => {
    assert.equal(normalizeAlert({ ...base, status: 42 }).cause.status, undefined);
  });
});

describe('jobFailedAlert', () => {
  test('an upstream error gives system, status and code; ids come from the job data', () => {
    const error = new UpstreamError({ system: 'ghl', code: 'UPSTREAM_HTTP', method: 'GET', path: '/contacts/c9', status: 404 });
    const input = jobFailedAlert('contact-sync', { name: 'sync', data: { locationId: 'loc9', contactId: 'c9', reason: 'webhook', triggeredAt: 1, eventType: 'ContactUpdate' } }, error);
    assert.deepEqual(input, {
      kind: 'job-failed',
      queue: 'contact-sync',
      event: 'ContactUpdate',
      locationId: 'loc9',
      contactId: 'c9',
      system: 'ghl',
      status: 404,
      errorCode: 'UPSTREAM_HTTP',
      errorClass: 'UpstreamError',
      message: 'ghl GET /contacts/c9 failed: status 404',
    });
  });

  test('a GHL webhook job gives the event type and ids, never the event contents', () => {
    const data = { source: 'marketplace', receivedAt: 1, event: { type: 'ContactCreate', locationId: 'locW', id: 'cW', email: 'who@example.com', firstName: 'Secret' } };
    const coded = Object.assign(new Error('location not served'), { code: 'GHL_LOCATION_NOT_SERVED' });
    const input = jobFailedAlert('ghl-webhooks', { name: 'ContactCreate', data }, coded);
    assert.equal(input.event, 'ContactCreate');
    assert.equal(input.locationId, 'locW');
    assert.equal(input.contactId, 'cW');
    assert.equal(input.errorCode, 'GHL_LOCATION_NOT_SERVED');
    assert.ok(!JSON.stringify(input).includes('who@example.com'));
    assert.ok(!JSON.stringify(input).includes('Secret'));
  });

  test('bad job data names the paths, never the values', () => {
    const result = z.object({ email: z.email() }).safeParse({ email: 'not-an-email-but-private' });
    assert.equal(result.success, false);
    const input = jobFailedAlert('opinionstage-responses', { name: 'response', data: {} }, result.error);
    assert.equal(input.errorCode, 'invalid-job-data');
    assert.equal(input.message, 'invalid job data at email');
  });

  test('a thrown non-error still yields an alert', () => {
    const input = jobFailedAlert('contact-sync', { name: 'sync', data: null }, 'boom');
    assert.equal(input.errorCode, 'unknown');
    assert.equal(input.event, 'sync');
  });
});

describe('job schema', () => {
  test('rejects job data that is not an alert', () => {
    assert.equal(AlertJobSchema.safeParse({ type: 'immediate' }).success, false);
    assert.equal(AlertJobSchema.safeParse({ type: 'summary', causeId: 'a:b', windowId: 'w', cause: { kind: 'job-failed' }, detail: { message: '' } }).success, false);
  });
});

describe('raise', () => {
  test('never throws when Redis is unreachable; logs a warning instead', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'warn' }, new Writable({ write: (chunk: Buffer, _encoding, done) => void (lines.push(chunk.toString()), done()) }));
    // Never connected and no offline queue: every command fails at once.
    const redis = new Redis({ host: '127.0.0.1', port: 1, lazyConnect: true, enableOfflineQueue: false, retryStrategy: () => null });
    redis.on('error', () => undefined);
    let added = 0;
    const alerts = createAlerts({
      queue: {
        add: async () => {
          added += 1;
          throw new Error('unreachable');
        },
      },
      redis,
      prefix: 'p',
      logger,
    });
    try {
      await alerts.raise({ kind: 'job-failed', queue: 'contact-sync', message: 'x' });
    } finally {
      redis.disconnect();
    }
    assert.equal(added, 0);
    assert.equal(lines.length, 1);
    assert.match(lines[0] ?? '', /alert could not be raised/);
  });
});
