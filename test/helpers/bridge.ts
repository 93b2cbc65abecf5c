/**
 * Starts the real bridge (the production container) in-process against a test Redis, with its log
 * lines captured so tests can assert on them (and prove no secret leaks).
 */
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { loadConfig, type Config } from '../../src/config/env.js';
import { createContainer, type Container, type ProcessMode } from '../../src/lifecycle/container.js';
import { createLogger } from '../../src/observability/logger.js';
import { QUEUE_NAMES } from '../../src/queue/catalog.js';
import { inboxDepth, isInboxQueue } from '../../src/queue/inbox.js';
import type { GhlSimulator } from '../../src/sandbox/ghl/simulator.js';
import { TRUSTPILOT_SANDBOX_DEFAULTS } from '../../src/sandbox/trustpilot/simulator.js';
import { clusterNodesOf } from './redis-cluster.js';
import { pause, waitFor } from './wait.js';

export interface TestBridge {
  url: string;
  config: Config;
  container: Container;
  logs: string[];
  close(): Promise<void>;
}

export interface TestBridgeOptions {
  mode?: ProcessMode;
  redisUrl: string;
  env?: Record<string, string>;
  ingestTimeoutMs?: number;
}

/** A unique key prefix per bridge, so tests sharing a Redis never see each other's jobs. */
export function testPrefix(): string {
  return `t${randomBytes(4).toString('hex')}`;
}

export async function startTestBridge(options: TestBridgeOptions): Promise<TestBridge> {
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'debug',
    // A test cluster's URL names its seed nodes (test/helpers/redis-cluster.ts).
    ...(clusterNodesOf(options.redisUrl) === undefined ? { REDIS_URL: options.redisUrl } : { REDIS_CLUSTER_NODES: clusterNodesOf(options.redisUrl) }),
    REDIS_PREFIX: testPrefix(),
    SANDBOX: 'false',
    COALESCE_WINDOW_MS: '0',
    // Tests count calls and jobs: the reconcile poll runs only where a test asks for it.
    RECONCILE_INTERVAL: '0',
    // Likewise the Trustpilot review poll.
    TRUSTPILOT_POLL_INTERVAL: '0',
    // Tests poll admin and health routes quickly; the public limiter is tested on its own.
    PUBLIC_RATE_LIMIT: '100000/60',
    // Tests send wrong tokens on purpose; the failed-authentication limiter is tested on its own.
    WEBHOOK_AUTH_FAILURE_LIMIT: '100000/60',
    WORKER_CONCURRENCY: '4',
    ...options.env,
  });
  const logs: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logs.push(...chunk.toString('utf8').split('\n').filter((line) => line.length > 0));
      done();
    },
  });
  const logger = createLogger({ level: config.LOG_LEVEL, destination });
  const container = await createContainer({
    mode: options.mode ?? 'all',
    config,
    logger,
    version: 'test',
    ...(options.ingestTimeoutMs === undefined ? {} : { ingestTimeoutMs: options.ingestTimeoutMs }),
  });
  let url = '';
  if (container.app) url = (await container.app.listen({ host: '127.0.0.1', port: 0 })).replace('localhost', '127.0.0.1');
  return { url, config, container, logs, close: () => container.close() };
}

/** Environment that points a bridge at a GHL simulator: its URL, one location's token, its webhook keys. */
export function simulatorEnv(ghl: GhlSimulator, locationId: string, token: string): Record<string, string> {
  return {
    GHL_API_BASE_URL: ghl.url,
    GHL_PRIVATE_TOKEN: token,
    GHL_LOCATION_ID: locationId,
    GHL_WEBHOOK_ED25519_PUBLIC_KEY: ghl.publicKeys.ed25519,
    GHL_WEBHOOK_PUBLIC_KEY: ghl.publicKeys.rsa,
  };
}

/** Bridge env for the Trustpilot simulator: its API and the business user it knows (our own unit). */
export function trustpilotSimulatorEnv(tp: { url: string }): Record<string, string> {
  return {
    TRUSTPILOT_API_BASE_URL: tp.url,
    TRUSTPILOT_API_KEY: TRUSTPILOT_SANDBOX_DEFAULTS.apiKey,
    TRUSTPILOT_API_SECRET: TRUSTPILOT_SANDBOX_DEFAULTS.apiSecret,
    TRUSTPILOT_USERNAME: TRUSTPILOT_SANDBOX_DEFAULTS.username,
    TRUSTPILOT_PASSWORD: TRUSTPILOT_SANDBOX_DEFAULTS.password,
    TRUSTPILOT_BUSINESS_UNIT_ID: TRUSTPILOT_SANDBOX_DEFAULTS.businessUnitId,
  };
}

/**
 * Waits until the simulators have delivered everything and the bridge has nothing waiting, active or
 * delayed, a few rounds over, since work makes work. Dead letters stay where they are, and the
 * scheduled queues always hold their next run, so only a running poll or reconcile counts there.
 */
const SCHEDULED_QUEUES = new Set<string>([QUEUE_NAMES.opinionStagePoll, QUEUE_NAMES.trustpilotPoll, QUEUE_NAMES.reconcile]);

export async function settle(bridge: TestBridge, simulators: { idle(): Promise<void> }[], rounds = 3): Promise<void> {
  for (let round = 0; round < rounds; round++) {
    for (const simulator of simulators) await simulator.idle();
    await waitFor(
      async () => {
        let busy = 0;
        for (const [name, queue] of Object.entries(bridge.container.queues)) {
          if (name === QUEUE_NAMES.deadLetter) continue;
          const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
          busy += (counts.waiting ?? 0) + (counts.active ?? 0);
          if (!SCHEDULED_QUEUES.has(name)) busy += (counts.delayed ?? 0) + (counts.prioritized ?? 0);
          // Accepted deliveries a pump has not moved into their queue yet.
          if (isInboxQueue(name)) busy += await inboxDepth(queue);
        }
        return busy === 0 ? true : undefined;
      },
      20_000,
      'the bridge queues to drain',
    );
    // Work makes work: give a just-finished job's follow-ups a moment to be queued before the next round.
    await pause(100);
  }
}
