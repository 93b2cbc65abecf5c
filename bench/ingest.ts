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
import { corePlan, pinProcess } from './lib/cores.js';
import { comparisonMarkdown, profileMarkdown, summariseProfile, type ProfileSummary } from './lib/cpu-profile.js';
import { signedContactEvents } from './lib/events.js';
import { runLoad, type LoadResult, type OpenLoopResult, type PreparedRequest } from './lib/load.js';
import { runOpenLoopInChild } from './lib/open-loop-process.js';
import { runPairedSlices, type Contender } from './lib/paired-slices.js';
import { methodMarkdown, roundsMarkdown, type BridgeRun, type Measured, type Round } from './lib/ingest-rounds.js';
import { detail, emit, log, marginOf, median } from './lib/report.js';
import { compareVerifiers } from './lib/verifier-compare.js';

/** The service as `npm start` runs it: built, with its node flags (the baselines run through tsx, with the same flags). */
const SERVICE = 'dist/main.js';
const BENCH = 'ingest';
const CONNECTIONS = 50;
const DURATION_MS = Number(process.env.BENCH_INGEST_SECONDS ?? 6) * 1000;
/** Rounds of floor and bridge (see scheme). */
const ROUNDS = Number(process.env.BENCH_INGEST_ROUNDS ?? 5);
/**
 * Alternating closed-loop slices per server in a round (bench/lib/paired-slices.ts), DURATION_MS in
 * all: this box's speed swings by ±20 % from one second to the next, so many short slices average it out better than a few long ones.
 */
const SLICES = 8;
/** RSA's few bodies (each costs ~5 ms to sign) would make eight bridge slices of a tenth of a second: two longer ones. */
const RSA_SLICES = 2;
/** The open loop's warm-up (its server is already warm from the closed-loop run before it). */
const WARMUP_MS = 1_500;
/**
 * Requests every closed-loop run sends before it is measured. A fresh bridge process gets cheaper
 * per request over its first ~50,000 requests (its compiler threads alone cost ~100 µs per request
 * over the first 5,000), the floor over ~10,000: the targets are about what each request costs once
 * that is done, and the warm-up's own cost is reported beside them (bench/ANALYSIS.md, note 1f).
 */
const WARMUP_REQUESTS = Number(process.env.BENCH_INGEST_WARMUP ?? 50_000);
/** The fixed offered load of the open-loop run (a peer's default capacity). */
const OPEN_RATE = Number(process.env.BENCH_INGEST_RATE ?? 1_000);
/** Requests an open-loop run sends (and a few spare). */
const OPEN_REQUESTS = Math.ceil((OPEN_RATE * (WARMUP_MS + DURATION_MS)) / 1000) + 10;
/** Sockets the open-loop generator may hold: well above rate × p99, so it never waits for one in a sane run. */
const OPEN_MAX_CONNECTIONS = 256;
/** The bridge sends each body once: enough for its warm-up and a measured part at up to ~11,000 req/s (above the floor's own rate). */
const ED25519_REQUESTS = Number(process.env.BENCH_INGEST_REQUESTS ?? 120_000);
/** RSA-4096 bodies cost ~4 ms each to sign; 8,000 keep the bridge's RSA run (each body once) going for several seconds. */
const RSA_REQUESTS = Number(process.env.BENCH_RSA_REQUESTS ?? 8_000);
/** Which parts run (comma-separated), to iterate on one: verifier, ed25519, profile, all, rsa. Default: every part. */
/** Where to keep the profile part's CPU profiles; unset: a temporary folder, removed afterwards. */
const KEPT_PROFILE_DIR = process.env.BENCH_PROFILE_DIR || undefined;
const PARTS = new Set((process.env.BENCH_INGEST_PARTS ?? 'verifier,ed25519,profile,all,rsa').split(',').map((part) => part.trim()));
/** The cluster setup measured beside the single process (WEB_PROCESSES); the box has 2 cores. */
const WEB_PROCESSES = Number(process.env.BENCH_WEB_PROCESSES ?? 2);
const LOCATION = { id: 'locBench00000000000001', token: 'pit-bench-ingest-0001' };
const TARGET = { throughput: 0.8, cpu: 1.25, p99Ms: 10 };

