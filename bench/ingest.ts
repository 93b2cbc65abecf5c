/**
 * Benchmark 1, ingest (and the `all` half of benchmark 5, memory): GHL-signed webhooks (Ed25519,
 * then RSA-4096) at 50 connections against the bridge in its own process, baseline a bare Fastify
 * route on the same bodies in the same run. Every `200 accepted` is then looked up in Redis.
 * A CPU profile of the bridge under the Ed25519 load says where the time goes.
 */
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { QUEUE_NAMES } from '../src/queue/catalog.js';
import { startGhlSimulator } from '../src/sandbox/ghl/simulator.js';
import { createTestSigner } from '../test/helpers/ghl-signing.js';
import { startRedisServer } from '../test/helpers/redis-server.js';
import { benchNodeFlags, bridgeEnv, PROJECT_ROOT, startChild, type ChildServer } from './lib/bridge-process.js';
import { summariseProfile, profileMarkdown } from './lib/cpu-profile.js';
import { signedContactEvents } from './lib/events.js';
import { runLoad, type LoadResult, type PreparedRequest } from './lib/load.js';
import { detail, emit, log, marginOf } from './lib/report.js';

/** The service as `npm start` runs it: built, with its node flags (the bare baseline runs through tsx). */
const SERVICE = 'dist/main.js';
const BENCH = 'ingest';
const CONNECTIONS = 50;
const DURATION_MS = Number(process.env.BENCH_INGEST_SECONDS ?? 8) * 1000;
const WARMUP_MS = 1_500;
const ED25519_REQUESTS = Number(process.env.BENCH_INGEST_REQUESTS ?? 60_000);
const RSA_REQUESTS = Number(process.env.BENCH_RSA_REQUESTS ?? 3_000);
/** Which parts run (comma-separated), to iterate on one: ed25519, profile, all, rsa. Default: every part. */
const PARTS = new Set((process.env.BENCH_INGEST_PARTS ?? 'ed25519,profile,all,rsa').split(',').map((part) => part.trim()));
/** The cluster setup measured beside the single process (WEB_PROCESSES); the box has 2 cores. */
const WEB_PROCESSES = Number(process.env.BENCH_WEB_PROCESSES ?? 2);
const LOCATION = { id: 'locBench00000000000001', token: 'pit-bench-ingest-0001' };

const redis = await startRedisServer();
const ghl = await startGhlSimulator({ locations: [LOCATION] });
const contact = ghl.userCreateContact(LOCATION.id, { firstName: 'Ingest', email: 'ingest@example.com' });
const signer = createTestSigner();
const redisClient = new Redis(redis.url);

const envFor = (prefix: string, extra: Record<string, string> = {}) =>
  bridgeEnv({
    redisUrl: redis.url,
    prefix,
    ghlUrl: ghl.url,
    locationId: LOCATION.id,
    token: LOCATION.token,
    ed25519Pem: signer.ed25519PublicKeyPem,
    rsaPem: signer.rsaPublicKeyPem,
    extra,
  });

async function against(server: ChildServer, requests: PreparedRequest[], collectIds: boolean, onTick?: () => void): Promise<LoadResult> {
  const ticker = onTick ? setInterval(onTick, 500) : undefined;
  // Few bodies (RSA): warm up on a share of them, since the bare route would spend them all in the warm-up time.
  const warmup = requests.length < 20_000 ? { warmupRequests: Math.round(requests.length / 5) } : { warmupMs: WARMUP_MS };
  try {
    return await runLoad({ url: `${server.url}/webhooks/ghl`, requests, connections: CONNECTIONS, durationMs: DURATION_MS, ...warmup, collectIds });
  } finally {
    if (ticker) clearInterval(ticker);
    // A last sample covers the end of the run.
    onTick?.();
  }
}

/** Every accepted id must be a job in Redis: "zero lost" means 200 ⇒ stored. */
async function countStored(prefix: string, ids: string[]): Promise<number> {
  let stored = 0;
  for (let start = 0; start < ids.length; start += 5_000) {
    const pipeline = redisClient.pipeline();
    for (const id of ids.slice(start, start + 5_000)) pipeline.exists(`${prefix}:${QUEUE_NAMES.ghlWebhooks}:${id}`);
    for (const [error, value] of (await pipeline.exec()) ?? []) if (!error && value === 1) stored++;
  }
  return stored;
}

function describe(result: LoadResult): string {
  return `${Math.round(result.throughput)} req/s, p50 ${result.p50.toFixed(1)} ms, p99 ${result.p99.toFixed(1)} ms, statuses ${JSON.stringify(result.statuses)}, errors ${result.errors}`;
}

