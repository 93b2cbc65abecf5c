/**
 * Makes sure a Redis is reachable for `npm start` (CONTRACT.md "Commands"):
 * REDIS_URL if it answers PING, else our own redis-server under .data/redis, installing Debian's
 * package first when we are root with apt-get, else a clear message on how to get Redis.
 * With REDIS_CLUSTER_NODES set the service runs on that cluster: no local Redis is started, and a
 * cluster none of whose seed nodes answers stops `npm start` with a clear message.
 * Run directly (`node scripts/lib/ensure-redis.mjs`) it starts Redis and keeps it until Ctrl-C.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, isIP, connect as netConnect } from 'node:net';
import { join, resolve } from 'node:path';
import process from 'node:process';
import { connect as tlsConnect } from 'node:tls';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { envValue } from './dotenv.mjs';
import { fail, log, warn } from './log.mjs';
import { projectRoot } from './paths.mjs';
import { which } from './run.mjs';

const DEFAULT_PORT = 6379;
const HOW_TO_GET_REDIS =
  'Redis is required and none could be found or installed. Either install it ' +
  '(Debian/Ubuntu: sudo apt-get install redis-server; macOS: brew install redis) ' +
  'or point the bridge at one with REDIS_URL=redis://host:6379 (in the environment or in .env).';

/** The URL with any password replaced, safe to print. */
export function redactRedisUrl(url) {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparseable REDIS_URL)';
  }
}

function encodeCommand(args) {
  return `*${args.length}\r\n` + args.map((arg) => `$${Buffer.byteLength(arg)}\r\n${arg}\r\n`).join('');
}

/**
 * Sends (AUTH and) PING over RESP; resolves `{ ok: true }` on +PONG, else `{ ok: false, reason }`.
 * The reason never contains the password: it is Redis's own error line or a socket error code.
 */
export function pingRedis(url, { timeoutMs = 2000 } = {}) {
  let parsed;
  try {
    parsed = new URL(url);
  } catch {
    return Promise.resolve({ ok: false, reason: 'not a valid URL' });
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    return Promise.resolve({ ok: false, reason: 'expected a redis:// or rediss:// URL' });
  }
  const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1') || '127.0.0.1';
  const port = Number(parsed.port || DEFAULT_PORT);
  const username = decodeURIComponent(parsed.username);
  const password = decodeURIComponent(parsed.password);
  const commands = [];
  if (password) commands.push(username ? ['AUTH', username, password] : ['AUTH', password]);
  commands.push(['PING']);

  return new Promise((resolvePing) => {
    const socket =
      parsed.protocol === 'rediss:'
        ? tlsConnect({ host, port, ...(isIP(host) ? {} : { servername: host }) })
        : netConnect({ host, port });
    let buffered = '';
    let settled = false;
    const finish = (result) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolvePing(result);
    };
    const timer = setTimeout(() => finish({ ok: false, reason: `no answer within ${timeoutMs} ms` }), timeoutMs);
    socket.once(parsed.protocol === 'rediss:' ? 'secureConnect' : 'connect', () => {
      socket.write(commands.map(encodeCommand).join(''));
    });
    socket.on('data', (chunk) => {
      buffered += chunk.toString('utf8');
      // AUTH and PING answer with one-line replies (+OK / +PONG / -ERR ...).
      const lines = buffered.split('\r\n');
      if (lines.length <= commands.length) return;
      const replies = lines.slice(0, commands.length);
      const error = replies.find((reply) => reply.startsWith('-'));
      if (error) finish({ ok: false, reason: error.slice(1).slice(0, 200) });
      else if (replies.at(-1) === '+PONG') finish({ ok: true });
      else finish({ ok: false, reason: 'unexpected reply to PING' });
    });
    socket.once('error', (error) => finish({ ok: false, reason: error.code ?? error.message }));
    socket.once('close', () => finish({ ok: false, reason: 'connection closed' }));
  });
}

