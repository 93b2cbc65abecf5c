/**
 * The chaos suites' world: one Redis (AOF on; a three-master cluster with TEST_REDIS_CLUSTER=1), the GHL and Trustpilot simulators, the bridge's web side
 * in-process, and worker processes as separate OS processes (`node --import tsx src/main.ts worker`)
 * that a suite can SIGKILL or SIGTERM. Also the measurements the suites share: queue drain, notes and
 * tasks per contact, dead letters, and how often jobs ran.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { Job } from 'bullmq';
import { z } from 'zod';
import { QUEUE_NAMES } from '../../src/queue/catalog.js';
import type { DeadLetterEntry } from '../../src/queue/dead-letters.js';
import { inboxDepth, isInboxQueue } from '../../src/queue/inbox.js';
import { startGhlSimulator, type GhlSimulator, type GhlSimulatorOptions } from '../../src/sandbox/ghl/simulator.js';
import { startTrustpilotSimulator, type TrustpilotSimulator } from '../../src/sandbox/trustpilot/simulator.js';
import { setupFields } from '../../src/workers/setup-fields.js';
import { simulatorEnv, startTestBridge, trustpilotSimulatorEnv, type TestBridge } from './bridge.js';
import { isPassingRedisTrouble, readPatiently, waitFor } from './wait.js';
import { clusterNodesOf, startTestRedis, type TestRedis } from './redis-cluster.js';

const PROJECT_ROOT = new URL('../../', import.meta.url).pathname;
const MAIN = new URL('../../src/main.ts', import.meta.url).pathname;

/** Generous budgets so the simulators' own limits never decide a chaos suite. */
const UNLIMITED = { max: 1_000_000, windowMs: 10_000 };

export interface ChaosWorldOptions {
  locationId: string;
  token: string;
  /** `web`: workers run only as child processes; `all`: the in-process bridge runs workers too. */
  mode: 'web' | 'all';
  /** Extra bridge environment, for the in-process bridge and every worker process alike. */
  env?: Record<string, string>;
  /** Point the GHL simulator's webhooks at the bridge (default true). */
  ghlWebhooks?: boolean;
  ghl?: Pick<GhlSimulatorOptions, 'signingKeys'>;
}

export interface WorkerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Date.now() when the process was gone. */
  at: number;
}

export interface WorkerProcess {
  readonly pid: number;
  readonly child: ChildProcess;
  /** Log lines (pino JSON) the worker wrote to stdout. */
  readonly logs: string[];
  readonly exited: Promise<WorkerExit>;
  isRunning(): boolean;
  /** Sends the signal and resolves when the process is gone. */
  stop(signal: NodeJS.Signals): Promise<WorkerExit>;
}

export interface ContactEffects {
  contacts: number;
  /** Contacts with more than one note or task, and how many extra items they carry. */
  duplicateNotes: number;
  duplicateTasks: number;
  contactsWithDuplicates: string[];
  /** Contacts missing their note or task. */
  missingNotes: number;
  missingTasks: number;
  contactsMissing: string[];
}

export interface JobRunStats {
  completed: number;
  /** Runs beyond the first (retries, rate-limit waits, stalled jobs run again). */
  extraRuns: number;
  /** Jobs that BullMQ found stalled (their worker died) and ran again. */
  stalledRecovered: number;
}

/** The fields of a received alert the suites look at (the bridge sends more). */
export const ReceivedAlertSchema = z.looseObject({
  text: z.string(),
  kind: z.string(),
  queue: z.string().nullable(),
  contactId: z.string().nullable(),
  status: z.number().nullable(),
  summary: z.boolean(),
});
export type ReceivedAlert = z.infer<typeof ReceivedAlertSchema>;