async function scheme(name: 'ed25519' | 'rsa', requests: PreparedRequest[]): Promise<void> {
  const bare = await startChild({ script: 'bench/bare-server.ts', env: {} });
  const bareCpuBefore = bare.cpuMs();
  let bareCpuMs = 0;
  // Sampled while the process lives: /proc forgets it once it has exited.
  const baseline = await against(bare, requests, false, () => (bareCpuMs = bare.cpuMs() - bareCpuBefore)).finally(() => bare.stop());
  const bareCpuUs = (bareCpuMs * 1000) / Math.max(1, baseline.sent);
  log(BENCH, `${name} bare route: ${describe(baseline)}, ${bareCpuUs.toFixed(0)} µs CPU per request`);
  await bridgeRun(name, requests, { ...baseline, cpuUsPerRequest: bareCpuUs }, 1);
  if (WEB_PROCESSES > 1) await bridgeRun(name, requests, { ...baseline, cpuUsPerRequest: bareCpuUs }, WEB_PROCESSES);
}

/** The bridge's `web` with `processes` web processes against the same bodies as the bare route. */
async function bridgeRun(name: 'ed25519' | 'rsa', requests: PreparedRequest[], baseline: LoadResult & { cpuUsPerRequest: number }, processes: number): Promise<void> {
  const setup = processes === 1 ? 'bridge web, 1 process' : `bridge web, WEB_PROCESSES=${processes}`;
  const label = `${name}, ${processes === 1 ? '1 process' : `${processes} processes`}`;
  const prefix = `bench-ingest-${name}-${processes}`;
  const web = await startChild({ script: SERVICE, args: ['web'], env: envFor(prefix, { WEB_PROCESSES: String(processes) }), nodeFlags: benchNodeFlags() });
  let peakWebRss = 0;
  let cpuMs = 0;
  const cpuBefore = web.cpuMs();
  const result = await against(web, requests, true, () => {
    peakWebRss = Math.max(peakWebRss, web.rssMb());
    cpuMs = web.cpuMs() - cpuBefore;
  }).finally(() => web.stop());
  const cpuUsPerRequest = (cpuMs * 1000) / Math.max(1, result.sent);
  log(BENCH, `${name} ${setup}: ${describe(result)}, peak RSS ${peakWebRss.toFixed(0)} MB`);

  const ratio = result.throughput / baseline.throughput;
  emit({ bench: BENCH, figure: `${label}: throughput (${setup} vs bare route)`, value: result.throughput, unit: 'req/s', baseline: baseline.throughput, ratio, target: '≥ 0.5×', ...marginOf(ratio, 0.5, 'higher') });
  emit({ bench: BENCH, figure: `${label}: p99 latency at ${CONNECTIONS} connections`, value: result.p99, unit: 'ms', baseline: baseline.p99, ratio: result.p99 / baseline.p99, target: '≤ 25 ms', ...marginOf(result.p99, 25, 'lower') });
  emit({ bench: BENCH, figure: `${label}: p50 latency`, value: result.p50, unit: 'ms', baseline: baseline.p50, ratio: result.p50 / baseline.p50 });
  // CPU per request holds still when the machine is busy; throughput does not.
  emit({ bench: BENCH, figure: `${label}: CPU per request (all processes)`, value: cpuUsPerRequest, unit: 'µs', baseline: baseline.cpuUsPerRequest, ratio: cpuUsPerRequest / baseline.cpuUsPerRequest });
  const stored = await countStored(prefix, result.acceptedIds);
  const lost = result.acceptedIds.length - stored;
  emit({ bench: BENCH, figure: `${label}: webhooks answered 200 accepted`, value: result.acceptedIds.length, unit: 'webhooks' });
  emit({ bench: BENCH, figure: `${label}: answered 200 but not in Redis (lost)`, value: lost, unit: 'webhooks', target: '= 0', met: lost === 0, margin: `${stored} of ${result.acceptedIds.length} found as jobs` });
  const refused = Object.entries(result.statuses).filter(([status]) => status !== '200').reduce((sum, [, count]) => sum + count, 0);
  emit({ bench: BENCH, figure: `${label}: answers other than 200 (429 = sender retries)`, value: refused + result.errors, unit: 'requests' });
  emit({ bench: BENCH, figure: `${label}: peak RSS of \`web\` under load (all its processes)`, value: peakWebRss, unit: 'MB' });
}

