/**
 * A real redis-server for tests, on a free loopback port, with its data in a temporary folder.
 * AOF is on (as in production) so restart tests can prove that nothing accepted is lost.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { Redis } from 'ioredis';
import { waitUntil } from './wait.js';

export interface RedisServerHandle {
  readonly port: number;
  readonly url: string;
  /** Graceful shutdown (SHUTDOWN, AOF flushed), then start again on the same port and data. */
  restart(): Promise<void>;
  /** Stops the server and leaves it stopped until `start()`. */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Freezes the process (SIGSTOP): connections stay open but nothing answers, like an overloaded Redis. */
  freeze(): void;
  thaw(): void;
  /** Stops the server for good and removes its data. */
  close(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

export async function startRedisServer(): Promise<RedisServerHandle> {
  const port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), 'ghl-bridge-redis-'));
  let child: ChildProcess | undefined;

  async function start(): Promise<void> {
    const proc = spawn(
      process.env.REDIS_SERVER_BIN ?? 'redis-server',
      [
        '--port', String(port),
        '--bind', '127.0.0.1',
        '--dir', dir,
        '--appendonly', 'yes',
        '--appendfsync', 'everysec',
        '--maxmemory-policy', 'noeviction',
        '--save', '',
        '--protected-mode', 'yes',
        '--loglevel', 'warning',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    child = proc;
    let stderr = '';
    proc.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const exited = new Promise<never>((_, reject) =>
      proc.once('exit', (code) => reject(new Error(`redis-server exited (${code}): ${stderr.trim()}`))),
    );
    exited.catch(() => undefined);
    await Promise.race([waitForPing(port), exited]);
  }

  async function stop(): Promise<void> {
    const proc = child;
    if (!proc || proc.exitCode !== null) return;
    const gone = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.call('SHUTDOWN', 'NOSAVE').catch(() => undefined);
    } catch {
      proc.kill('SIGTERM');
    } finally {
      client.disconnect();
    }
    const deadline = setTimeout(() => proc.kill('SIGKILL'), 5_000);
    await gone;
    clearTimeout(deadline);
    child = undefined;
  }

  await start();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    start,
    stop,
    async restart() {
      await stop();
      await start();
    },
    freeze() {
      child?.kill('SIGSTOP');
    },
    thaw() {
      child?.kill('SIGCONT');
    },
    async close() {
      child?.kill('SIGCONT');
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function waitForPing(port: number): Promise<void> {
  await waitUntil(
    async () => {
      const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      client.on('error', () => undefined);
      try {
        await client.connect();
        // A server still loading its AOF answers LOADING; wait until it really serves.
        return (await client.ping()) === 'PONG';
      } catch {
        return false; // not up yet
      } finally {
        client.disconnect();
      }
    },
    `redis-server on port ${port} to answer PING`,
    10_000,
    50,
  );
}

/** A redis-server for one test file: `url` of the running server and `connect()` for another connection. */
export interface FileRedis {
  readonly url: string;
  /** A new connection (one retry per command, errors swallowed), quit when the file ends. */
  connect(): Redis;
}

/** Starts a redis-server before the file's first test and stops it, with its connections, after the last. */
export function useRedisServer(): FileRedis {
  let server: RedisServerHandle | undefined;
  const connections: Redis[] = [];
  before(async () => {
    server = await startRedisServer();
  });
  after(async () => {
    await Promise.all(connections.map((connection) => connection.quit()));
    await server?.close();
  });
  const url = (): string => {
    if (server === undefined) throw new Error('the redis-server starts in before()');
    return server.url;
  };
  return {
    get url() {
      return url();
    },
    connect() {
      const connection = new Redis(url(), { maxRetriesPerRequest: 1 });
      connection.on('error', () => undefined);
      connections.push(connection);
      return connection;
    },
  };
}