function isPortFree(port) {
  return new Promise((resolvePort) => {
    const server = createServer();
    server.once('error', () => resolvePort(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolvePort(true)));
  });
}

function freePort() {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolvePort(address.port));
    });
  });
}

function isRoot() {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/**
 * Returns the path of a redis-server binary, installing Debian's package when it is missing
 * and we are root with apt-get; undefined when there is none and we cannot install one.
 */
export function ensureRedisBinary() {
  const found = process.env.REDIS_SERVER_BIN || which('redis-server');
  if (found) return found;
  if (!isRoot() || !which('apt-get')) return undefined;

  log('redis-server not found: installing Debian\'s redis-server with apt-get');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const update = spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  if (update.status !== 0) warn('apt-get update failed; trying the install anyway');
  const install = spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'redis-server'], {
    stdio: 'inherit',
    env,
  });
  if (install.status !== 0) {
    warn(`apt-get install redis-server failed (exit ${install.status ?? install.signal})`);
    return undefined;
  }
  return which('redis-server') ?? '/usr/bin/redis-server';
}

function readState(stateFile) {
  try {
    const state = JSON.parse(readFileSync(stateFile, 'utf8'));
    return Number.isInteger(state.pid) && Number.isInteger(state.port) ? state : undefined;
  } catch {
    return undefined;
  }
}

function isAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function logTail(logFile) {
  try {
    return readFileSync(logFile, 'utf8').trim().split('\n').slice(-5).join('\n');
  } catch {
    return '';
  }
}

/**
 * Starts redis-server on 127.0.0.1 (6379 when free, else a free port) with AOF on, data in `dataDir`.
 * Resolves `{ url, started, stop }`; `stop()` shuts it down gracefully (SIGTERM flushes the AOF).
 */
export async function startLocalRedis({ bin, dataDir, readyTimeoutMs = 30_000 }) {
  const dir = resolve(dataDir);
  mkdirSync(dir, { recursive: true });
  const stateFile = join(dir, 'server.json');
  const logFile = join(dir, 'redis.log');

  // A redis-server left behind by an earlier run that was killed owns this data folder: share it
  // rather than start a second server on the same AOF files, and leave it running as we found it.
  const previous = readState(stateFile);
  if (previous && isAlive(previous.pid)) {
    const url = `redis://127.0.0.1:${previous.port}`;
    if ((await pingRedis(url)).ok) {
      log(`reusing the redis-server already running on ${dataDir} (pid ${previous.pid}, ${url})`);
      return { url, started: false, stop: async () => undefined };
    }
  }

  const port = (await isPortFree(DEFAULT_PORT)) ? DEFAULT_PORT : await freePort();
  const args = [
    '--port', String(port),
    '--bind', '127.0.0.1',
    '--protected-mode', 'yes',
    '--dir', dir,
    '--appendonly', 'yes',
    '--appendfsync', 'everysec',
    '--maxmemory-policy', 'noeviction',
    '--save', '',
    '--daemonize', 'no',
    '--logfile', logFile,
  ];
  // Own process group: a Ctrl-C in the terminal must not kill Redis before the service has drained.
  const child = spawn(bin, args, { detached: true, stdio: 'ignore' });
  let exited = false;
  const exitedPromise = new Promise((resolveExit) => {
    child.once('exit', (code, signal) => {
      exited = true;
      resolveExit({ code, signal });
    });
    child.once('error', (error) => {
      exited = true;
      resolveExit({ code: null, signal: null, error });
    });
  });
  // Last resort if this process ends without calling stop() (an uncaught error, process.exit).
  const killOnExit = () => {
    if (!exited && child.pid) {
      try {
        process.kill(child.pid, 'SIGTERM');
      } catch {
        // already gone
      }
    }
  };
  process.once('exit', killOnExit);

  const url = `redis://127.0.0.1:${port}`;
  const deadline = Date.now() + readyTimeoutMs;
  let last = { ok: false, reason: 'not started' };
  while (!exited && Date.now() < deadline) {
    last = await pingRedis(url, { timeoutMs: 1000 });
    if (last.ok) break;
    await sleep(100);
  }
  if (!last.ok) {
    killOnExit();
    process.removeListener('exit', killOnExit);
    const outcome = exited ? await exitedPromise : undefined;
    const why = outcome?.error ? outcome.error.message : exited ? `it exited (${outcome.code ?? outcome.signal})` : `no PING answer within ${readyTimeoutMs} ms (${last.reason})`;
    const tail = logTail(logFile);
    throw new Error(`redis-server did not start: ${why}${tail ? `\n${tail}` : ''}`);
  }
  writeFileSync(stateFile, JSON.stringify({ pid: child.pid, port }) + '\n');

  async function stop() {
    process.removeListener('exit', killOnExit);
    if (!exited) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exitedPromise;
      clearTimeout(timer);
    }
    rmSync(stateFile, { force: true });
  }
  return { url, started: true, stop };
}

