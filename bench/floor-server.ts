/**
 * The ingest floor: the least any correct GHL receiver must do, in its own process like the bridge.
 * The same Fastify, one route that keeps the raw body, verifies its signature with the bridge's own
 * verifier (src/webhooks/ghl-signature.ts, so a faster verifier there moves the floor too) and
 * appends the body to a Redis list with the bridge's micro-batching (up to 100 requests share one
 * pipeline: those of one event-loop turn, or those that arrived while the batch before was stored),
 * answering each request once its batch is stored. No JSON parse, no
 * schema, no dedupe, no logger, no metrics: everything the bridge spends beyond this is overhead.
 */
import Fastify from 'fastify';
import { Redis } from 'ioredis';
import { createGhlSignatureVerifier } from '../src/webhooks/ghl-signature.js';

const BATCH_MAX_ITEMS = 100;
const LIST_KEY = process.env.FLOOR_LIST_KEY ?? 'bench-floor:webhooks';

const verifier = createGhlSignatureVerifier({
  ed25519PublicKeyPem: process.env.GHL_WEBHOOK_ED25519_PUBLIC_KEY ?? '',
  rsaPublicKeyPem: process.env.GHL_WEBHOOK_PUBLIC_KEY ?? '',
});
const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { maxRetriesPerRequest: 1 });
redis.on('error', () => undefined);

interface Pending {
  body: Buffer;
  done(error: Error | undefined): void;
}
let buffer: Pending[] = [];
let immediate: NodeJS.Immediate | undefined;
let storing = 0;
let stored = 0;

function flush(): void {
  if (immediate) clearImmediate(immediate);
  immediate = undefined;
  const batch = buffer;
  buffer = [];
  if (batch.length === 0) return;
  storing++;
  redis
    .pipeline()
    .rpush(LIST_KEY, ...batch.map((pending) => pending.body))
    .exec()
    .then((results) => {
      const failure = results?.find(([error]) => error)?.[0] ?? undefined;
      for (const pending of batch) pending.done(failure ?? undefined);
    }, (error: unknown) => {
      for (const pending of batch) pending.done(error instanceof Error ? error : new Error('pipeline failed'));
    })
    .finally(() => {
      storing--;
      if (storing === 0) flush();
    });
}

function append(body: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    buffer.push({ body, done: (error) => (error ? reject(error) : resolve(++stored)) });
    if (buffer.length >= BATCH_MAX_ITEMS) flush();
    else if (storing === 0) immediate ??= setImmediate(flush);
  });
}

const app = Fastify({ logger: false, bodyLimit: 1_048_576 });
app.removeAllContentTypeParsers();
app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
app.get('/health', async () => ({ status: 'ok' }));
app.post('/webhooks/ghl', async (request, reply) => {
  const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
  if (!verifier.verify(raw, request.headers).ok) return reply.code(401).send({ status: 'rejected' });
  try {
    return { status: 'accepted', id: String(await append(raw)) };
  } catch {
    return reply.code(429).send({ status: 'unavailable' });
  }
});
await app.listen({ host: process.env.HOST ?? '127.0.0.1', port: Number(process.env.PORT ?? 0) });
const stop = () => void app.close().then(() => redis.quit()).then(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
