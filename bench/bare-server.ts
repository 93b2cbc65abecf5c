/**
 * A bare Fastify route that parses the same JSON body and answers 200, in its own process like the
 * bridge: for scale only (no receiver that verifies signatures can come near it). The ingest targets
 * are set against the floor (floor-server.ts), which does the least a correct receiver must do.
 */
import Fastify from 'fastify';

const app = Fastify({ logger: false, bodyLimit: 1_048_576 });
app.get('/health', async () => ({ status: 'ok' }));
app.post('/webhooks/ghl', async () => ({ status: 'accepted', id: null }));
await app.listen({ host: process.env.HOST ?? '127.0.0.1', port: Number(process.env.PORT ?? 0) });
const stop = () => void app.close().then(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
