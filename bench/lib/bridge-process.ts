/**
 * The bridge as production runs it: `node --import tsx src/main.ts <mode>` in its own process, so
 * the load generator and the bridge never share an event loop. Also the bare Fastify baseline.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { serviceNodeFlags } from '../../scripts/lib/service-flags.mjs';
import { freePort } from '../../test/helpers/redis-server.js';

export const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface ChildServer {
  url: string;
  pid: number;
  /** From spawn until /health answered (module loading, Redis connections). */
  startupMs: number;
  /** Resident set size in MB, from /proc (Linux), of the process and its children (WEB_PROCESSES > 1). */
  rssMb(): number;
  /** CPU time used so far (user + system) in ms, from /proc (Linux), of the process and its children. */
  cpuMs(): number;
  /** SIGTERM, wait for a clean exit (a CPU profile is written then). */
  stop(): Promise<void>;
}

export interface StartOptions {
  /** `src/main.ts` with args, or another script. */
  script: string;
  args?: string[];
  env: Record<string, string>;
  /** Extra node flags, e.g. `--cpu-prof`. */
  nodeFlags?: string[];
  readyPath?: string;
  /** Cores the process may run on (`taskset -c`), all its threads; unset: any. */
  cpus?: string;
}

export async function startChild(options: StartOptions): Promise<ChildServer> {
  const port = await freePort();
  const spawnedAt = performance.now();
  // TypeScript through tsx (the bare baseline); the service itself as `npm start` runs it, built.
  const loader = options.script.endsWith('.ts') ? ['--import', 'tsx'] : [];
  const argv = [...(options.nodeFlags ?? []), ...loader, options.script, ...(options.args ?? [])];
  // taskset runs node in its own place (exec), so the pid is node's from the start.
  const [command, commandArgs] = options.cpus === undefined ? [process.execPath, argv] : ['taskset', ['-c', options.cpus, process.execPath, ...argv]];
  const child: ChildProcess = spawn(command, commandArgs, {
    cwd: PROJECT_ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...options.env, PORT: String(port), HOST: '127.0.0.1' },
    // The bridge logs one line per request at info (production default): written, then dropped.
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-4_000);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${options.script} ${options.args?.join(' ') ?? ''} exited (${child.exitCode}): ${stderr.trim()}`);
    try {
      const response = await request(`${url}${options.readyPath ?? '/health'}`);
      await response.body.dump();
      if (response.statusCode === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${options.script} did not answer within 60 s: ${stderr.trim()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const pid = child.pid ?? 0;
  return {
    url,
    pid,
    startupMs: performance.now() - spawnedAt,
    rssMb: () => [pid, ...childPids(pid)].reduce((sum, each) => sum + rssMbOf(each), 0),
    cpuMs: () => [pid, ...childPids(pid)].reduce((sum, each) => sum + cpuMsOf(each), 0),
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 40_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Direct children (Linux): the processes a cluster primary forked. */
export function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** Clock ticks per second of /proc/<pid>/stat on Linux (USER_HZ). */
const USER_HZ = 100;

/** utime + stime of one process in ms; 0 once it is gone. Counted per process, so it does not depend on how busy the machine is. */
export function cpuMsOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start at state; utime and stime are the 14th and 15th fields.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / USER_HZ;
  } catch {
    return 0;
  }
}

export function rssMbOf(pid: number): number {
  try {
    const match = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/** Environment for a private-token bridge serving one location, with quiet defaults for benchmarks. */
export function bridgeEnv(input: {
  redisUrl: string;
  prefix: string;
  ghlUrl: string;
  locationId: string;
  token: string;
  ed25519Pem: string;
  rsaPem: string;
  extra?: Record<string, string>;
}): Record<string, string> {
  return {
    REDIS_URL: input.redisUrl,
    REDIS_PREFIX: input.prefix,
    SANDBOX: 'false',
    GHL_API_BASE_URL: input.ghlUrl,
    GHL_PRIVATE_TOKEN: input.token,
    GHL_LOCATION_ID: input.locationId,
    GHL_WEBHOOK_ED25519_PUBLIC_KEY: input.ed25519Pem,
    GHL_WEBHOOK_PUBLIC_KEY: input.rsaPem,
    RECONCILE_INTERVAL: '0',
    ...input.extra,
  };
}

/**
 * Node flags for the service under test: those `npm start` uses, or BENCH_NODE_FLAGS to compare
 * others (`BENCH_NODE_FLAGS=none` for V8's defaults).
 */
export function benchNodeFlags(): string[] {
  const override = process.env.BENCH_NODE_FLAGS;
  if (override === undefined || override === '') return serviceNodeFlags('');
  return override === 'none' ? [] : override.split(' ').filter(Boolean);
}

export interface WorkerProcess {
  pid: number;
  cpuMs(): number;
  rssMb(): number;
  stop(): Promise<void>;
}

/**
 * `ghl-bridge worker` (dist/main.js, the service's node flags): it serves no HTTP, so it counts as
 * started once it logs `ghl-bridge started` (its stdout is read for that line, then dropped).
 */
export async function startWorkerProcess(env: Record<string, string>): Promise<WorkerProcess> {
  const child: ChildProcess = spawn(process.execPath, [...benchNodeFlags(), 'dist/main.js', 'worker'], {
    cwd: PROJECT_ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-4_000);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`worker did not start within 60 s: ${stderr.trim()}`)), 60_000);
    const onData = (chunk: Buffer) => {
      seen = (seen + chunk.toString('utf8')).slice(-8_000);
      if (seen.includes('"ghl-bridge started"')) {
        clearTimeout(timer);
        child.stdout?.off('data', onData);
        child.stdout?.resume();
        resolve();
      }
    };
    child.stdout?.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`worker exited (${code}) before it started: ${stderr.trim()}`));
    });
  });
  const pid = child.pid ?? 0;
  return {
    pid,
    cpuMs: () => cpuMsOf(pid),
    rssMb: () => rssMbOf(pid),
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 40_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