export interface ChaosWorld {
  readonly redis: TestRedis;
  /** Every alert POSTed to ALERT_WEBHOOK_URL, which points at a receiver inside the test. */
  readonly alerts: ReceivedAlert[];
  readonly ghl: GhlSimulator;
  readonly tp: TrustpilotSimulator;
  readonly bridge: TestBridge;
  readonly locationId: string;
  /** The environment a worker process gets (Redis, prefix, simulators, credentials). */
  readonly workerEnv: Record<string, string>;
  spawnWorker(extraEnv?: Record<string, string>): WorkerProcess;
  /** Jobs running right now, over every queue but the dead letters. */
  activeJobs(): Promise<number>;
  /** Resolves once the simulators delivered everything and the queues stayed empty for `quietMs`. */
  drain(timeoutMs: number, quietMs?: number): Promise<void>;
  effects(contactIds: string[]): ContactEffects;
  runStats(): Promise<JobRunStats>;
  /** The newest dead letters (up to 20), read patiently as runStats() is. */
  deadLetters(): Promise<DeadLetterEntry[]>;
  close(): Promise<void>;
}

export async function startChaosWorld(options: ChaosWorldOptions): Promise<ChaosWorld> {
  // What is started is stopped again, in reverse, by close() or by a failed start.
  const cleanups: (() => Promise<void>)[] = [];
  const cleanUp = async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
  };
  try {
    return await buildWorld(options, cleanups, cleanUp);
  } catch (error) {
    await cleanUp();
    throw error;
  }
}

