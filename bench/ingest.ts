/**
 * Benchmark 1, ingest (and the `all` half of benchmark 5, memory): GHL-signed webhooks (Ed25519,
 * then RSA-4096) against the bridge in its own process, set against two baselines measured in the
 * same run on the same bodies: the floor (bench/floor-server.ts: the same Fastify verifying the
 * signature and appending to Redis with the bridge's micro-batching, the least a correct receiver
 * does) and, for scale, a bare Fastify route that does nothing. Throughput and CPU per request come
 * from a closed loop at 50 connections; p99 from an open loop at a fixed offered load (1,000/s).
 * Every `200 accepted` is then looked up in Redis. Also: Ed25519 verification alone, node:crypto
 * against libsodium, and a CPU profile of the bridge under the Ed25519 load.
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { QUEUE_NAMES } from '../src/queue/catalog.js';
import { startGhlSimulator } from '../src/sandbox/ghl/simulator.js';
import { createTestSigner } from '../test/helpers/ghl-signing.js';
import { startRedisServer } from '../test/helpers/redis-server.js';
import { benchNodeFlags, bridgeEnv, PROJECT_ROOT, startChild, type ChildServer } from './lib/bridge-process.js';
import { comparisonMarkdown, profileMarkdown, summariseProfile, type ProfileSummary } from './lib/cpu-profile.js';
import { signedContactEvents } from './lib/events.js';
import { runLoad, runOpenLoop, type LoadResult, type OpenLoopResult, type PreparedRequest } from './lib/load.js';
import { detail, emit, log, marginOf } from './lib/report.js';
import { compareVerifiers } from './lib/verifier-compare.js';

/** The service as `npm start` runs it: built, with its node flags (the baselines run through tsx, with the same flags). */
const SERVICE = 'dist/main.js';
const BENCH = 'ingest';
const CONNECTIONS = 50;
const DURATION_MS = Number(process.env.BENCH_INGEST_SECONDS ?? 8) * 1000;
const WARMUP_MS = 1_500;
/** The fixed offered load of the open-loop run (a peer's default capacity). */
const OPEN_RATE = Number(process.env.BENCH_INGEST_RATE ?? 1_000);
/** Sockets the open-loop generator may hold: well above rate × p99, so it never waits for one in a sane run. */
const OPEN_MAX_CONNECTIONS = 256;
/** The bridge sends each body once: enough for its warm-up and measured part at up to ~8,000 req/s (short of the floor's own rate). */
const ED25519_REQUESTS = Number(process.env.BENCH_INGEST_REQUESTS ?? 80_000);
/** RSA-4096 bodies cost ~4 ms each to sign; 8,000 keep the bridge's RSA run (each body once) going for several seconds. */
const RSA_REQUESTS = Number(process.env.BENCH_RSA_REQUESTS ?? 8_000);
/** Which parts run (comma-separated), to iterate on one: verifier, ed25519, profile, all, rsa. Default: every part. */
const PARTS = new Set((process.env.BENCH_INGEST_PARTS ?? 'verifier,ed25519,profile,all,rsa').split(',').map((part) => part.trim()));
/** The cluster setup measured beside the single process (WEB_PROCESSES); the box has 2 cores. */
const WEB_PROCESSES = Number(process.env.BENCH_WEB_PROCESSES ?? 2);
const LOCATION = { id: 'locBench00000000000001', token: 'pit-bench-ingest-0001' };
const TARGET = { throughput: 0.8, cpu: 1.25, p99Ms: 10 };

type Scheme = 'ed25519' | 'rsa';

interface Measured {
  result: LoadResult;
  cpuUsPerRequest: number;
  peakRssMb: number;
}

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

/**
 * Closed loop against `server`, sampling its CPU time and RSS while it lives (/proc forgets a process
 * once it has exited). `cycle`: baselines reuse the bodies so they run the full time whatever their speed.
 * CPU per request is counted like throughput, over the measured part: a fresh process spends its
 * warm-up compiling, once, which says nothing of what each request costs afterwards.
 */
