/**
 * Benchmark 3, drain under the rate limit: 1,000 contact events over 10 locations, the GHL simulator
 * enforcing 100 requests / 10 s per location. Private-token mode serves one location per bridge, so
 * this runs 10 bridges (one per location, `all`, distinct key prefixes) sharing one Redis. They run
 * in this process (startTestBridge): 10 child processes would cost ~1 GB and many seconds of start-up
 * on 2 cores.
 * Each contact has a Trustpilot review of us (stars 1–5 in turn), so every event needs real writes
 * (fields, note, star tags, a follow-up task for 1–2★) and each location needs several windows of
 * the limit: the benchmark exercises the limiter, not just the first window.
 * What is timed is the drain of a backlog: the webhooks are posted and queued first (the contact-sync
 * queues paused), then every queue is resumed at once and the clock starts. Posting 1,000 signed
 * webhooks into one process takes seconds of CPU (bench/ingest.ts measures ingest on its own); timed
 * together with the drain, it spread each location's first window over those seconds and shifted
 * every later window, which measured the ingest, not the pacing.
 * Lower bound: under a sliding window of `max` calls per `window`, n calls need at least
 * (⌈n/max⌉ − 1) × window (the first `max` go at once, each later batch a window after the one
 * before), per location; the slowest location decides. "Calls ÷ rate" is printed beside it for
 * comparison with older runs: a location can beat it (its first window is free), so it is no bound.
 * Where each location's time beyond the bound went is printed from the simulator's own call log:
 * its last call is chained to the call `max` before it, and so on back to one in the first window,
 * so drained = (that first-window call's time) + (windows − 1) × window + (time lost at each window
 * turn) + (after the last call).
 */
import { request } from 'undici';
import { QUEUE_NAMES } from '../src/queue/catalog.js';
import { startGhlSimulator, type GhlSimulatorLocation } from '../src/sandbox/ghl/simulator.js';
import { startTrustpilotSimulator } from '../src/sandbox/trustpilot/simulator.js';
import { mappedFieldSpecs } from '../src/workers/setup-fields.js';
import { startTestBridge, trustpilotSimulatorEnv, type TestBridge } from '../test/helpers/bridge.js';
import { waitFor } from '../test/helpers/wait.js';
import { createTestSigner } from '../test/helpers/ghl-signing.js';
import { startRedisServer } from '../test/helpers/redis-server.js';
import { signedContactEvents } from './lib/events.js';
import type { PreparedRequest } from './lib/load.js';
import { detail, emit, log, marginOf } from './lib/report.js';

const BENCH = 'drain';
const LOCATION_COUNT = 10;
const EVENTS = Number(process.env.BENCH_DRAIN_EVENTS ?? 1_000);
const LIMIT = { max: 100, windowMs: 10_000 };
const STARS = [1, 2, 3, 4, 5] as const;
/** Attempts per webhook: a 429 (ingest could not queue it in time) is sent again, as GHL redelivers. */
const REDELIVERIES = 60;
/**
 * Reviewed contacts synced per location before the backlog. The first pays each process's one-off
 * lookups; all of them together warm the code the syncs run (a fresh process runs it several times
 * slower until V8 has compiled it: bench/latency.ts reports those first seconds). 25 syncs make about
 * 85 GHL calls per location, within one window of the limit.
 */
const WARMUP_PER_LOCATION = Number(process.env.BENCH_DRAIN_WARMUP ?? 25);
const locations: GhlSimulatorLocation[] = Array.from({ length: LOCATION_COUNT }, (_, i) => ({ id: `locDrain${String(i).padStart(13, '0')}`, token: `pit-drain-${i}` }));

const redis = await startRedisServer();
const ghl = await startGhlSimulator({ locations, rateLimit: LIMIT });
// Trustpilot's own limit is not what this benchmark measures.
const tp = await startTrustpilotSimulator({ rateLimit: { max: 1_000_000, windowMs: 300_000 } });
const signer = createTestSigner();
const bridges: TestBridge[] = [];