async function buildWorld(options: ChaosWorldOptions, cleanups: (() => Promise<void>)[], cleanUp: () => Promise<void>): Promise<ChaosWorld> {
  const { locationId, token } = options;
  const redis = await startTestRedis();
  cleanups.push(() => redis.close());
  const ghl = await startGhlSimulator({
    locations: [{ id: locationId, token }],
    rateLimit: UNLIMITED,
    dailyLimit: 100_000_000,
    // Ed25519 only: RSA-4096 signing of every delivery would cost seconds of CPU per suite.
    webhookSignatures: 'ed25519',
    // Like GHL, keep redelivering on 429 long enough to ride out a slow moment of the bridge.
    webhookRetry: { attempts: 8, baseDelayMs: 250 },
    ...options.ghl,
  });
  cleanups.push(() => ghl.close());
  const tp = await startTrustpilotSimulator({ rateLimit: { max: 1_000_000, windowMs: 300_000 } });
  cleanups.push(() => tp.close());
  const alerts: ReceivedAlert[] = [];
  const alertReceiver = await startAlertReceiver(alerts);
  cleanups.push(async () => {
    const closed = once(alertReceiver.server, 'close');
    alertReceiver.server.close();
    alertReceiver.server.closeAllConnections();
    await closed;
  });
  const sharedEnv: Record<string, string> = {
    ...simulatorEnv(ghl, locationId, token),
    ALERT_WEBHOOK_URL: alertReceiver.url,
    // No reconcile polling: what reaches GHL must come through the queues under test, not a catch-up.
    RECONCILE_INTERVAL: '0',
    // Nor a Trustpilot review poll: reviews reach contacts through their notifications and events.
    TRUSTPILOT_POLL_INTERVAL: '0',
    GHL_RATE_LIMIT: '1000000/10',
    ...trustpilotSimulatorEnv(tp),
    TRUSTPILOT_RATE_LIMIT: '1000000/300',
    COALESCE_WINDOW_MS: '200',
    WORKER_CONCURRENCY: '10',
    ...options.env,
  };
  const bridge = await startTestBridge({ mode: options.mode, redisUrl: redis.url, env: { ...sharedEnv, LOG_LEVEL: 'info' } });
  cleanups.push(() => bridge.close());
  await setupFields(bridge.container.ghl, locationId, bridge.container.mapping);
  if (options.ghlWebhooks ?? true) ghl.setWebhookUrl(`${bridge.url}/webhooks/ghl`);

  const workerEnv: Record<string, string> = {
    ...sharedEnv,
    ...(clusterNodesOf(redis.url) === undefined ? { REDIS_URL: redis.url } : { REDIS_CLUSTER_NODES: clusterNodesOf(redis.url) ?? '' }),
    REDIS_PREFIX: bridge.config.REDIS_PREFIX,
    SANDBOX: 'false',
    LOG_LEVEL: 'info',
  };
  const workers: WorkerProcess[] = [];
  cleanups.push(async () => {
    for (const worker of workers) if (worker.isRunning()) await worker.stop('SIGKILL');
  });
  const queues = Object.values(bridge.container.queues);

  /** What keeps the world from draining, for a failure message: per queue, the non-zero counts; the simulators. */
  async function describeBusy(): Promise<string> {
    const parts: string[] = [];
    if (!(await isIdle(ghl))) parts.push('ghl simulator');
    if (!(await isIdle(tp))) parts.push('trustpilot simulator');
    for (const queue of queues) {
      const counts = Object.entries(await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized')).filter(([, count]) => count > 0);
      if (counts.length > 0) parts.push(`${queue.name} ${counts.map(([state, count]) => `${state}=${count}`).join(' ')}`);
    }
    return parts.join('; ') || 'nothing';
  }

  async function countJobs(states: ('waiting' | 'active' | 'delayed' | 'prioritized')[]): Promise<number> {
    let total = 0;
    for (const queue of queues) {
      const name = queue.name;
      if (name === QUEUE_NAMES.deadLetter) continue;
      const counts = await queue.getJobCounts(...states.filter((state) => state !== 'delayed'));
      total += Object.values(counts).reduce((sum, value) => sum + value, 0);
      // Accepted deliveries the pumps have not moved into their queue yet wait, too.
      if (states.includes('waiting') && isInboxQueue(name)) total += await inboxDepth(queue);
      // Summary alerts wait for their throttle window by design; scheduled runs always have a next one.
      if (!states.includes('delayed') || name === QUEUE_NAMES.alerts) continue;
      if (SCHEDULED_QUEUES.has(name)) total += (await queue.getDelayed()).filter((job) => !job.repeatJobKey).length;
      else total += (await queue.getJobCounts('delayed')).delayed ?? 0;
    }
    return total;
  }

  async function readRunStats(): Promise<JobRunStats> {
    const stats: JobRunStats = { completed: 0, extraRuns: 0, stalledRecovered: 0 };
    for (const queue of queues) {
      if (queue.name === QUEUE_NAMES.deadLetter) continue;
      const jobs: Job[] = await queue.getJobs(['completed'], 0, -1);
      for (const job of jobs) {
        stats.completed += 1;
        stats.extraRuns += Math.max(0, (job.attemptsStarted ?? 1) - 1);
        if ((job.stalledCounter ?? 0) > 0) stats.stalledRecovered += 1;
      }
    }
    return stats;
  }

  return {
    redis,
    alerts,
    ghl,
    tp,
    bridge,
    locationId,
    workerEnv,
    spawnWorker(extraEnv = {}) {
      const worker = spawnWorkerProcess({ ...workerEnv, ...extraEnv });
      workers.push(worker);
      return worker;
    },
    activeJobs: () => readPatiently(() => countJobs(['active']), 'the active jobs'),
    async drain(timeoutMs, quietMs = 600) {
      const deadline = Date.now() + timeoutMs;
      let quietSince: number | undefined;
      await waitFor(
        async () => {
          const pending = !(await isIdle(ghl)) || !(await isIdle(tp));
          // A count that Redis could not answer (restarting, or the box too slow) is no sign of quiet.
          const busy = pending ? 1 : await countJobs(['waiting', 'active', 'delayed', 'prioritized']).catch(busyOnTrouble);
          if (busy > 0) {
            quietSince = undefined;
            return undefined;
          }
          quietSince ??= Date.now();
          return Date.now() - quietSince >= quietMs ? true : undefined;
        },
        Math.max(0, deadline - Date.now()),
        'every queue to drain',
      ).catch(async (error: unknown) => {
        const busy = await describeBusy().catch((trouble: unknown) => `unknown (${trouble instanceof Error ? trouble.message : String(trouble)})`);
        throw new Error(`${error instanceof Error ? error.message : String(error)}; still busy: ${busy}`);
      });
    },
    effects(contactIds) {
      const result: ContactEffects = {
        contacts: contactIds.length,
        duplicateNotes: 0,
        duplicateTasks: 0,
        contactsWithDuplicates: [],
        missingNotes: 0,
        missingTasks: 0,
        contactsMissing: [],
      };
      for (const contactId of contactIds) {
        const notes = ghl.store.listNotes(contactId).length;
        const tasks = ghl.store.listTasks(contactId).length;
        result.duplicateNotes += Math.max(0, notes - 1);
        result.duplicateTasks += Math.max(0, tasks - 1);
        if (notes > 1 || tasks > 1) result.contactsWithDuplicates.push(contactId);
        if (notes === 0) result.missingNotes += 1;
        if (tasks === 0) result.missingTasks += 1;
        if (notes === 0 || tasks === 0) result.contactsMissing.push(contactId);
      }
      return result;
    },
    runStats: () => readPatiently(readRunStats, 'how often jobs ran'),
    deadLetters: () => readPatiently(() => bridge.container.deadLetters.list(20), 'the dead letters'),
    close: cleanUp,
  };
}

/** Passing Redis trouble during drain()'s count reads as work still pending; anything else is thrown. */
function busyOnTrouble(error: unknown): number {
  if (isPassingRedisTrouble(error)) return 1;
  throw error;
}

/** Queues that hold a job scheduler's next run, which is not pending work. */
const SCHEDULED_QUEUES = new Set<string>([QUEUE_NAMES.opinionStagePoll, QUEUE_NAMES.trustpilotPoll, QUEUE_NAMES.reconcile]);

/** A loopback endpoint for ALERT_WEBHOOK_URL that keeps what it receives. */
async function startAlertReceiver(into: ReceivedAlert[]): Promise<{ url: string; server: Server }> {
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      try {
        into.push(ReceivedAlertSchema.parse(JSON.parse(Buffer.concat(chunks).toString('utf8'))));
        response.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
      } catch {
        response.writeHead(400, { 'content-type': 'application/json' }).end('{"ok":false}');
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the alert receiver is not listening on TCP');
  return { url: `http://127.0.0.1:${address.port}/alerts`, server };
}

/** True when the simulator has no webhook delivery pending (retries included). */
async function isIdle(simulator: { idle(): Promise<void> }): Promise<boolean> {
  // idle() resolves at once when nothing is pending; a pending delivery keeps it open past setImmediate.
  return Promise.race([simulator.idle().then(() => true), new Promise<boolean>((resolve) => setImmediate(() => resolve(false)))]);
}

/** `ghl-bridge worker` as its own OS process, with only the environment given (no .env, no parent env). */
export function spawnWorkerProcess(env: Record<string, string>): WorkerProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'worker'], {
    cwd: PROJECT_ROOT,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const logs: string[] = [];
  let partial = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    const lines = (partial + chunk.toString('utf8')).split('\n');
    partial = lines.pop() ?? '';
    logs.push(...lines.filter((line) => line.length > 0));
  });
  const exited = new Promise<WorkerExit>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal, at: Date.now() }));
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error('the worker process did not start');
  return {
    pid,
    child,
    logs,
    exited,
    isRunning: () => child.exitCode === null && child.signalCode === null,
    async stop(signal) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** How many log lines of the given processes carry this message. */
export function countLogLines(workers: WorkerProcess[], message: string): number {
  return workers.reduce((sum, worker) => sum + worker.logs.filter((line) => line.includes(message)).length, 0);
}