async function measure(server: ChildServer, requests: PreparedRequest[], options: { cycle: boolean; collectIds: boolean }): Promise<Measured> {
  let peakRssMb = 0;
  let cpuMs = 0;
  let cpuBefore = server.cpuMs();
  const sample = () => {
    peakRssMb = Math.max(peakRssMb, server.rssMb());
    cpuMs = server.cpuMs() - cpuBefore;
  };
  const ticker = setInterval(sample, 500);
  // Few bodies and no cycling (the bridge on RSA): warm up on a share of them instead of a time.
  const warmup = options.cycle || requests.length >= 20_000 ? { warmupMs: WARMUP_MS } : { warmupRequests: Math.round(requests.length / 5) };
  try {
    const onMeasuring = () => {
      cpuBefore = server.cpuMs();
    };
    const result = await runLoad({ url: `${server.url}/webhooks/ghl`, requests, connections: CONNECTIONS, durationMs: DURATION_MS, ...warmup, collectIds: options.collectIds, cycle: options.cycle, onMeasuring });
    sample();
    return { result, cpuUsPerRequest: (cpuMs * 1000) / Math.max(1, result.sentMeasured), peakRssMb };
  } finally {
    clearInterval(ticker);
  }
}

function openLoop(server: ChildServer, requests: PreparedRequest[], cycle: boolean): Promise<OpenLoopResult> {
  return runOpenLoop({ url: `${server.url}/webhooks/ghl`, requests, ratePerSecond: OPEN_RATE, durationMs: DURATION_MS, warmupMs: WARMUP_MS, maxConnections: OPEN_MAX_CONNECTIONS, cycle });
}

/** Bodies for one open-loop run against the bridge: each sent once, so as many as the run offers. */
function openLoopBodies(scheme: Scheme): PreparedRequest[] {
  return signedContactEvents(Math.ceil((OPEN_RATE * (WARMUP_MS + DURATION_MS)) / 1000) + 10, scheme, { locationId: LOCATION.id, id: contact.id });
}

/**
 * Every accepted id must be stored in Redis: "zero lost" means 200 ⇒ in the queue's inbox (`web`
 * runs no pump) or already a job.
 */
async function countStored(prefix: string, ids: string[]): Promise<number> {
  const inInbox = new Set<string>();
  const inbox = `${prefix}:${QUEUE_NAMES.ghlWebhooks}:inbox`;
  for (let from = '-'; ; ) {
    const entries = await redisClient.xrange(inbox, from, '+', 'COUNT', 10_000);
    for (const [, fields] of entries) inInbox.add(fields[fields.indexOf('id') + 1] ?? '');
    const last = entries.at(-1);
    if (entries.length < 10_000 || last === undefined) break;
    from = `(${last[0]}`;
  }
  let stored = 0;
  const rest: string[] = [];
  for (const id of ids) {
    if (inInbox.has(id)) stored++;
    else rest.push(id);
  }
  for (let start = 0; start < rest.length; start += 5_000) {
    const pipeline = redisClient.pipeline();
    for (const id of rest.slice(start, start + 5_000)) pipeline.exists(`${prefix}:${QUEUE_NAMES.ghlWebhooks}:${id}`);
    for (const [error, value] of (await pipeline.exec()) ?? []) if (!error && value === 1) stored++;
  }
  return stored;
}

function describe(result: LoadResult): string {
  return `${Math.round(result.throughput)} req/s, p50 ${result.p50.toFixed(1)} ms, p99 ${result.p99.toFixed(1)} ms, statuses ${JSON.stringify(result.statuses)}, errors ${result.errors}`;
}

function refusedOf(result: LoadResult): number {
  return Object.entries(result.statuses).filter(([status]) => status !== '200').reduce((sum, [, count]) => sum + count, 0) + result.errors;
}

interface Baselines {
  bare: Measured;
  floor: Measured;
  /** The floor at the fixed offered load (Ed25519 only). */
  floorOpen?: OpenLoopResult;
}