try {
  for (const location of locations) {
    bridges.push(
      await startTestBridge({
        mode: 'all',
        redisUrl: redis.url,
        env: {
          GHL_API_BASE_URL: ghl.url,
          GHL_PRIVATE_TOKEN: location.token,
          GHL_LOCATION_ID: location.id,
          GHL_WEBHOOK_ED25519_PUBLIC_KEY: signer.ed25519PublicKeyPem,
          GHL_WEBHOOK_PUBLIC_KEY: signer.rsaPublicKeyPem,
          GHL_RATE_LIMIT: `${LIMIT.max}/${LIMIT.windowMs / 1000}`,
          ...trustpilotSimulatorEnv(tp),
          TRUSTPILOT_RATE_LIMIT: '1000000/300',
          // Every review this run writes fits the index, as an operator sets it for a unit this size
          // (README, TRUSTPILOT_INDEX_MAX_PAGES): with the default 10 pages the oldest reviews (the first
          // locations') fell outside, and only those locations' syncs made per-contact lookups.
          TRUSTPILOT_INDEX_MAX_PAGES: String(Math.ceil((EVENTS + LOCATION_COUNT * WARMUP_PER_LOCATION) / 100) + 1),
          ENCRYPTION_KEY: Buffer.alloc(32, 5).toString('base64'),
          WORKER_CONCURRENCY: '10',
          LOG_LEVEL: 'warn',
        },
      }),
    );
  }
  // The mapped fields exist, as after `setup-fields`, made in the simulator directly so that setting
  // them up spends none of the window the drain is measured in.
  for (const location of locations) {
    for (const spec of mappedFieldSpecs(bridges[0]?.container.mapping ?? fail('no bridge'))) ghl.store.insertCustomField(location.id, { name: spec.name, dataType: spec.dataType, model: 'contact' });
  }
  // Contacts exist in GHL (no webhook URL: the simulator sends nothing) and each has reviewed us; the events are posted signed.
  const perLocation = Math.ceil(EVENTS / LOCATION_COUNT);
  const events = locations.flatMap((location, index) =>
    Array.from({ length: perLocation }, (_, i) => {
      const contact = ghl.userCreateContact(location.id, { firstName: `Drain${i}`, email: `drain${i}@${location.id.toLowerCase()}.example.com` });
      tp.addReview({ stars: STARS[i % STARS.length] ?? 5, title: `Drain review ${i}`, text: `Review by contact ${i}.`, referralEmail: contact.email ?? '', consumerName: `Drain ${i}` });
      const [event] = signedContactEvents(1, 'ed25519', { locationId: location.id, id: contact.id, email: contact.email, firstName: contact.firstName }, 'ContactCreate');
      return { bridge: bridges[index], event };
    }),
  ).slice(0, EVENTS);

  // Warm-up: more reviewed contacts per location, synced before the backlog, so that the drain pays
  // neither each process's one-off lookups (the Trustpilot token, the first listing of our reviews for
  // the index, the business-unit lookup: about a second of calls, longer on a loaded box) nor V8's.
  const syncQueues = bridges.map((bridge) => bridge.container.queues[QUEUE_NAMES.contactSync]);
  const warmStarted = performance.now();
  await postAll(
    locations.flatMap((location, index) =>
      Array.from({ length: WARMUP_PER_LOCATION }, (_, i) => {
        const contact = ghl.userCreateContact(location.id, { firstName: `Warm${i}`, email: `warm${i}@${location.id.toLowerCase()}.example.com` });
        tp.addReview({ stars: STARS[i % STARS.length] ?? 5, title: `Warm-up review ${i}`, text: `Review by warm-up contact ${i}.`, referralEmail: contact.email ?? '', consumerName: `Warm Up ${i}` });
        const [event] = signedContactEvents(1, 'ed25519', { locationId: location.id, id: contact.id, email: contact.email, firstName: contact.firstName }, 'ContactCreate');
        return { bridge: bridges[index], event };
      }),
    ),
    {},
  );
  await waitFor(
    async () => {
      for (const queue of syncQueues) if (((await queue.getJobCounts('completed')).completed ?? 0) < WARMUP_PER_LOCATION) return undefined;
      return true;
    },
    120_000,
    'the warm-up syncs to finish',
  );
  const warmMs = performance.now() - warmStarted;
  const warmCallsEnd = Math.max(0, ...ghl.calls.map((call) => call.at));

  // The backlog: every webhook taken and its sync job queued, no sync started.
  for (const queue of syncQueues) await queue.pause();
  const postStarted = performance.now();
  const statuses: Record<string, number> = {};
  const redelivered = await postAll(events, statuses);
  const postedMs = performance.now() - postStarted;
  log(BENCH, `posted ${events.length} events in ${Math.round(postedMs)} ms: ${JSON.stringify(statuses)}, ${redelivered} redelivered after a 429`);
  await waitFor(
    async () => {
      for (const queue of syncQueues) {
        const counts = await queue.getJobCounts('wait', 'paused', 'prioritized', 'delayed');
        if (Object.values(counts).reduce((sum, count) => sum + count, 0) < perLocation) return undefined;
      }
      return true;
    },
    Math.max(60_000, EVENTS * 100),
    'every sync job to be queued',
  );
  const queuedMs = performance.now() - postStarted;
  // The warm-up's calls leave the window (GHL's, and ours with its margin) before the drain starts.
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, warmCallsEnd + LIMIT.windowMs + 500 - Date.now())));
  const callsBefore = ghl.calls.length;

  const started = performance.now();
  const startedWall = Date.now();
  await Promise.all(syncQueues.map((queue) => queue.resume()));

  const finishedAt = new Map<string, number>();
  await waitFor(
    async () => {
      for (const [index, bridge] of bridges.entries()) {
        const id = locations[index]?.id ?? '';
        if (finishedAt.has(id)) continue;
        const counts = await bridge.container.queues[QUEUE_NAMES.contactSync].getJobCounts('completed', 'failed');
        // The warm-up's syncs are among the completed.
        if ((counts.completed ?? 0) + (counts.failed ?? 0) >= perLocation + WARMUP_PER_LOCATION) finishedAt.set(id, performance.now() - started);
      }
      return finishedAt.size === bridges.length ? true : undefined;
    },
    Math.max(120_000, EVENTS * 200),
    'every contact sync to finish',
  );
  const elapsedMs = Math.max(...finishedAt.values());

  let failed = 0;
  for (const bridge of bridges) {
    for (const queue of [QUEUE_NAMES.contactSync, QUEUE_NAMES.ghlWebhooks] as const) failed += (await bridge.container.queues[queue].getJobCounts('failed')).failed ?? 0;
    failed += (await bridge.container.queues[QUEUE_NAMES.deadLetter].getJobCounts('waiting')).waiting ?? 0;
  }
  const rows: string[] = [];
  let worstBoundMs = 0;
  let worstRateMs = 0;
  let refused = 0;
  let worstInWindow = 0;
  for (const location of locations) {
    const calls = ghl.calls.slice(callsBefore).filter((call) => call.locationId === location.id);
    const admitted = calls.filter((call) => call.status !== 429).length;
    refused += calls.length - admitted;
    const rateMs = (admitted / LIMIT.max) * LIMIT.windowMs;
    const boundMs = slidingBoundMs(admitted);
    worstRateMs = Math.max(worstRateMs, rateMs);
    worstBoundMs = Math.max(worstBoundMs, boundMs);
    const drainedMs = finishedAt.get(location.id) ?? 0;
    const parts = timeParts(calls.filter((call) => call.status !== 429).map((call) => call.at - startedWall), drainedMs);
    worstInWindow = Math.max(worstInWindow, ghl.maxCallsInAnyWindow(location.id));
    rows.push(
      `| ${location.id} | ${admitted} | ${calls.length - admitted} | ${ghl.maxCallsInAnyWindow(location.id)} | ${(boundMs / 1000).toFixed(1)} s | ${(drainedMs / 1000).toFixed(1)} s | ${boundMs > 0 ? `${(drainedMs / boundMs).toFixed(3)}×` : ''} | ` +
        `${parts.firstMs} ms | ${parts.leadMs} ms | ${parts.turnsMs.join(' + ')} ms | ${parts.tailMs} ms |`,
    );
  }
  const byEndpoint = new Map<string, number>();
  for (const call of ghl.calls.slice(callsBefore)) {
    const key = `${call.method} ${call.path.split('/').map((segment) => (/^[A-Za-z0-9]{16,}$/.test(segment) ? ':id' : segment)).join('/')}`;
    byEndpoint.set(key, (byEndpoint.get(key) ?? 0) + 1);
  }
  const drainFigure = `time to drain ${events.length} events over ${LOCATION_COUNT} locations vs the sliding-window bound ((⌈calls/${LIMIT.max}⌉ − 1) × ${LIMIT.windowMs / 1000} s, slowest location)`;
  if (worstBoundMs > 0) {
    const ratio = elapsedMs / worstBoundMs;
    emit({ bench: BENCH, figure: drainFigure, value: elapsedMs / 1000, unit: 's', baseline: worstBoundMs / 1000, ratio, target: '≤ 1.05× bound', ...marginOf(ratio, 1.05, 'lower') });
  } else {
    // Every location fits in one window: the bound is 0 and no ratio means anything.
    emit({ bench: BENCH, figure: `${drainFigure} (bound 0: every location within one window)`, value: elapsedMs / 1000, unit: 's', baseline: 0 });
  }
  emit({ bench: BENCH, figure: 'same, against calls ÷ rate (not a bound: the first window is free; for comparison with older runs)', value: elapsedMs / 1000, unit: 's', baseline: worstRateMs / 1000, ratio: elapsedMs / Math.max(1, worstRateMs) });
  emit({ bench: BENCH, figure: 'most GHL calls in any window ÷ limit, worst location', value: worstInWindow / LIMIT.max, unit: '×', target: '≤ 1 at every location', ...marginOf(worstInWindow / LIMIT.max, 1, 'lower') });
  emit({ bench: BENCH, figure: 'jobs failed (429 or otherwise) + dead letters', value: failed, unit: 'jobs', target: '= 0', met: failed === 0 });
  emit({ bench: BENCH, figure: 'GHL answers 429', value: refused, unit: 'calls' });
  emit({ bench: BENCH, figure: 'webhooks the bridge answered 429 (redelivered, as GHL would)', value: redelivered, unit: 'webhooks' });
  detail(
    BENCH,
    [
      `10 bridges (\`all\`, one per location, WORKER_CONCURRENCY 10, COALESCE_WINDOW_MS 0, GHL_RATE_LIMIT 100/10) in one process with the simulators, sharing one Redis with distinct prefixes. ` +
        'Every contact has a Trustpilot review (1–5★ in turn): each sync writes fields, a note, star tags and, for 1–2★, a follow-up task. ' +
        `Events are signed ContactCreate webhooks for contacts that exist in the simulator. First ${WARMUP_PER_LOCATION} warm-up syncs per location (${Math.round(warmMs)} ms: each process's Trustpilot token, review index and business-unit lookup, paid once, and V8 compiling the code they run). ` +
        `Then the backlog, with the contact-sync queues paused: all ${events.length} posted at once (${Math.round(postedMs)} ms, ${redelivered} sent again after a 429 as GHL redelivers), every sync job queued after ${Math.round(queuedMs)} ms, and a pause until the warm-up's ${callsBefore} GHL calls had left the window. ` +
        'Time runs from resuming the queues to the last completed sync of each location.',
      '',
      `Where the time went, from the simulator's call log: the location's last call is chained to the call ${LIMIT.max} before it, and so on back to one in the first window (the "chain start"); ` +
        `drained = chain start + (windows − 1) × ${LIMIT.windowMs / 1000} s + what each window turn lost beyond ${LIMIT.windowMs / 1000} s + the time after the last call (its answer and the job's completion).`,
      '',
      `| location | calls admitted | 429s | most in any ${LIMIT.windowMs / 1000} s window | bound ((⌈calls/${LIMIT.max}⌉ − 1) × ${LIMIT.windowMs / 1000} s) | drained after | ÷ bound | first call | chain start | lost at window turns | after last call |`,
      '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
      ...rows,
      '',
      `GHL calls by endpoint, all locations: ${[...byEndpoint].sort((a, b) => b[1] - a[1]).map(([endpoint, count]) => `\`${endpoint}\` ${count}`).join(', ')}. ` +
        `Trustpilot calls during the drain: ${tp.calls.filter((call) => call.at >= startedWall).length} (0 when the review index answers for every contact).`,
    ].join('\n'),
  );
} finally {
  for (const bridge of bridges) await bridge.close();
  await tp.close();
  await ghl.close();
  await redis.close();
}

/**
 * Posts signed webhooks all at once, as GHL delivers a burst: a 429 (ingest could not queue it in
 * time) is redelivered after its Retry-After (here at most 1 s) until it is taken. Counts statuses
 * into `statuses`; returns how many were sent again.
 */
async function postAll(batch: { bridge: TestBridge | undefined; event: PreparedRequest | undefined }[], statuses: Record<string, number>): Promise<number> {
  let redelivered = 0;
  await Promise.all(
    batch.map(async ({ bridge, event }) => {
      if (!bridge || !event) return;
      for (let attempt = 1; ; attempt++) {
        const response = await request(`${bridge.url}/webhooks/ghl`, { method: 'POST', headers: event.headers, body: event.body });
        await response.body.dump();
        statuses[response.statusCode] = (statuses[response.statusCode] ?? 0) + 1;
        if (response.statusCode !== 429 || attempt >= REDELIVERIES) return;
        redelivered++;
        const retryAfter = Number(response.headers['retry-after'] ?? 1);
        await new Promise((resolve) => setTimeout(resolve, Math.min(1_000, Math.max(50, retryAfter * 1000))));
      }
    }),
  );
  return redelivered;
}

/** Fewest ms `calls` calls can take under LIMIT.max per sliding LIMIT.windowMs (the first burst at 0). */
function slidingBoundMs(calls: number): number {
  return Math.max(0, Math.ceil(calls / LIMIT.max) - 1) * LIMIT.windowMs;
}

/** The parts of a location's drain time (see the header): call times in ms from the start, sorted here. */
function timeParts(at: number[], drainedMs: number): { firstMs: number; leadMs: number; turnsMs: number[]; tailMs: number } {
  at.sort((a, b) => a - b);
  const last = at.length - 1;
  if (last < 0) return { firstMs: 0, leadMs: 0, turnsMs: [], tailMs: Math.round(drainedMs) };
  const turnsMs: number[] = [];
  let index = last;
  for (; index - LIMIT.max >= 0; index -= LIMIT.max) turnsMs.unshift((at[index] ?? 0) - (at[index - LIMIT.max] ?? 0) - LIMIT.windowMs);
  return { firstMs: at[0] ?? 0, leadMs: at[index] ?? 0, turnsMs, tailMs: Math.round(drainedMs - (at[last] ?? 0)) };
}

function fail(message: string): never {
  throw new Error(message);
}
