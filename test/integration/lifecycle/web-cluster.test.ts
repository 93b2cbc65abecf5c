/**
 * WEB_PROCESSES: `web` runs that many processes on one port. Every one of them answers webhooks
 * (seen from the server side: each holds some of the accepted connections and all answers are
 * stored jobs), and SIGTERM to the primary stops them all, the primary exiting 0 after they have.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { Pool, request } from 'undici';
import { QUEUE_NAMES } from '../../../src/queue/catalog.js';
import { waitFor } from '../../helpers/wait.js';
import { countQueuedOrInbox, missingFromQueueAndInbox } from '../../helpers/inbox.js';
import { inboxDepth } from '../../../src/queue/inbox.js';
import { createTestSigner, signedEvent } from '../../helpers/ghl-signing.js';
import { freePort, startRedisServer, type RedisServerHandle } from '../../helpers/redis-server.js';

const MAIN = new URL('../../../src/main.ts', import.meta.url).pathname;
const LOCATION_ID = 'locCluster0000000000001';
const PROCESSES = 2;

/** Child pids of a process (Linux). */
function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** Socket inodes of the established TCP connections whose local port is `port` (server side). */
function serverSocketInodes(port: number): Set<string> {
  const inodes = new Set<string>();
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.trim().split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      const localPort = Number.parseInt(fields[1]?.split(':').at(-1) ?? '', 16);
      if (localPort === port && fields[3] === '01' && fields[9]) inodes.add(fields[9]);
    }
  }
  return inodes;
}

/** How many of `inodes` are open in process `pid`. */
function socketsHeldBy(pid: number, inodes: Set<string>): number {
  let held = 0;
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (match?.[1] && inodes.has(match[1])) held++;
    } catch {
      // closed meanwhile
    }
  }
  return held;
}