async function baselines(name: Scheme, requests: PreparedRequest[]): Promise<Baselines> {
  const bareServer = await startChild({ script: 'bench/bare-server.ts', env: {}, nodeFlags: benchNodeFlags() });
  const bare = await measure(bareServer, requests, { cycle: true, collectIds: false }).finally(() => bareServer.stop());
  log(BENCH, `${name} bare route: ${describe(bare.result)}, ${bare.cpuUsPerRequest.toFixed(0)} µs CPU per request`);

  const listKey = `bench-floor:${name}`;
  const floorEnv = { REDIS_URL: redis.url, FLOOR_LIST_KEY: listKey, GHL_WEBHOOK_ED25519_PUBLIC_KEY: signer.ed25519PublicKeyPem, GHL_WEBHOOK_PUBLIC_KEY: signer.rsaPublicKeyPem };
  const floorServer = await startChild({ script: 'bench/floor-server.ts', env: floorEnv, nodeFlags: benchNodeFlags() });
  let floor: Measured;
  let floorOpen: OpenLoopResult | undefined;
  try {
    floor = await measure(floorServer, requests, { cycle: true, collectIds: true });
    log(BENCH, `${name} floor: ${describe(floor.result)}, ${floor.cpuUsPerRequest.toFixed(0)} µs CPU per request`);
    if (name === 'ed25519') {
      floorOpen = await openLoop(floorServer, requests, true);
      log(BENCH, `${name} floor at ${OPEN_RATE}/s: ${describe(floorOpen)}, late starts ${floorOpen.lateStarts}`);
    }
  } finally {
    await floorServer.stop();
  }
  const accepted = floor.result.acceptedIds.length + (floorOpen?.acceptedIds.length ?? 0);
  const floorLost = accepted - (await redisClient.llen(listKey));
  emit({ bench: BENCH, figure: `${name}: floor throughput (verify + micro-batched append to Redis)`, value: floor.result.throughput, unit: 'req/s', baseline: bare.result.throughput, ratio: floor.result.throughput / bare.result.throughput });
  emit({ bench: BENCH, figure: `${name}: floor CPU per request (baseline: the bare route's)`, value: floor.cpuUsPerRequest, unit: 'µs', baseline: bare.cpuUsPerRequest, ratio: floor.cpuUsPerRequest / bare.cpuUsPerRequest });
  if (floorOpen) emit({ bench: BENCH, figure: `${name}: floor p99 at a fixed ${OPEN_RATE}/s`, value: floorOpen.p99, unit: 'ms' });
  if (floorLost !== 0) log(BENCH, `${name} floor: ${floorLost} accepted bodies missing from ${listKey}`);
  return { bare, floor, ...(floorOpen ? { floorOpen } : {}) };
}

/** The bridge's `web` with `processes` web processes against the same bodies as the baselines. */
async function bridgeRun(name: Scheme, requests: PreparedRequest[], base: Baselines, processes: number): Promise<void> {
  const setup = processes === 1 ? 'bridge web, 1 process' : `bridge web, WEB_PROCESSES=${processes}`;
  const label = `${name}, ${processes === 1 ? '1 process' : `${processes} processes`}`;
  const prefix = `bench-ingest-${name}-${processes}`;
  const web = await startChild({ script: SERVICE, args: ['web'], env: envFor(prefix, { WEB_PROCESSES: String(processes) }), nodeFlags: benchNodeFlags() });
  let closed: Measured;
  let open: OpenLoopResult | undefined;
  try {
    closed = await measure(web, requests, { cycle: false, collectIds: true });
    log(BENCH, `${name} ${setup}: ${describe(closed.result)}, ${closed.cpuUsPerRequest.toFixed(0)} µs CPU per request, peak RSS ${closed.peakRssMb.toFixed(0)} MB`);
    // The fixed-rate run on the same process, with bodies of its own (the closed loop's are spent, i.e. duplicates).
    if (base.floorOpen && processes === 1) {
      open = await openLoop(web, openLoopBodies(name), false);
      log(BENCH, `${name} ${setup} at ${OPEN_RATE}/s: ${describe(open)}, late starts ${open.lateStarts}`);
    }
  } finally {
    await web.stop();
  }
  const { floor, bare } = base;
  const throughputRatio = closed.result.throughput / floor.result.throughput;
  const cpuRatio = closed.cpuUsPerRequest / floor.cpuUsPerRequest;
  // The targets are set for one process against the single-process floor; more processes are reported beside it.
  const judged = processes === 1;
  emit({ bench: BENCH, figure: `${label}: throughput (${setup} vs floor)`, value: closed.result.throughput, unit: 'req/s', baseline: floor.result.throughput, ratio: throughputRatio, ...(judged ? { target: `≥ ${TARGET.throughput}× floor`, ...marginOf(throughputRatio, TARGET.throughput, 'higher') } : {}) });
  emit({ bench: BENCH, figure: `${label}: CPU per request (all processes) vs floor`, value: closed.cpuUsPerRequest, unit: 'µs', baseline: floor.cpuUsPerRequest, ratio: cpuRatio, ...(judged ? { target: `≤ ${TARGET.cpu}× floor`, ...marginOf(cpuRatio, TARGET.cpu, 'lower') } : {}) });
  if (open && base.floorOpen) {
    emit({ bench: BENCH, figure: `${label}: p99 at a fixed offered load of ${OPEN_RATE}/s (open loop)`, value: open.p99, unit: 'ms', baseline: base.floorOpen.p99, ratio: open.p99 / base.floorOpen.p99, target: `≤ ${TARGET.p99Ms} ms`, ...marginOf(open.p99, TARGET.p99Ms, 'lower') });
    emit({ bench: BENCH, figure: `${label}: p50 at ${OPEN_RATE}/s`, value: open.p50, unit: 'ms', baseline: base.floorOpen.p50, ratio: open.p50 / base.floorOpen.p50 });
  }
  emit({ bench: BENCH, figure: `${label}: throughput vs the bare do-nothing route (for scale)`, value: closed.result.throughput, unit: 'req/s', baseline: bare.result.throughput, ratio: closed.result.throughput / bare.result.throughput });
  emit({ bench: BENCH, figure: `${label}: p99 latency at ${CONNECTIONS} connections (closed loop)`, value: closed.result.p99, unit: 'ms', baseline: floor.result.p99, ratio: closed.result.p99 / floor.result.p99 });
  const accepted = [...closed.result.acceptedIds, ...(open?.acceptedIds ?? [])];
  const stored = await countStored(prefix, accepted);
  const lost = accepted.length - stored;
  emit({ bench: BENCH, figure: `${label}: webhooks answered 200 accepted`, value: accepted.length, unit: 'webhooks' });
  emit({ bench: BENCH, figure: `${label}: answered 200 but not in Redis (lost)`, value: lost, unit: 'webhooks', target: '= 0', met: lost === 0, margin: `${stored} of ${accepted.length} found in the inbox or as jobs` });
  emit({ bench: BENCH, figure: `${label}: answers other than 200 (429 = sender retries)`, value: refusedOf(closed.result) + (open ? refusedOf(open) : 0), unit: 'requests' });
  emit({ bench: BENCH, figure: `${label}: peak RSS of \`web\` under load (all its processes)`, value: closed.peakRssMb, unit: 'MB' });
}

