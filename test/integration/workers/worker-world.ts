/**
 * What the worker tests share: a real redis-server, the GHL simulator with one location, and the
 * state stores, client and queues a processor is built from, under a fresh key prefix per call.
 */
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { createGhlClient, type GhlClient } from '../../../src/clients/ghl/ghl-client.js';
import { createStaticTokenProvider } from '../../../src/clients/ghl/token-provider.js';
import { DEFAULT_MAPPING } from '../../../src/config/mapping.js';
import { createLogger } from '../../../src/observability/logger.js';
import { createMetrics } from '../../../src/observability/metrics.js';
import { QUEUE_NAMES, type QueueName } from '../../../src/queue/catalog.js';
import { startGhlSimulator, type GhlSimulator } from '../../../src/sandbox/ghl/simulator.js';
import { createContactFacts } from '../../../src/state/contact-facts.js';
import { createContactFingerprints } from '../../../src/state/contact-fingerprint.js';
import { createContactSnapshots } from '../../../src/state/contact-snapshots.js';
import { createCustomFieldIds } from '../../../src/state/custom-field-ids.js';
import { createPlannedWrites } from '../../../src/state/planned-writes.js';
import { createWriteLedger } from '../../../src/state/write-ledger.js';
import { startRedisServer, type RedisServerHandle } from '../../helpers/redis-server.js';

export const LOCATION_ID = 'locWorkers00000000001';
const TOKEN = 'pit-workers-token-0001';

export interface WorkerWorld {
  sim: GhlSimulator;
  ghl: GhlClient;
  redis: Redis;
  /** Fresh stores and queues under their own prefix: no test sees another's state. */
  stores(): ReturnType<typeof buildStores>;
  close(): Promise<void>;
}

export async function startWorkerWorld(): Promise<WorkerWorld> {
  const server: RedisServerHandle = await startRedisServer();
  const redis = new Redis(server.url, { maxRetriesPerRequest: 1 });
  const sim = await startGhlSimulator({ locations: [{ id: LOCATION_ID, token: TOKEN }] });
  const ghl = createGhlClient({ baseUrl: sim.url, version: '2021-07-28', timeoutMs: 10_000, tokens: createStaticTokenProvider(LOCATION_ID, TOKEN) });
  const queues: Queue[] = [];
  return {
    sim,
    ghl,
    redis,
    stores() {
      const built = buildStores(redis, ghl);
      queues.push(...Object.values(built.queues));
      return built;
    },
    async close() {
      await Promise.all(queues.map((queue) => queue.close()));
      await ghl.close();
      await sim.close();
      await redis.quit();
      await server.close();
    },
  };
}

function buildStores(redis: Redis, ghl: GhlClient) {
  const prefix = `test-workers-${randomBytes(4).toString('hex')}`;
  const logs: string[] = [];
  const logger = createLogger({ level: 'debug', destination: new Writable({ write: (chunk: Buffer, _encoding, done) => void (logs.push(chunk.toString('utf8')), done()) }) });
  const queues = Object.fromEntries(Object.values(QUEUE_NAMES).map((name) => [name, new Queue(name, { connection: redis, prefix })])) as Record<QueueName, Queue>;
  return {
    prefix,
    logs,
    logger,
    queues,
    metrics: createMetrics(),
    mapping: DEFAULT_MAPPING,
    facts: createContactFacts(redis, prefix),
    ledger: createWriteLedger(redis, prefix),
    fingerprints: createContactFingerprints(redis, prefix),
    snapshots: createContactSnapshots(redis, prefix, { ttlMs: 600_000 }),
    planned: createPlannedWrites(redis, prefix),
    fieldIds: createCustomFieldIds(redis, prefix, ghl),
  };
}
