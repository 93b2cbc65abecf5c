/**
 * The process side of HTTP, apart from `buildApp` (app.ts): the server's timeouts, listening, the
 * startup line and banner, and a close that lets requests in flight finish.
 */
import type { Logger } from '../observability/logger.js';
import type { App } from './app.js';

/** A request whose body has not fully arrived by then is answered 408. */
export const REQUEST_TIMEOUT_MS = 30_000;
/** On close, keep-alive peers that hold the server open are cut after this grace period. */
const HTTP_DRAIN_MS = 3_000;

export interface ServeOptions {
  host: string;
  port: number;
  logger: Logger;
  /** Logged with the listening line (web or all). */
  mode: string;
  /** Once listening: the banner to print on stdout for this URL, if any. */
  onListening?: (url: string) => string | undefined;
  write?: (text: string) => void;
}

/** Listens and returns the URL a user can open. */
export async function serve(app: App, options: ServeOptions): Promise<string> {
  app.server.requestTimeout = REQUEST_TIMEOUT_MS;
  const address = await app.listen({ host: options.host, port: options.port });
  const url = localUrl(address);
  options.logger.info({ url, mode: options.mode }, 'listening');
  const banner = options.onListening?.(url);
  if (banner !== undefined) (options.write ?? ((text: string) => process.stdout.write(text)))(`\n${banner}\n\n`);
  return url;
}

/** Requests in flight finish; a keep-alive peer that keeps the server open is cut after a grace period. */
export async function closeServer(app: App): Promise<void> {
  const cut = setTimeout(() => app.server.closeAllConnections(), HTTP_DRAIN_MS);
  try {
    await app.close();
  } finally {
    clearTimeout(cut);
  }
}

/** 0.0.0.0 is where we listen, not an address a user can open. */
export function localUrl(address: string): string {
  return address.replace('://0.0.0.0', '://127.0.0.1').replace('://[::]', '://127.0.0.1');
}