async function scheme(name: Scheme, requests: PreparedRequest[]): Promise<void> {
  const base = await baselines(name, requests);
  await bridgeRun(name, requests, base, 1);
  if (WEB_PROCESSES > 1) await bridgeRun(name, requests, base, WEB_PROCESSES);
}

function verifierPart(requests: PreparedRequest[]): void {
  const figures = compareVerifiers(requests, signer.ed25519PublicKeyPem);
  if (figures.sodiumUs === undefined) {
    emit({ bench: BENCH, figure: 'Ed25519 verify, node:crypto (libsodium not measured)', value: figures.nodeUs, unit: 'µs' });
    detail(BENCH, `sodium-native could not be loaded here (${figures.sodiumError ?? 'unknown'}): only node:crypto was measured.`);
    return;
  }
  const speedup = figures.nodeUs / figures.sodiumUs;
  emit({ bench: BENCH, figure: 'Ed25519 verify, libsodium (sodium-native) vs node:crypto', value: figures.sodiumUs, unit: 'µs', baseline: figures.nodeUs, ratio: figures.sodiumUs / figures.nodeUs });
  emit({ bench: BENCH, figure: 'Ed25519 verify: libsodium speed-up over node:crypto (adopt at ≥ 1.5×)', value: speedup, unit: '×', target: '≥ 1.5× to adopt', ...marginOf(speedup, 1.5, 'higher') });
}