/**
 * The seed nodes of REDIS_CLUSTER_NODES (`host:port,…`) that answer PING: `{ ok: true, seeds }` as
 * soon as one does (the service discovers the rest), else `{ ok: false, seeds, reason }`.
 */
export async function pingClusterSeeds(text) {
  const seeds = text.split(',').map((part) => part.trim()).filter((part) => part.length > 0);
  const reasons = [];
  for (const seed of seeds) {
    const result = await pingRedis(`redis://${seed}`);
    if (result.ok) return { ok: true, seeds };
    reasons.push(`${seed}: ${result.reason}`);
  }
  return { ok: false, seeds, reason: reasons.join('; ') || 'no seed node given' };
}

/**
 * The Redis for `npm start`: the cluster of REDIS_CLUSTER_NODES when set (`url` is then undefined),
 * else REDIS_URL (environment, else .env) when it answers PING, else a redis-server of our own.
 * Exits the process with a clear message when none works.
 */
export async function ensureRedis(root = projectRoot) {
  const clusterNodes = envValue(root, 'REDIS_CLUSTER_NODES');
  if (clusterNodes && clusterNodes.trim() !== '') {
    const cluster = await pingClusterSeeds(clusterNodes);
    if (!cluster.ok) {
      fail(`REDIS_CLUSTER_NODES is set, but none of its seed nodes answered PING (${cluster.reason}): start the cluster, or unset REDIS_CLUSTER_NODES to use a single Redis`);
    }
    log(`using the Redis Cluster at ${cluster.seeds.join(',')} (REDIS_CLUSTER_NODES; REDIS_URL is ignored)`);
    return { url: undefined, started: false, stop: async () => undefined };
  }
  const configured = envValue(root, 'REDIS_URL');
  if (configured) {
    const result = await pingRedis(configured);
    if (result.ok) {
      log(`using Redis at ${redactRedisUrl(configured)}`);
      return { url: configured, started: false, stop: async () => undefined };
    }
    warn(`REDIS_URL ${redactRedisUrl(configured)} did not answer PING (${result.reason}); starting a local redis-server instead`);
  }

  const bin = ensureRedisBinary();
  if (!bin) fail(HOW_TO_GET_REDIS);
  const dataDir = join(root, '.data', 'redis');
  try {
    const redis = await startLocalRedis({ bin, dataDir });
    if (redis.started) log(`started redis-server at ${redis.url} (data in .data/redis, AOF on)`);
    return redis;
  } catch (error) {
    return fail(error instanceof Error ? error.message : String(error));
  }
}

// `node scripts/lib/ensure-redis.mjs`: start (or find) Redis, print its URL, stop it on Ctrl-C.
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const redis = await ensureRedis();
  if (redis.url) console.log(redactRedisUrl(redis.url));
  if (redis.started) {
    log('press Ctrl-C to stop redis-server');
    await new Promise((resolveSignal) => {
      process.once('SIGINT', resolveSignal);
      process.once('SIGTERM', resolveSignal);
    });
    await redis.stop();
    log('redis-server stopped');
  }
}