type Scheme = 'ed25519' | 'rsa';


const redis = await startRedisServer();
const ghl = await startGhlSimulator({ locations: [LOCATION] });
const contact = ghl.userCreateContact(LOCATION.id, { firstName: 'Ingest', email: 'ingest@example.com' });
const signer = createTestSigner();
const redisClient = new Redis(redis.url);
// Rewrites of the append-only file happen between runs (freshRedis), never by themselves during one.
await redisClient.config('SET', 'auto-aof-rewrite-percentage', '0');
/** The server under test on a core of its own, this process (the generators) and Redis on the others (bench/lib/cores.ts). */
const CORES = corePlan();
if (CORES) {
  pinProcess(process.pid, CORES.others);
  pinProcess(Number(/process_id:(\d+)/.exec(await redisClient.info('server'))?.[1]), CORES.others);
}
log(BENCH, CORES ? `server under test on core ${CORES.server}; generators and Redis on ${CORES.others}` : 'not pinned to cores (one core, or no taskset)');

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

/** The floor's environment: the same keys as the bridge's, appending to `listKey`. */
const floorEnvFor = (listKey: string) => ({ REDIS_URL: redis.url, FLOOR_LIST_KEY: listKey, GHL_WEBHOOK_ED25519_PUBLIC_KEY: signer.ed25519PublicKeyPem, GHL_WEBHOOK_PUBLIC_KEY: signer.rsaPublicKeyPem });

/**
 * Closed loop against `server`, sampling its CPU time and RSS while it lives (/proc forgets a process
 * once it has exited). `cycle`: baselines reuse the bodies so they run the full time whatever their speed.
 * CPU per request is counted like throughput, over the measured part: a fresh process spends its
 * warm-up compiling, once, which says nothing of what each request costs afterwards.
 */
async function measure(server: ChildServer, requests: PreparedRequest[], options: { cycle: boolean; collectIds: boolean }): Promise<Measured> {
  let peakRssMb = 0;
  let cpuMs = 0;
  const cpuAtStart = server.cpuMs();
  let cpuBefore = cpuAtStart;
  let warmupCpuMs = 0;
  const sample = () => {
    peakRssMb = Math.max(peakRssMb, server.rssMb());
    cpuMs = server.cpuMs() - cpuBefore;
  };
  const ticker = setInterval(sample, 500);
  // Few bodies and no cycling (the bridge on RSA, warmed up before on Ed25519 bodies): a share of them.
  const warmupRequests = options.cycle || requests.length >= 2 * WARMUP_REQUESTS ? WARMUP_REQUESTS : Math.round(requests.length / 5);
  let measuringAt = Number.NaN;
  try {
    const onMeasuring = () => {
      cpuBefore = server.cpuMs();
      warmupCpuMs = cpuBefore - cpuAtStart;
      measuringAt = performance.now();
    };
    const result = await runLoad({ url: `${server.url}/webhooks/ghl`, requests, connections: CONNECTIONS, durationMs: DURATION_MS, warmupRequests, collectIds: options.collectIds, cycle: options.cycle, onMeasuring });
    sample();
    const warmupSent = result.sent - result.sentMeasured;
    return { result, cpuUsPerRequest: (cpuMs * 1000) / Math.max(1, result.sentMeasured), warmupCpuUsPerRequest: (warmupCpuMs * 1000) / Math.max(1, warmupSent), measuringAt, peakRssMb };
  } finally {
    clearInterval(ticker);
  }
}

/**
 * The fixed offered load, from a generator in its own process holding only these bodies
 * (bench/lib/open-loop-process.ts), and the server's CPU per request sent at it: at 1,000/s a
 * micro-batch is about one request, so what each batch and each event-loop turn costs is paid per
 * webhook here.
 */
