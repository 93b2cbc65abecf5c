/**
 * Posts failure alerts to ALERT_WEBHOOK_URL as JSON with a Slack-compatible `text`; with a secret the
 * body carries `x-bridge-signature: sha256=<hex HMAC of the body>`. The URL is treated as a secret:
 * Slack-style incoming-webhook URLs hold their credential in the path, so neither errors nor logs
 * ever show it.
 */
import type { Dispatcher } from 'undici';
import { z } from 'zod';
import { hmacSignature } from '../http/hmac-signature.js';
import { credentialTransport } from '../http/credential-url.js';
import type { HttpRequest, ResponseObserver } from '../http/transport.js';
import { BridgeError } from '../../observability/errors.js';

export const ALERT_KINDS = ['job-failed', 'circuit-open', 'oauth-reconnect', 'daily-budget', 'dead-letter-growth'] as const;
export const AlertKindSchema = z.enum(ALERT_KINDS);
export type AlertKind = z.infer<typeof AlertKindSchema>;

/** The body POSTed to ALERT_WEBHOOK_URL. Ids only: no names, emails, phones or tokens. */
export const AlertPayloadSchema = z.strictObject({
  text: z.string().min(1).describe('One Slack line'),
  kind: AlertKindSchema,
  queue: z.string().nullable(),
  event: z.string().nullable(),
  locationId: z.string().nullable(),
  contactId: z.string().nullable(),
  errorClass: z.string().nullable(),
  errorCode: z.string().nullable(),
  system: z.string().nullable(),
  status: z.number().int().nullable(),
  message: z.string(),
  count: z.number().int().positive().describe('Failures this alert stands for'),
  firstSeen: z.iso.datetime(),
  lastSeen: z.iso.datetime(),
  summary: z.boolean().describe('true: a follow-up summing the failures after the first one of a window'),
});
export type AlertPayload = z.infer<typeof AlertPayloadSchema>;

export interface AlertClientOptions {
  url: string;
  secret?: string | undefined;
  timeoutMs: number;
  dispatcher?: Dispatcher;
  observe?: ResponseObserver;
}

export interface AlertClient {
  /** POSTs one alert; non-2xx answers throw UpstreamError (system 'alert-webhook'), retried by BullMQ. */
  send(payload: AlertPayload): Promise<void>;
  close(): Promise<void>;
}

export class AlertWebhookConfigError extends BridgeError<'ALERT_WEBHOOK_URL_INVALID'> {
  constructor(reason: string) {
    // The URL itself is not echoed: it may carry a credential.
    super('ALERT_WEBHOOK_URL_INVALID', `ALERT_WEBHOOK_URL is invalid: ${reason}`);
  }
}

/** Checks the URL at start-up, so a typo stops the process instead of silently losing every alert. */
export function parseAlertWebhookUrl(url: string): URL {
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    throw new AlertWebhookConfigError('not an absolute URL');
  }
  if (target.protocol !== 'https:' && target.protocol !== 'http:') throw new AlertWebhookConfigError('must be http or https');
  if (target.username !== '' || target.password !== '') throw new AlertWebhookConfigError('must not carry user credentials');
  if (target.hash !== '') throw new AlertWebhookConfigError('must not have a #fragment');
  return target;
}

export function createAlertClient(options: AlertClientOptions): AlertClient {
  const { target, transport, secrets } = credentialTransport('alert-webhook', parseAlertWebhookUrl(options.url), options);

  return {
    async send(payload) {
      const body = JSON.stringify(AlertPayloadSchema.parse(payload));
      const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'ghl-bridge-alerts' };
      if (options.secret) headers['x-bridge-signature'] = hmacSignature(options.secret, body);
      // The body is sent as the exact string that was signed.
      const request: HttpRequest = { method: 'POST', path: target.path, headers, rawBody: body };
      try {
        transport.readJson(request, await transport.send(request), z.unknown(), { secrets });
      } catch (error) {
        throw target.hide(error);
      }
    },
    close: () => transport.close(),
  };
}
