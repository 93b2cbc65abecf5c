/**
 * A real three-master Redis Cluster for tests: three `redis-server --cluster-enabled yes` on free
 * loopback ports, each with AOF in its own temporary folder, joined by `redis-cli --cluster create`
 * (no replicas). `kill(i)` SIGKILLs one master and `start(i)` brings it back on the same port, node
 * config and AOF, as an operator's restart would.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Cluster, Redis } from 'ioredis';
import { freePort, startRedisServer } from './redis-server.js';

const run = promisify(execFile);
/** How long a node may take to stop on SIGTERM before it is SIGKILLed. */
const STOP_DEADLINE_MS = 5_000;

export interface RedisClusterHandle {
  readonly ports: readonly number[];
  /** The value of REDIS_CLUSTER_NODES: `127.0.0.1:P1,127.0.0.1:P2,127.0.0.1:P3`. */
  readonly nodes: string;
  /** A cluster client for assertions (close it with `quit()`). */
  client(): Cluster;
  /** SIGKILLs master `index` (0-2): no shutdown, no final AOF write beyond what `everysec` flushed. */
  kill(index: number): Promise<void>;
  /** Starts master `index` again on its port, node config and AOF, and waits until the cluster is ok. */
  start(index: number): Promise<void>;
  /** True once a running node reports `cluster_state:fail` (a master it cannot reach, say). */
  failed(): Promise<boolean>;
  /** The index of the master serving `key`'s slot. */
  ownerOf(key: string): Promise<number>;
  /** Stops every node and removes their data. */
  close(): Promise<void>;
}

function redisCliBin(): string {
  const server = process.env.REDIS_SERVER_BIN;
  return server ? join(server, '..', 'redis-cli') : 'redis-cli';
}

export async function startRedisCluster(): Promise<RedisClusterHandle> {
  const root = await mkdtemp(join(tmpdir(), 'ghl-bridge-cluster-'));
  const ports: number[] = [];
  while (ports.length < 3) {
    const port = await freePort();
    // Redis Cluster also listens on port + 10000 (the bus): both must be free.
    if (port <= 55_535 && !ports.includes(port)) ports.push(port);
  }
  const children: (ChildProcess | undefined)[] = [undefined, undefined, undefined];

  async function startNode(index: number): Promise<void> {
    const port = ports[index] ?? 0;
    const dir = join(root, String(port));
    await mkdir(dir, { recursive: true });
    const proc = spawn(
      process.env.REDIS_SERVER_BIN ?? 'redis-server',
      [
        '--port', String(port),
        '--bind', '127.0.0.1',
        '--dir', dir,
        '--cluster-enabled', 'yes',
        '--cluster-config-file', 'nodes.conf',
        // Shorter than the default 15 s, so a node killed in a test is noticed and healed quickly.
        '--cluster-node-timeout', '3000',
        '--appendonly', 'yes',
        '--appendfsync', 'everysec',
        '--maxmemory-policy', 'noeviction',
        '--save', '',
        '--loglevel', 'warning',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    children[index] = proc;
    let stderr = '';
    proc.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const exited = new Promise<never>((_, reject) => proc.once('exit', (code) => reject(new Error(`redis-server :${port} exited (${code}): ${stderr.trim()}`))));
    exited.catch(() => undefined);
    await Promise.race([waitForPing(port), exited]);
  }

  async function stopNode(index: number, signal: NodeJS.Signals): Promise<void> {
    const proc = children[index];
    children[index] = undefined;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const gone = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    proc.kill(signal);
    // A node that does not stop on SIGTERM within the deadline (a long AOF rewrite) is killed.
    const timer = signal === 'SIGKILL' ? undefined : setTimeout(() => proc.kill('SIGKILL'), STOP_DEADLINE_MS);
    await gone;
    clearTimeout(timer);
  }

  try {
    await Promise.all(ports.map((_, index) => startNode(index)));
    await run(redisCliBin(), ['--cluster', 'create', ...ports.map((port) => `127.0.0.1:${port}`), '--cluster-replicas', '0', '--cluster-yes']);
    await waitForClusterOk(ports);
  } catch (error) {
    await Promise.all(ports.map((_, index) => stopNode(index, 'SIGKILL')));
    await rm(root, { recursive: true, force: true });
    throw error;
  }

  return {
    ports,
    nodes: ports.map((port) => `127.0.0.1:${port}`).join(','),
    client: () => new Cluster(ports.map((port) => ({ host: '127.0.0.1', port })), { redisOptions: { maxRetriesPerRequest: 3 } }),
    kill: (index) => stopNode(index, 'SIGKILL'),
    async failed() {
      const live = ports.filter((_, index) => children[index] !== undefined);
      const states = await Promise.all(live.map((port) => withClient(port, async (client) => String(await client.call('CLUSTER', 'INFO')))));
      return states.some((info) => info?.includes('cluster_state:fail'));
    },
    async ownerOf(key) {
      const client = new Cluster(ports.map((port) => ({ host: '127.0.0.1', port })));
      try {
        const slot = Number(await client.call('CLUSTER', 'KEYSLOT', key));
        await client.ping();
        const port = client.slots[slot]?.[0]?.split(':')[1];
        const index = ports.indexOf(Number(port));
        if (index < 0) throw new Error(`no master found for slot ${slot}`);
        return index;
      } finally {
        client.disconnect();
      }
    },
    async start(index) {
      await startNode(index);
      await waitForClusterOk(ports);
    },
    async close() {
      await Promise.all(ports.map((_, index) => stopNode(index, 'SIGTERM')));
      await rm(root, { recursive: true, force: true });
    },
  };
}

async function withClient<T>(port: number, body: (client: Redis) => Promise<T>): Promise<T | undefined> {
  const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return await body(client);
  } catch {
    return undefined;
  } finally {
    client.disconnect();
  }
}

async function waitForPing(port: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if ((await withClient(port, (client) => client.ping())) === 'PONG') return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`redis-server on port ${port} did not answer within 10 s`);
}