try {
  const started = performance.now();
  const edRequests = signedContactEvents(ED25519_REQUESTS, 'ed25519', { locationId: LOCATION.id, id: contact.id });
  log(BENCH, `signed ${edRequests.length} Ed25519 bodies in ${Math.round(performance.now() - started)} ms`);
  if (PARTS.has('verifier')) verifierPart(edRequests);
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
    `Throughput and CPU: closed loop, ${CONNECTIONS} connections, ${WARMUP_MS / 1000} s warm-up then ${DURATION_MS / 1000} s measured. ` +
      `The baselines (floor, bare route) reuse the bodies and always run the full time; the bridge sends each pre-signed body once (${ED25519_REQUESTS} Ed25519 bodies; ` +
      `${RSA_REQUESTS} RSA-4096 bodies, the first fifth untimed, so the bridge's RSA run ends early if they are spent: signing costs ~5 ms each). ` +
      `p99 at ${OPEN_RATE}/s: open loop, each request due at a fixed time and sent then whatever the answers, latency counted from when it was due (no coordinated omission), ` +
      `${WARMUP_MS / 1000} s warm-up then ${DURATION_MS / 1000} s measured, against the same bridge process after its closed-loop run, with bodies of its own. ` +
      'The floor is `bench/floor-server.ts`: the same Fastify, raw body, the bridge\'s own signature verifier, a micro-batched RPUSH to Redis (batched as the bridge batches: one event-loop turn, or what arrived while the previous batch was stored, up to 100 requests, one pipeline); no parse, schema, dedupe, logging or metrics. ' +
      'Every server runs in its own process with the service\'s node flags (the bridge as `npm start` runs it, `dist/main.js`; the baselines through tsx); the load generator, Redis and the server share the 2 cores. ' +
      '"CPU per request" is the server process\'s user + system time (from /proc) over the measured part of the closed-loop run (warm-up left out, as for throughput) divided by the requests sent in it; it moves less than throughput when the machine is busy, but it does move (shared caches, three processes on two cores). ' +
      `The bridge is measured as one \`web\` process (the targets) and as WEB_PROCESSES=${WEB_PROCESSES} (node:cluster, one port), always against the single-process floor. ` +
      'The bridge runs with its production defaults (LOG_LEVEL info, stdout discarded). ' +
      '"Lost" = answered `200 accepted` but that id neither in the queue inbox (`web` runs no pump) nor a job in Redis afterwards. ' +
      'The verifier comparison runs in the benchmark process: 5 interleaved 1 s rounds of each, median round.',
  );
} finally {
  redisClient.disconnect();
  await ghl.close();
  await redis.close();
}

/** A CPU profile of `script` under the closed-loop Ed25519 load; the main thread's (a loader thread may write a second, mostly idle one): the largest file. */
async function profiled(dir: string, script: string, args: string[], env: Record<string, string>, requests: PreparedRequest[]): Promise<{ summary: ProfileSummary; requests: number } | undefined> {
  const server = await startChild({ script, args, env, nodeFlags: [...benchNodeFlags(), '--cpu-prof', `--cpu-prof-dir=${dir}`] });
  const measured = await measure(server, requests, { cycle: script !== SERVICE, collectIds: false }).finally(() => server.stop());
  log(BENCH, `profiled ${script}: ${describe(measured.result)}`);
  const files = readdirSync(dir).filter((name) => name.endsWith('.cpuprofile'));
  const file = files.sort((a, b) => statSync(join(dir, b)).size - statSync(join(dir, a)).size)[0];
  return file ? { summary: summariseProfile(join(dir, file), PROJECT_ROOT, server.startupMs + 300), requests: measured.result.sent } : undefined;
}

async function profile(profileDir: string, edRequests: PreparedRequest[]): Promise<void> {
  const floorDir = join(profileDir, 'floor');
  const bridgeDir = join(profileDir, 'bridge');
  mkdirSync(floorDir);
  mkdirSync(bridgeDir);
  const floorEnv = { REDIS_URL: redis.url, FLOOR_LIST_KEY: 'bench-floor:profile', GHL_WEBHOOK_ED25519_PUBLIC_KEY: signer.ed25519PublicKeyPem, GHL_WEBHOOK_PUBLIC_KEY: signer.rsaPublicKeyPem };
  const floor = await profiled(floorDir, 'bench/floor-server.ts', [], floorEnv, edRequests);
  const bridge = await profiled(bridgeDir, SERVICE, ['web'], envFor('bench-ingest-prof'), edRequests);
  if (!bridge) {
    detail(BENCH, 'No CPU profile was written (the bridge did not exit cleanly).');
    return;
  }
  detail(BENCH, profileMarkdown(bridge.summary));
  if (floor) detail(BENCH, comparisonMarkdown(floor, bridge));
}

async function allUnderLoad(edRequests: PreparedRequest[]): Promise<void> {
  const all = await startChild({ script: SERVICE, args: ['all'], env: envFor('bench-ingest-all'), nodeFlags: benchNodeFlags() });
  const measured = await measure(all, edRequests, { cycle: false, collectIds: false }).finally(() => all.stop());
  log(BENCH, `ed25519 bridge all: ${describe(measured.result)}, peak RSS ${measured.peakRssMb.toFixed(0)} MB`);
  emit({ bench: 'memory', figure: 'peak RSS of `all` under the Ed25519 ingest load', value: measured.peakRssMb, unit: 'MB', target: '≤ 200 MB', ...marginOf(measured.peakRssMb, 200, 'lower') });
  emit({ bench: 'memory', figure: '`all` ingest throughput (web + workers in one process)', value: measured.result.throughput, unit: 'req/s' });
  emit({ bench: 'memory', figure: '`all` ingest p99', value: measured.result.p99, unit: 'ms' });
}
