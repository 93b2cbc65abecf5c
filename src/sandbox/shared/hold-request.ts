/**
 * The `timeout` fault of every simulator: the request is never answered; its socket stays open until
 * the client gives up or the simulator closes.
 */
import type { ServerResponse } from 'node:http';
import type { FastifyReply } from 'fastify';

export function holdRequest(reply: FastifyReply, shutdown: AbortSignal): void {
  reply.hijack();
  const raw: ServerResponse = reply.raw;
  const release = (): void => {
    raw.socket?.destroy();
  };
  if (shutdown.aborted) release();
  else shutdown.addEventListener('abort', release, { once: true });
  raw.on('close', () => shutdown.removeEventListener('abort', release));
}