/** Every node reports `cluster_state:ok` (all slots served and agreed on). */
async function waitForClusterOk(ports: readonly number[]): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const states = await Promise.all(ports.map((port) => withClient(port, async (client) => String(await client.call('CLUSTER', 'INFO')))));
    if (states.every((info) => info?.includes('cluster_state:ok'))) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`the cluster on ports ${ports.join(', ')} did not reach cluster_state:ok within 30 s`);
}

/**
 * The Redis a parametrised test runs on: a single server, or with `TEST_REDIS_CLUSTER=1` (set by the
 * files under test/cluster/) a three-master cluster. A cluster's `url` is `redis-cluster://<nodes>`,
 * which `startTestBridge` turns into REDIS_CLUSTER_NODES and `testRedisClient` into a Cluster client.
 */
export interface TestRedis {
  readonly url: string;
  readonly cluster: RedisClusterHandle | undefined;
  /**
   * Takes Redis away: a single server shuts down gracefully; on a cluster the master serving `key`
   * (default: the first master) is SIGKILLed.
   */
  stop(key?: string): Promise<void>;
  /** Brings it back on the same port and AOF (a cluster: until `cluster_state:ok` again). */
  start(): Promise<void>;
  close(): Promise<void>;
}

const CLUSTER_URL = 'redis-cluster://';

export function testOnCluster(): boolean {
  return process.env.TEST_REDIS_CLUSTER === '1';
}

export async function startTestRedis(): Promise<TestRedis> {
  if (!testOnCluster()) {
    const server = await startRedisServer();
    return { url: server.url, cluster: undefined, stop: () => server.stop(), start: () => server.start(), close: () => server.close() };
  }
  const cluster = await startRedisCluster();
  let stopped = 0;
  return {
    url: `${CLUSTER_URL}${cluster.nodes}`,
    cluster,
    async stop(key) {
      stopped = key === undefined ? 0 : await cluster.ownerOf(key);
      await cluster.kill(stopped);
    },
    start: () => cluster.start(stopped),
    close: () => cluster.close(),
  };
}

/** The cluster seed nodes a test URL names, if it is a cluster's. */
export function clusterNodesOf(url: string): string | undefined {
  return url.startsWith(CLUSTER_URL) ? url.slice(CLUSTER_URL.length) : undefined;
}

/** A client for assertions on whichever Redis a test runs on. */
export function testRedisClient(url: string, options: { maxRetriesPerRequest?: number | null } = {}): Redis | Cluster {
  const nodes = clusterNodesOf(url);
  if (nodes === undefined) return new Redis(url, options);
  return new Cluster(
    nodes.split(',').map((node) => {
      const [host = '127.0.0.1', port = '0'] = node.split(':');
      return { host, port: Number(port) };
    }),
    { redisOptions: options },
  );
}
