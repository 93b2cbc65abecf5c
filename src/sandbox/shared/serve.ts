/**
 * Start-up and shutdown shared by the simulators: listen on loopback (an ephemeral port unless one is
 * given) and report the origin; close once, in order: abort held requests and waits, stop the server,
 * then drain the webhook deliveries.
 */
import type { FastifyInstance } from 'fastify';

/** Listens and returns the origin, `http://<host>:<port>` (IPv6 hosts in brackets). */
export async function listenOnLoopback(app: FastifyInstance, host: string | undefined, port: number | undefined): Promise<string> {
  await app.listen({ host: host ?? '127.0.0.1', port: port ?? 0 });
  const address = app.server.address();
  if (address === null || typeof address === 'string') throw new Error('simulator is not listening on TCP');
  const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return `http://${shown}:${address.port}`;
}

/** A `close()` that runs its steps once; later calls share the first one's promise. */
export function closeOnce(shutdown: AbortController, app: FastifyInstance, emitter: { close(): Promise<void> }): () => Promise<void> {
  let closing: Promise<void> | undefined;
  return () => {
    closing ??= (async () => {
      shutdown.abort();
      await app.close();
      await emitter.close();
    })();
    return closing;
  };
}
