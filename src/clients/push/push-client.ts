/**
 * Forwards events as signed JSON to a URL the user chooses (OPINIONSTAGE_PUSH_URL): the push path
 * toward Opinion Stage, whose own API accepts no records. Headers: `x-bridge-event-id`,
 * `x-bridge-timestamp` (unix seconds) and, with a secret, `x-bridge-signature: sha256=<hex HMAC>`.
 * Collector URLs (Zapier, Make…) keep their credential in the path or the query, so errors and
 * metrics show only the origin (see http/credential-url.ts).
 */
import type { Dispatcher } from 'undici';
import { z } from 'zod';
import { hmacSignature } from '../http/hmac-signature.js';
import { credentialTransport } from '../http/credential-url.js';
import type { ResponseObserver } from '../http/transport.js';

export interface PushClientOptions {
  url: string;
  secret: string | undefined;
  timeoutMs: number;
  dispatcher?: Dispatcher;
  observe?: ResponseObserver;
}

export interface PushClient {
  /** POSTs one event; non-2xx answers throw UpstreamError (system 'push'), classified like any upstream. */
  send(event: { id: string } & Record<string, unknown>, now?: number): Promise<void>;
  close(): Promise<void>;
}

export function createPushClient(options: PushClientOptions): PushClient {
  const { target, transport, secrets } = credentialTransport('push', new URL(options.url), options);
  return {
    async send(event, now = Date.now()) {
      const body = JSON.stringify(event);
      const headers: Record<string, string> = {
        'content-type': 'application/json',
        'x-bridge-event-id': event.id,
        'x-bridge-timestamp': String(Math.floor(now / 1000)),
      };
      if (options.secret) headers['x-bridge-signature'] = hmacSignature(options.secret, body);
      // The body is sent as the exact string that was signed.
      const request = { method: 'POST' as const, path: target.path, headers, rawBody: body };
      try {
        transport.readJson(request, await transport.send(request), z.unknown(), { secrets });
      } catch (error) {
        throw target.hide(error);
      }
    },
    close: () => transport.close(),
  };
}