try {
  const started = performance.now();
  const edRequests = signedContactEvents(ED25519_REQUESTS, 'ed25519', { locationId: LOCATION.id, id: contact.id });
  log(BENCH, `signed ${edRequests.length} Ed25519 bodies in ${Math.round(performance.now() - started)} ms`);
  if (PARTS.has('ed25519')) await scheme('ed25519', edRequests);

  // Where the time goes: the same load against a profiled single-process bridge (a separate run: profiling costs a little).
  const profileDir = mkdtempSync(join(tmpdir(), 'ghl-bridge-prof-'));
  try {
    if (PARTS.has('profile')) await profile(profileDir, edRequests);
  } finally {
    rmSync(profileDir, { recursive: true, force: true });
  }

  // Benchmark 5, first half: `all` (web + workers) under the same ingest load.
  if (PARTS.has('all')) await allUnderLoad(edRequests);

  if (PARTS.has('rsa')) {
    const rsaStarted = performance.now();
    const rsaRequests = signedContactEvents(RSA_REQUESTS, 'rsa', { locationId: LOCATION.id, id: contact.id });
    log(BENCH, `signed ${rsaRequests.length} RSA-4096 bodies in ${Math.round(performance.now() - rsaStarted)} ms`);
    await scheme('rsa', rsaRequests);
  }
  detail(
    BENCH,
    `Closed loop, ${CONNECTIONS} connections, ${WARMUP_MS / 1000} s warm-up then up to ${DURATION_MS / 1000} s measured, each pre-signed body sent once ` +
      `(${ED25519_REQUESTS} Ed25519 bodies; ${RSA_REQUESTS} RSA-4096 bodies, the first fifth untimed, so the RSA run ends when they are spent: signing costs ~5 ms each). ` +
      'Bridge and bare route each run in their own process: the bridge as `npm start` runs it (built, `dist/main.js`, with its node heap flags), the bare route through tsx; the load generator, Redis and the bridge share the 2 cores. ' +
      '"CPU per request" is the server process\'s user + system time (from /proc) over the run divided by the requests it answered: unlike throughput, it hardly moves when the machine is busy. ' +
      `The bridge is measured as one \`web\` process and as WEB_PROCESSES=${WEB_PROCESSES} (node:cluster, one port); the baseline is always the bare single-process route. ` +
      'The bridge runs with its production defaults (LOG_LEVEL info, stdout discarded); the bare route has no logger. ' +
      '"Lost" = answered `200 accepted` but no job with that id in Redis afterwards (`EXISTS <prefix>:ghl-webhooks:<id>`).',
  );
} finally {
  redisClient.disconnect();
  await ghl.close();
  await redis.close();
}

async function profile(profileDir: string, edRequests: PreparedRequest[]): Promise<void> {
  const profiled = await startChild({ script: SERVICE, args: ['web'], env: envFor('bench-ingest-prof'), nodeFlags: [...benchNodeFlags(), '--cpu-prof', `--cpu-prof-dir=${profileDir}`] });
  const result = await against(profiled, edRequests, false).finally(() => profiled.stop());
  log(BENCH, `profiled bridge web: ${describe(result)}`);
  // The main thread's profile (tsx's loader thread writes a second, mostly idle one): the largest file.
  const files = readdirSync(profileDir).filter((name) => name.endsWith('.cpuprofile'));
  const file = files.sort((a, b) => statSync(join(profileDir, b)).size - statSync(join(profileDir, a)).size)[0];
  if (file) detail(BENCH, profileMarkdown(summariseProfile(join(profileDir, file), PROJECT_ROOT, profiled.startupMs + 300)));
  else detail(BENCH, 'No CPU profile was written (the bridge did not exit cleanly).');
}

async function allUnderLoad(edRequests: PreparedRequest[]): Promise<void> {
  const all = await startChild({ script: SERVICE, args: ['all'], env: envFor('bench-ingest-all'), nodeFlags: benchNodeFlags() });
  let peakAllRss = 0;
  const allResult = await against(all, edRequests, false, () => (peakAllRss = Math.max(peakAllRss, all.rssMb()))).finally(() => all.stop());
  log(BENCH, `ed25519 bridge all: ${describe(allResult)}, peak RSS ${peakAllRss.toFixed(0)} MB`);
  emit({ bench: 'memory', figure: 'peak RSS of `all` under the Ed25519 ingest load', value: peakAllRss, unit: 'MB', target: '≤ 200 MB', ...marginOf(peakAllRss, 200, 'lower') });
  emit({ bench: 'memory', figure: '`all` ingest throughput (web + workers in one process)', value: allResult.throughput, unit: 'req/s', target: undefined });
  emit({ bench: 'memory', figure: '`all` ingest p99', value: allResult.p99, unit: 'ms' });
}
