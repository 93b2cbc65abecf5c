/** The Fastify instance every simulator builds its app on, and how its error handlers tell Fastify's own errors. */
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';

export function createSimulatorFastify(logger: boolean): FastifyInstance {
  // forceCloseConnections: close() must also end keep-alive sockets and requests held by a timeout fault.
  return Fastify({ logger, forceCloseConnections: true });
}

/** An error Fastify raised itself (bad JSON, body too large...), which carries its HTTP status. */
export function isFastifyError(error: unknown): error is FastifyError {
  return error instanceof Error && 'statusCode' in error && typeof error.statusCode === 'number';
}