async function openLoop(server: ChildServer, label: string, requests: PreparedRequest[], cycle: boolean): Promise<{ open: OpenLoopResult; openCpuUsPerRequest: number }> {
  const cpuBefore = server.cpuMs();
  const open = await runOpenLoopInChild({ url: `${server.url}/webhooks/ghl`, requests: requests.slice(0, OPEN_REQUESTS), ratePerSecond: OPEN_RATE, durationMs: DURATION_MS, warmupMs: WARMUP_MS, maxConnections: OPEN_MAX_CONNECTIONS, cycle });
  const openCpuUsPerRequest = ((server.cpuMs() - cpuBefore) * 1000) / Math.max(1, open.sent);
  log(BENCH, `${label} at ${OPEN_RATE}/s: ${describe(open)}, late starts ${open.lateStarts} (start lag p99 ${open.startLagP99.toFixed(1)} ms, sent to answered p99 ${open.sentToAnsweredP99.toFixed(1)} ms), ${openCpuUsPerRequest.toFixed(0)} µs CPU per request`);
  return { open, openCpuUsPerRequest };
}

/** Bodies for one open-loop run against the bridge: each sent once, so as many as the run offers. */
function openLoopBodies(scheme: Scheme): PreparedRequest[] {
  return signedContactEvents(OPEN_REQUESTS, scheme, { locationId: LOCATION.id, id: contact.id });
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

/**
 * Each server's run starts on the same Redis: empty, its append-only file compacted. Redis's own
 * rewrite of that file (a fork writing the whole data set) is switched off at the start of this
 * benchmark, so it cannot land inside one server's measured part; it is done here, between runs.
 */
async function freshRedis(): Promise<void> {
  await redisClient.flushall();
  await redisClient.bgrewriteaof();
  for (;;) {
    const info = await redisClient.info('persistence');
    if (/aof_rewrite_in_progress:0/.test(info) && /aof_rewrite_scheduled:0/.test(info)) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Redis's CPU time so far (ms, all its threads), to count what each server's requests cost it. */
async function redisCpuMs(): Promise<number> {
  const info = await redisClient.info('cpu');
  const seconds = (field: string) => Number(new RegExp(`${field}:([0-9.]+)`).exec(info)?.[1] ?? Number.NaN);
  return (seconds('used_cpu_user') + seconds('used_cpu_sys')) * 1000;
}

/** `count` requests (the bodies reused when there are fewer), nothing timed; the CPU they cost the server. */
async function warmUp(server: ChildServer, requests: PreparedRequest[], count: number): Promise<{ acceptedIds: string[]; cpuUsPerRequest: number }> {
  const cpuAt = server.cpuMs();
  const result = await runLoad({ url: `${server.url}/webhooks/ghl`, requests: requests.slice(0, count), connections: CONNECTIONS, durationMs: 0, warmupRequests: count, cycle: requests.length < count, collectIds: true });
  return { acceptedIds: result.acceptedIds, cpuUsPerRequest: ((server.cpuMs() - cpuAt) * 1000) / Math.max(1, result.sent) };
}

/**
 * One round: a fresh floor and a fresh single-process bridge, up side by side on an emptied Redis,
 * each warmed up, then measured in alternating closed-loop slices (bench/lib/paired-slices.ts), then
 * (Ed25519) the fixed offered load on each, the floor first in odd rounds and the bridge first in even ones.
 * `bridgeWarmup`: bodies of another scheme to warm the bridge up on first (RSA has too few of its own).
 */
async function pairedRound(name: Scheme, requests: PreparedRequest[], bridgeWarmup: PreparedRequest[], round: number): Promise<Round> {
  await freshRedis();
  const listKey = `bench-floor:${name}`;
  const prefix = `bench-ingest-${name}-1`;
  const floor = await startChild({ script: 'bench/floor-server.ts', env: floorEnvFor(listKey), nodeFlags: benchNodeFlags(), cpus: CORES?.server });
  const bridge = await startChild({ script: SERVICE, args: ['web'], env: envFor(prefix), nodeFlags: benchNodeFlags(), cpus: CORES?.server }).catch(async (error: unknown) => {
    await floor.stop();
    throw error;
  });
  let peakRssMb = 0;
  const ticker = setInterval(() => (peakRssMb = Math.max(peakRssMb, bridge.rssMb())), 500);
  try {
    const floorWarm = await warmUp(floor, requests, WARMUP_REQUESTS);
    const bridgeContender: Contender = { server: bridge, requests, cycle: false, offset: 0 };
    let bridgeWarm: Awaited<ReturnType<typeof warmUp>>;
    if (bridgeWarmup.length > 0) {
      // Too few bodies of this scheme to warm up on: the other scheme's first, then a fifth of these, untimed.
      bridgeWarm = await warmUp(bridge, bridgeWarmup, WARMUP_REQUESTS);
      const ownWarm = await warmUp(bridge, requests, Math.round(requests.length / 5));
      bridgeWarm.acceptedIds.push(...ownWarm.acceptedIds);
      bridgeContender.offset = Math.round(requests.length / 5);
    } else {
      bridgeWarm = await warmUp(bridge, requests, WARMUP_REQUESTS);
      bridgeContender.offset = WARMUP_REQUESTS;
    }
    const [floorPooled, bridgePooled] = await runPairedSlices({ server: floor, requests, cycle: true, offset: 0 }, bridgeContender, {
      path: '/webhooks/ghl',
      connections: CONNECTIONS,
      slices: name === 'rsa' ? RSA_SLICES : SLICES,
      sliceMs: DURATION_MS / (name === 'rsa' ? RSA_SLICES : SLICES),
      settleRequests: 2 * CONNECTIONS,
      redisCpuMs,
    });
    const floorClosed: Measured = { ...floorPooled, warmupCpuUsPerRequest: floorWarm.cpuUsPerRequest, measuringAt: Number.NaN, peakRssMb: Number.NaN };
    const bridgeClosed: Measured = { ...bridgePooled, warmupCpuUsPerRequest: bridgeWarm.cpuUsPerRequest, measuringAt: Number.NaN, peakRssMb };
    log(BENCH, `${name} round ${round} floor: ${describe(floorClosed.result)}, ${floorClosed.cpuUsPerRequest.toFixed(0)} µs CPU per request (Redis ${floorPooled.redisCpuUsPerRequest.toFixed(0)} µs)`);
    log(BENCH, `${name} round ${round} bridge: ${describe(bridgeClosed.result)}, ${bridgeClosed.cpuUsPerRequest.toFixed(0)} µs CPU per request (Redis ${bridgePooled.redisCpuUsPerRequest.toFixed(0)} µs), peak RSS ${peakRssMb.toFixed(0)} MB`);
    let floorOpen: Awaited<ReturnType<typeof openLoop>> | undefined;
    let bridgeOpen: Awaited<ReturnType<typeof openLoop>> | undefined;
    if (name === 'ed25519') {
      // The bridge with bodies of its own (those of the closed loop would be duplicates).
      const floorOpenRun = async () => (floorOpen = await openLoop(floor, `${name} floor`, requests, true));
      const bridgeOpenRun = async () => (bridgeOpen = await openLoop(bridge, `${name} bridge web, 1 process`, openLoopBodies(name), false));
      for (const run of round % 2 === 1 ? [floorOpenRun, bridgeOpenRun] : [bridgeOpenRun, floorOpenRun]) await run();
    }
    const floorAccepted = floorWarm.acceptedIds.length + floorClosed.result.acceptedIds.length + (floorOpen?.open.acceptedIds.length ?? 0);
    const accepted = [...bridgeWarm.acceptedIds, ...bridgeClosed.result.acceptedIds, ...(bridgeOpen?.open.acceptedIds ?? [])];
    const refused = refusedOf(bridgeClosed.result) + (bridgeOpen ? refusedOf(bridgeOpen.open) : 0);
    return {
      floor: { closed: floorClosed, ...floorOpen, lost: floorAccepted - (await redisClient.llen(listKey)) },
      bridge: { closed: bridgeClosed, ...bridgeOpen, accepted: accepted.length, lost: accepted.length - (await countStored(prefix, accepted)), refused },
    };
  } finally {
    clearInterval(ticker);
    await Promise.all([floor.stop(), bridge.stop()]);
  }
}

/**
 * The bridge's `web` as WEB_PROCESSES=`processes` (node:cluster), once, on every core: measured on its
 * own against the rounds' median floor, for information (the targets are for one process).
 */
async function manyProcessesRun(name: Scheme, requests: PreparedRequest[], processes: number, warmup: PreparedRequest[]): Promise<BridgeRun> {
  await freshRedis();
  const prefix = `bench-ingest-${name}-${processes}`;
  const web = await startChild({ script: SERVICE, args: ['web'], env: envFor(prefix, { WEB_PROCESSES: String(processes) }), nodeFlags: benchNodeFlags() });
  let closed: Measured;
  try {
    if (warmup.length > 0) await runLoad({ url: `${web.url}/webhooks/ghl`, requests: warmup.slice(0, WARMUP_REQUESTS), connections: CONNECTIONS, durationMs: 10 * 60_000, collectIds: false });
    closed = await measure(web, requests, { cycle: false, collectIds: true });
    log(BENCH, `${name} bridge web, WEB_PROCESSES=${processes}: ${describe(closed.result)}, ${closed.cpuUsPerRequest.toFixed(0)} µs CPU per request, peak RSS ${closed.peakRssMb.toFixed(0)} MB`);
  } finally {
    await web.stop();
  }
  const accepted = closed.result.acceptedIds;
  const lost = accepted.length - (await countStored(prefix, accepted));
  return { closed, accepted: accepted.length, lost, refused: refusedOf(closed.result) };
}

/**
 * The bare route once (for scale), then ROUNDS rounds of the floor and the single-process bridge
 * side by side: this box's speed drifts over tens of seconds, so a floor measured minutes before
 * the bridge is no baseline. Each figure is the median of the rounds' own ratios.
 */
async function scheme(name: Scheme, requests: PreparedRequest[], bridgeWarmup: PreparedRequest[] = []): Promise<void> {
  const bareServer = await startChild({ script: 'bench/bare-server.ts', env: {}, nodeFlags: benchNodeFlags(), cpus: CORES?.server });
  const bare = await measure(bareServer, requests, { cycle: true, collectIds: false }).finally(() => bareServer.stop());
  log(BENCH, `${name} bare route: ${describe(bare.result)}, ${bare.cpuUsPerRequest.toFixed(0)} µs CPU per request`);
  const rounds: Round[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    log(BENCH, `${name} round ${round} of ${ROUNDS}`);
    rounds.push(await pairedRound(name, requests, bridgeWarmup, round));
  }
  emitRounds(name, bare, rounds);
  if (WEB_PROCESSES > 1) emitMoreProcesses(name, await manyProcessesRun(name, requests, WEB_PROCESSES, bridgeWarmup), rounds);
}

function emitRounds(name: Scheme, bare: Measured, rounds: Round[]): void {
  const of = (pick: (round: Round) => number) => median(rounds.map(pick));
  const floorThroughput = of(({ floor }) => floor.closed.result.throughput);
  const floorCpu = of(({ floor }) => floor.closed.cpuUsPerRequest);
  const label = `${name}, 1 process`;
  emit({ bench: BENCH, figure: `${name}: floor throughput (verify + micro-batched append to Redis)`, value: floorThroughput, unit: 'req/s', baseline: bare.result.throughput, ratio: floorThroughput / bare.result.throughput });
  emit({ bench: BENCH, figure: `${name}: floor CPU per request (baseline: the bare route's)`, value: floorCpu, unit: 'µs', baseline: bare.cpuUsPerRequest, ratio: floorCpu / bare.cpuUsPerRequest });
  const throughputRatio = of(({ floor, bridge }) => bridge.closed.result.throughput / floor.closed.result.throughput);
  const cpuRatio = of(({ floor, bridge }) => bridge.closed.cpuUsPerRequest / floor.closed.cpuUsPerRequest);
  // The targets are set on the Ed25519 floor (the scheme GHL signs with); the legacy RSA scheme, which
  // GHL announced it would stop sending from 2026-09-01 (src/webhooks/ghl-signature.ts), is measured for information.
  const judged = name === 'ed25519';
  const note = judged ? '' : '; legacy scheme, for information';
  emit({ bench: BENCH, figure: `${label}: throughput (bridge web, 1 process vs floor; median of ${rounds.length} rounds' ratios${note})`, value: of(({ bridge }) => bridge.closed.result.throughput), unit: 'req/s', baseline: floorThroughput, ratio: throughputRatio, ...(judged ? { target: `≥ ${TARGET.throughput}× floor`, ...marginOf(throughputRatio, TARGET.throughput, 'higher') } : {}) });
  emit({ bench: BENCH, figure: `${label}: CPU per request vs floor (median of ${rounds.length} rounds' ratios${note})`, value: of(({ bridge }) => bridge.closed.cpuUsPerRequest), unit: 'µs', baseline: floorCpu, ratio: cpuRatio, ...(judged ? { target: `≤ ${TARGET.cpu}× floor`, ...marginOf(cpuRatio, TARGET.cpu, 'lower') } : {}) });
  if (rounds.every(({ floor, bridge }) => floor.closed.redisCpuUsPerRequest !== undefined && bridge.closed.redisCpuUsPerRequest !== undefined)) {
    emit({ bench: BENCH, figure: `${label}: Redis CPU per request (the appends: the bridge's dedupe marks and inbox stream against the floor's list; median of the rounds' ratios; not in the targets)`, value: of(({ bridge }) => bridge.closed.redisCpuUsPerRequest ?? Number.NaN), unit: 'µs', baseline: of(({ floor }) => floor.closed.redisCpuUsPerRequest ?? Number.NaN), ratio: of(({ floor, bridge }) => (bridge.closed.redisCpuUsPerRequest ?? Number.NaN) / (floor.closed.redisCpuUsPerRequest ?? Number.NaN)) });
  }
  const opens = rounds.flatMap(({ floor, bridge }) =>
    floor.open && bridge.open ? [{ floor: floor.open, bridge: bridge.open, floorCpu: floor.openCpuUsPerRequest ?? Number.NaN, bridgeCpu: bridge.openCpuUsPerRequest ?? Number.NaN }] : [],
  );
  if (opens.length > 0) {
    const p99 = median(opens.map(({ bridge }) => bridge.p99));
    emit({ bench: BENCH, figure: `${label}: p99 at a fixed offered load of ${OPEN_RATE}/s (open loop; median of ${opens.length} rounds)`, value: p99, unit: 'ms', baseline: median(opens.map(({ floor }) => floor.p99)), ratio: median(opens.map(({ floor, bridge }) => bridge.p99 / floor.p99)), target: `≤ ${TARGET.p99Ms} ms`, ...marginOf(p99, TARGET.p99Ms, 'lower') });
    emit({ bench: BENCH, figure: `${label}: CPU per request at ${OPEN_RATE}/s (about one request per micro-batch; median of the rounds' ratios; not in the targets)`, value: median(opens.map(({ bridgeCpu }) => bridgeCpu)), unit: 'µs', baseline: median(opens.map(({ floorCpu }) => floorCpu)), ratio: median(opens.map(({ floorCpu, bridgeCpu }) => bridgeCpu / floorCpu)) });
    emit({ bench: BENCH, figure: `${label}: p50 at ${OPEN_RATE}/s`, value: median(opens.map(({ bridge }) => bridge.p50)), unit: 'ms', baseline: median(opens.map(({ floor }) => floor.p50)), ratio: median(opens.map(({ floor, bridge }) => bridge.p50 / floor.p50)) });
  }
  // The RSA bridge is warmed up on Ed25519 bodies in a run of its own, so only Ed25519 has this figure.
  if (name === 'ed25519') {
    emit({ bench: BENCH, figure: `${label}: CPU per request over a fresh process's first ${WARMUP_REQUESTS} requests (warm-up, once per process; not in the targets)`, value: of(({ bridge }) => bridge.closed.warmupCpuUsPerRequest), unit: 'µs', baseline: of(({ floor }) => floor.closed.warmupCpuUsPerRequest), ratio: of(({ floor, bridge }) => bridge.closed.warmupCpuUsPerRequest / floor.closed.warmupCpuUsPerRequest) });
  }
  emit({ bench: BENCH, figure: `${label}: throughput vs the bare do-nothing route (for scale)`, value: of(({ bridge }) => bridge.closed.result.throughput), unit: 'req/s', baseline: bare.result.throughput, ratio: of(({ bridge }) => bridge.closed.result.throughput) / bare.result.throughput });
  emit({ bench: BENCH, figure: `${label}: p99 latency at ${CONNECTIONS} connections (closed loop)`, value: of(({ bridge }) => bridge.closed.result.p99), unit: 'ms', baseline: of(({ floor }) => floor.closed.result.p99), ratio: of(({ floor, bridge }) => bridge.closed.result.p99 / floor.closed.result.p99) });
  const accepted = rounds.reduce((sum, { bridge }) => sum + bridge.accepted, 0);
  const lost = rounds.reduce((sum, { bridge }) => sum + bridge.lost, 0);
  emit({ bench: BENCH, figure: `${label}: webhooks answered 200 accepted (all rounds)`, value: accepted, unit: 'webhooks' });
  emit({ bench: BENCH, figure: `${label}: answered 200 but not in Redis (lost)`, value: lost, unit: 'webhooks', target: '= 0', met: lost === 0, margin: `${accepted - lost} of ${accepted} found in the inbox or as jobs` });
  emit({ bench: BENCH, figure: `${label}: answers other than 200 (429 = sender retries)`, value: rounds.reduce((sum, { bridge }) => sum + bridge.refused, 0), unit: 'requests' });
  emit({ bench: BENCH, figure: `${label}: peak RSS of \`web\` under load`, value: Math.max(...rounds.map(({ bridge }) => bridge.closed.peakRssMb)), unit: 'MB' });
  const floorLost = rounds.reduce((sum, { floor }) => sum + floor.lost, 0);
  if (floorLost !== 0) log(BENCH, `${name} floor: ${floorLost} accepted bodies missing from its list`);
  detail(BENCH, roundsMarkdown(name, rounds, OPEN_RATE));
}

/** WEB_PROCESSES > 1, once, reported against the rounds' median floor (the targets are for one process). */
function emitMoreProcesses(name: Scheme, run: BridgeRun, rounds: Round[]): void {
  const label = `${name}, ${WEB_PROCESSES} processes`;
  const floorThroughput = median(rounds.map(({ floor }) => floor.closed.result.throughput));
  const floorCpu = median(rounds.map(({ floor }) => floor.closed.cpuUsPerRequest));
  emit({ bench: BENCH, figure: `${label}: throughput (bridge web, WEB_PROCESSES=${WEB_PROCESSES} vs the median floor)`, value: run.closed.result.throughput, unit: 'req/s', baseline: floorThroughput, ratio: run.closed.result.throughput / floorThroughput });
  emit({ bench: BENCH, figure: `${label}: CPU per request (all processes) vs the median floor`, value: run.closed.cpuUsPerRequest, unit: 'µs', baseline: floorCpu, ratio: run.closed.cpuUsPerRequest / floorCpu });
  emit({ bench: BENCH, figure: `${label}: answered 200 but not in Redis (lost)`, value: run.lost, unit: 'webhooks', target: '= 0', met: run.lost === 0, margin: `${run.accepted - run.lost} of ${run.accepted} found in the inbox or as jobs` });
  emit({ bench: BENCH, figure: `${label}: peak RSS of \`web\` under load (all its processes)`, value: run.closed.peakRssMb, unit: 'MB' });
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
  // BENCH_PROFILE_DIR keeps the .cpuprofile files there (floor/ and bridge/), e.g. to open in Chrome's DevTools.
  if (KEPT_PROFILE_DIR !== undefined) mkdirSync(KEPT_PROFILE_DIR, { recursive: true });
  const profileDir = mkdtempSync(join(KEPT_PROFILE_DIR ?? tmpdir(), 'ghl-bridge-prof-'));
  try {
    if (PARTS.has('profile')) await profile(profileDir, edRequests);
  } finally {
    if (KEPT_PROFILE_DIR === undefined) rmSync(profileDir, { recursive: true, force: true });
    else log(BENCH, `CPU profiles kept in ${profileDir}`);
  }

  // Benchmark 5, first half: `all` (web + workers) under the same ingest load.
  if (PARTS.has('all')) await allUnderLoad(edRequests);

  if (PARTS.has('rsa')) {
    const rsaStarted = performance.now();
    const rsaRequests = signedContactEvents(RSA_REQUESTS, 'rsa', { locationId: LOCATION.id, id: contact.id });
    log(BENCH, `signed ${rsaRequests.length} RSA-4096 bodies in ${Math.round(performance.now() - rsaStarted)} ms`);
    // Too few RSA bodies to warm up a fresh bridge (the floor cycles its bodies): it is first warmed up
    // on as many Ed25519 bodies as the floor's warm-up sends, the same path but the verifier.
    await scheme('rsa', rsaRequests, edRequests);
  }
  detail(BENCH, methodMarkdown({ connections: CONNECTIONS, warmupRequests: WARMUP_REQUESTS, durationMs: DURATION_MS, slices: SLICES, rsaSlices: RSA_SLICES, rounds: ROUNDS, ed25519Requests: ED25519_REQUESTS, rsaRequests: RSA_REQUESTS, openRate: OPEN_RATE, openWarmupMs: WARMUP_MS, webProcesses: WEB_PROCESSES, cores: CORES }));
} finally {
  redisClient.disconnect();
  await ghl.close();
  await redis.close();
}

/** A CPU profile of `script` under the closed-loop Ed25519 load; the main thread's (a loader thread may write a second, mostly idle one): the largest file. */
async function profiled(dir: string, script: string, args: string[], env: Record<string, string>, requests: PreparedRequest[]): Promise<{ summary: ProfileSummary; requests: number } | undefined> {
  await freshRedis();
  const server = await startChild({ script, args, env, nodeFlags: [...benchNodeFlags(), '--cpu-prof', `--cpu-prof-dir=${dir}`], cpus: CORES?.server });
  const startedAt = performance.now();
  const measured = await measure(server, requests, { cycle: script !== SERVICE, collectIds: false }).finally(() => server.stop());
  log(BENCH, `profiled ${script}: ${describe(measured.result)}`);
  const files = readdirSync(dir).filter((name) => name.endsWith('.cpuprofile'));
  const file = files.sort((a, b) => statSync(join(dir, b)).size - statSync(join(dir, a)).size)[0];
  // Start-up and warm-up left out, as for the CPU per request: the profile starts when the process does.
  const skipMs = server.startupMs + (measured.measuringAt - startedAt);
  return file ? { summary: summariseProfile(join(dir, file), PROJECT_ROOT, skipMs), requests: measured.result.sentMeasured } : undefined;
}

async function profile(profileDir: string, edRequests: PreparedRequest[]): Promise<void> {
  const floorDir = join(profileDir, 'floor');
  const bridgeDir = join(profileDir, 'bridge');
  mkdirSync(floorDir);
  mkdirSync(bridgeDir);
  const floor = await profiled(floorDir, 'bench/floor-server.ts', [], floorEnvFor('bench-floor:profile'), edRequests);
  const bridge = await profiled(bridgeDir, SERVICE, ['web'], envFor('bench-ingest-prof'), edRequests);
  if (!bridge) {
    detail(BENCH, 'No CPU profile was written (the bridge did not exit cleanly).');
    return;
  }
  detail(BENCH, profileMarkdown(bridge.summary));
  if (floor) detail(BENCH, comparisonMarkdown(floor, bridge));
}

async function allUnderLoad(edRequests: PreparedRequest[]): Promise<void> {
  await freshRedis();
  const all = await startChild({ script: SERVICE, args: ['all'], env: envFor('bench-ingest-all'), nodeFlags: benchNodeFlags() });
  const measured = await measure(all, edRequests, { cycle: false, collectIds: false }).finally(() => all.stop());
  log(BENCH, `ed25519 bridge all: ${describe(measured.result)}, peak RSS ${measured.peakRssMb.toFixed(0)} MB`);
  emit({ bench: 'memory', figure: 'peak RSS of `all` under the Ed25519 ingest load', value: measured.peakRssMb, unit: 'MB', target: '≤ 200 MB', ...marginOf(measured.peakRssMb, 200, 'lower') });
  emit({ bench: 'memory', figure: '`all` ingest throughput (web + workers in one process)', value: measured.result.throughput, unit: 'req/s' });
  emit({ bench: 'memory', figure: '`all` ingest p99', value: measured.result.p99, unit: 'ms' });
}