/** Sum of the samples of `name` whose labels include `labels`, from Prometheus text. */
function sampleSum(text: string, name: string, labels: Record<string, string>): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    const match = /^([a-z_]+)\{([^}]*)\} (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const have = new Map([...(match[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((pair) => [pair[1], pair[2]]));
    if (Object.entries(labels).every(([key, value]) => have.get(key) === value)) sum += Number(match[3]);
  }
  return sum;
}

describe('web cluster (WEB_PROCESSES)', () => {
  let redis: RedisServerHandle;
  let state: Redis;
  let primary: ChildProcess;
  let port: number;
  let url: string;
  const prefix = `test-cluster-${process.pid}-${Date.now()}`;

  before(async () => {
    redis = await startRedisServer();
    state = new Redis(redis.url);
    port = await freePort();
    url = `http://127.0.0.1:${port}`;
    const signer = createTestSigner();
    primary = spawn(process.execPath, ['--import', 'tsx', MAIN, 'web'], {
      env: {
        PATH: process.env.PATH,
        REDIS_URL: redis.url,
        REDIS_PREFIX: prefix,
        HOST: '127.0.0.1',
        PORT: String(port),
        SANDBOX: 'false',
        GHL_PRIVATE_TOKEN: 'pit-cluster-token-000001',
        GHL_LOCATION_ID: LOCATION_ID,
        GHL_WEBHOOK_ED25519_PUBLIC_KEY: signer.ed25519PublicKeyPem,
        GHL_WEBHOOK_PUBLIC_KEY: signer.rsaPublicKeyPem,
        RECONCILE_INTERVAL: '0',
        WEB_PROCESSES: String(PROCESSES),
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    await waitFor(
      async () => {
        if (primary.exitCode !== null) throw new Error(`the primary exited with ${primary.exitCode}`);
        try {
          const health = await request(`${url}/health`);
          await health.body.dump();
          return health.statusCode === 200 && childrenOf(primary.pid ?? 0).length === PROCESSES ? true : undefined;
        } catch {
          return undefined;
        }
      },
      60_000,
      'the web processes to listen',
    );
  });

  after(async () => {
    if (primary.exitCode === null && primary.signalCode === null) {
      for (const pid of childrenOf(primary.pid ?? 0)) process.kill(pid, 'SIGKILL');
      primary.kill('SIGKILL');
    }
    state.disconnect();
    await redis.close();
  });

  test(`${PROCESSES} processes answer webhooks, each stored as the job it names`, async () => {
    const workers = childrenOf(primary.pid ?? 0);
    assert.equal(workers.length, PROCESSES);
    const queue = new Queue(QUEUE_NAMES.ghlWebhooks, { connection: state, prefix });
    try {
      /** Posts a round of webhooks over 8 fresh connections; how many of them each process holds. */
      const round = async (): Promise<number[]> => {
        const pool = new Pool(url, { connections: 8, pipelining: 1 });
        try {
          const events = Array.from({ length: 16 }, () => signedEvent('ContactCreate', { locationId: LOCATION_ID }, 'ed25519'));
          const answers = await Promise.all(
            events.map(async (event) => {
              const response = await pool.request({ path: '/webhooks/ghl', method: 'POST', headers: event.headers, body: event.body });
              return { status: response.statusCode, json: JSON.parse(await response.body.text()) as { status?: string; id?: string } };
            }),
          );
          assert.ok(answers.every((answer) => answer.status === 200 && answer.json.status === 'accepted'), JSON.stringify(answers.find((answer) => answer.status !== 200)));
          // Web processes only: no pump runs, so what they accepted waits in the inbox (or is a job).
          assert.deepEqual(await missingFromQueueAndInbox(queue, answers.map((answer) => answer.json.id ?? '')), [], 'every answered id is stored');
          const inodes = serverSocketInodes(port);
          return workers.map((pid) => socketsHeldBy(pid, inodes));
        } finally {
          await pool.close();
        }
      };
      // The primary hands connections out round-robin among the processes that are listening; the
      // last one may still be starting when /health first answers, so rounds repeat until it shares.
      const held = await waitFor(async () => {
        const counts = await round();
        return counts.every((count) => count > 0) ? counts : undefined;
      }, 30_000, 'every process to hold answered connections');
      assert.equal(held.length, PROCESSES);
    } finally {
      await queue.close();
    }
  });

  test('/metrics answers for the host: every scrape counts every process once, and queue gauges are not summed', async () => {
    const queue = new Queue(QUEUE_NAMES.ghlWebhooks, { connection: state, prefix });
    try {
      // Web processes only: what they accepted waits in the inbox.
      const stored = await countQueuedOrInbox(queue);
      const inInbox = await inboxDepth(queue);
      // Fresh connections: node:cluster spreads the scrapes over the processes.
      const scrapes = await Promise.all(
        Array.from({ length: 8 }, async () => {
          const pool = new Pool(url, { connections: 1 });
          try {
            const response = await pool.request({ path: '/metrics', method: 'GET' });
            assert.equal(response.statusCode, 200);
            return await response.body.text();
          } finally {
            await pool.close();
          }
        }),
      );
      for (const text of scrapes) {
        assert.equal(sampleSum(text, 'ghl_bridge_webhooks_total', { source: 'marketplace', outcome: 'accepted' }), stored, 'accepted webhooks of all processes, once each');
        assert.equal(sampleSum(text, 'ghl_bridge_jobs', { queue: QUEUE_NAMES.ghlWebhooks, state: 'inbox' }), inInbox, 'the inbox gauge, read once');
        assert.equal(text.split('\n').filter((line) => line.startsWith('# TYPE ghl_bridge_jobs ')).length, 1);
      }
    } finally {
      await queue.close();
    }
  });

  test('SIGTERM to the primary stops every process, and the primary exits 0 after them', async () => {
    const workers = childrenOf(primary.pid ?? 0);
    assert.equal(workers.length, PROCESSES);
    const exited = new Promise<number | null>((resolve) => primary.once('exit', (code) => resolve(code)));
    primary.kill('SIGTERM');
    assert.equal(await exited, 0);
    for (const pid of workers) {
      assert.throws(() => process.kill(pid, 0), { code: 'ESRCH' }, `process ${pid} is gone`);
    }
  });
});
