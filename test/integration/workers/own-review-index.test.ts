/**
 * The shared index of our business unit's reviews, through the Trustpilot lookup, against the
 * Trustpilot simulator and a real redis-server, counting what the simulator saw: a complete index
 * listed after the event answers new contacts without a per-contact call; a miss for a later event
 * (or a cached "no review" older than it) costs one delta refresh, shared by every lookup waiting;
 * refreshes read newest first down to the high-water mark; an incomplete index and a failed refresh
 * fall back to per-contact lookups; two workers refresh once; notifications keep it current; new and
 * edited reviews are routed once per version; every call is taken from the budget.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { PrivateReviewSchema } from '../../../src/clients/trustpilot/schemas.js';
import { createMemoryTokenStore } from '../../../src/clients/trustpilot/token-store.js';
import { createTrustpilotClient, type TrustpilotClient } from '../../../src/clients/trustpilot/trustpilot-client.js';
import { TrustpilotMappingSchema, type TrustpilotMapping } from '../../../src/config/mapping.js';
import type { ContactSnapshot } from '../../../src/domain/plan.js';
import { startTrustpilotSimulator, TRUSTPILOT_SANDBOX_DEFAULTS as TP, type RecordedCall, type TrustpilotSimulator } from '../../../src/sandbox/trustpilot/simulator.js';
import { createLookupCache } from '../../../src/state/lookup-cache.js';
import { createReviewIndexStore, type ReviewIndexStore } from '../../../src/state/review-index.js';
import { createOwnReviewIndex, type OwnReviewIndex } from '../../../src/workers/own-review-index.js';
import { createTrustpilotLookup, type TrustpilotLookup } from '../../../src/workers/trustpilot-lookup.js';
import { createReviewRouter, type ReviewRouter } from '../../../src/workers/trustpilot-review-router.js';
import type { TrustpilotEventJob } from '../../../src/queue/catalog.js';
import { startRedisServer, type RedisServerHandle } from '../../helpers/redis-server.js';

const WINDOW_MS = 300_000;
const LIST_PATH = `/v1/private/business-units/${TP.businessUnitId}/reviews`;
const DAY = Date.parse('2026-03-01T12:00:00.000Z');

let server: RedisServerHandle;
let redis: Redis;
const simulators: TrustpilotSimulator[] = [];
const clients: TrustpilotClient[] = [];
const connections: Redis[] = [];

before(async () => {
  server = await startRedisServer();
  redis = new Redis(server.url);
});

after(async () => {
  for (const client of clients) await client.close();
  for (const sim of simulators) await sim.close();
  for (const connection of connections) await connection.quit();
  await redis.quit();
  await server.close();
});

interface World {
  sim: TrustpilotSimulator;
  lookup: TrustpilotLookup;
  index: OwnReviewIndex;
  store: ReviewIndexStore;
  /** Budget units taken by the client. */
  taken: () => number;
  /** The index's clock; moved by hand to pass refresh windows. */
  clock: { now: number };
}

interface WorldOptions {
  sim?: TrustpilotSimulator;
  prefix?: string;
  maxPages?: number;
  mapping?: Partial<TrustpilotMapping>;
  credentials?: boolean;
  redis?: Redis;
  clock?: { now: number };
  /** Runs before each page the index asks for (not the per-contact listings): a hook to inject faults at a given page. */
  beforeIndexPage?: (page: number) => void;
  router?: ReviewRouter;
}

async function startSim(): Promise<TrustpilotSimulator> {
  const sim = await startTrustpilotSimulator();
  simulators.push(sim);
  return sim;
}

async function world(options: WorldOptions = {}): Promise<World> {
  const sim = options.sim ?? (await startSim());
  const prefix = options.prefix ?? `idx-${randomBytes(4).toString('hex')}`;
  const connection = options.redis ?? redis;
  let taken = 0;
  const client = createTrustpilotClient({
    baseUrl: sim.url,
    apiKey: TP.apiKey,
    ...(options.credentials === false ? {} : { apiSecret: TP.apiSecret, username: TP.username, password: TP.password }),
    timeoutMs: 3_000,
    budget: {
      async take() {
        taken += 1;
      },
    },
    tokenStore: createMemoryTokenStore(),
  });
  clients.push(client);
  const clock = options.clock ?? { now: DAY };
  const store = createReviewIndexStore(connection, prefix, TP.businessUnitId);
  const beforeIndexPage = options.beforeIndexPage;
  const indexClient: TrustpilotClient = beforeIndexPage
    ? {
        ...client,
        listPrivateReviews: (businessUnitId, filter) => {
          beforeIndexPage(filter.page ?? 1);
          return client.listPrivateReviews(businessUnitId, filter);
        },
      }
    : client;
  const index = createOwnReviewIndex({
    client: indexClient,
    store,
    businessUnitId: TP.businessUnitId,
    refreshMs: WINDOW_MS,
    maxPages: options.maxPages ?? 10,
    rescanMs: 6 * 3_600_000,
    lockPollMs: 10,
    now: () => clock.now,
    ...(options.router ? { router: options.router } : {}),
  });
  const mapping = TrustpilotMappingSchema.parse({ ...options.mapping });
  const lookup = createTrustpilotLookup({ client, cache: createLookupCache(connection, prefix), businessUnitId: TP.businessUnitId, ttlMs: 6 * 3_600_000, mapping, index, now: () => clock.now });
  return { sim, lookup, index, store, taken: () => taken, clock };
}

let contactCounter = 0;
function contact(email?: string, id = `ct${String(++contactCounter).padStart(6, '0')}${randomBytes(3).toString('hex')}`): ContactSnapshot {
  return { id, locationId: 'locIndexTest', tags: [], customFields: [], ...(email ? { email } : {}) };
}

const minutesAgo = (minutes: number) => new Date(DAY - minutes * 60_000).toISOString();
const listings = (sim: TrustpilotSimulator, from = 0): RecordedCall[] => sim.calls.slice(from).filter((call) => call.path === LIST_PATH);
/** Listings of the whole unit (the index), as opposed to one contact's (filtered by referenceId or email). */
const indexPages = (sim: TrustpilotSimulator, from = 0) => listings(sim, from).filter((call) => call.query.referenceId === undefined && call.query.referralEmail === undefined);
const perContact = (sim: TrustpilotSimulator, from = 0) => listings(sim, from).filter((call) => call.query.referenceId !== undefined || call.query.referralEmail !== undefined);

/** `count` reviews with referral emails `<tag><i>@example.com`, the newest first (i = 0), a minute apart, ending `endMinutesAgo` ago. */
function seed(sim: TrustpilotSimulator, tag: string, count: number, endMinutesAgo = 0): string[] {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    ids.push(sim.addReview({ stars: 4, title: `${tag} ${i}`, text: 'Fine.', referralEmail: `${tag}${i}@example.com`, createdAt: minutesAgo(endMinutesAgo + i) }).id);
  }
  return ids;
}

describe('a fresh, complete index', () => {
  test('answers new contacts by referenceId, email (any case) and stored review id without a per-contact call; every call is budgeted', async () => {
    const w = await world();
    const byReference = w.sim.addReview({ stars: 5, title: 'Great', text: 'Great.', referenceId: 'ctByReference0001', createdAt: minutesAgo(30) });
    const byEmail = w.sim.addReview({ stars: 2, title: 'Meh', text: 'Meh.', referralEmail: 'Mixed.Case@Example.com', createdAt: minutesAgo(20) });
    w.sim.addReview({ stars: 3, title: 'Organic', text: 'No invitation.', createdAt: minutesAgo(10) });

    assert.equal((await w.lookup.review(contact(undefined, 'ctByReference0001'), undefined, w.clock.now))?.id, byReference.id);
    assert.equal((await w.lookup.review(contact('mixed.case@EXAMPLE.com'), undefined, w.clock.now))?.id, byEmail.id);
    for (let i = 0; i < 5; i++) assert.equal(await w.lookup.review(contact(`nobody${i}@example.com`), undefined, w.clock.now), null);
    // A contact whose stored review id is all there is to go on.
    assert.equal((await w.lookup.review(contact(), byEmail.id, w.clock.now))?.stars, 2);

    const pages = indexPages(w.sim);
    assert.equal(pages.length, 1, 'one listing for the whole unit');
    assert.deepEqual(pages[0]?.query, { page: '1', perPage: '100', orderBy: 'createdat.desc' });
    assert.equal(perContact(w.sim).length, 0, 'no per-contact listing');
    assert.equal(w.sim.calls.filter((call) => call.path.startsWith('/v1/private/reviews/')).length, 0, 'no single-review read');
    assert.equal(w.taken(), w.sim.calls.length, 'every call, the token call included, took a unit of the budget');

    // Events received before the listing started cost nothing at all, however much later they are looked up.
    const before = w.sim.calls.length;
    const listedAt = w.clock.now;
    w.clock.now += WINDOW_MS - 1;
    assert.equal(await w.lookup.review(contact('later@example.com'), undefined, listedAt), null);
    assert.equal(w.sim.calls.length, before);
    // An event received after it: one delta refresh (one page) before the miss is an answer.
    assert.equal(await w.lookup.review(contact('later2@example.com'), undefined, w.clock.now), null);
    assert.equal(indexPages(w.sim, before).length, 1);
    assert.equal(w.sim.calls.length, before + 1);
  });

  test('a refresh reads newest first only down to the high-water mark', async () => {
    const w = await world();
    seed(w.sim, 'old', 150, 500);
    assert.equal((await w.lookup.review(contact('old149@example.com'), undefined, w.clock.now))?.title, 'old 149');
    assert.deepEqual(indexPages(w.sim).map((call) => call.query.page), ['1', '2'], 'the first build reads to the last page');
    assert.equal((await w.index.refresh()).complete, true);

    seed(w.sim, 'new', 120, 100);
    const mark = w.sim.calls.length;
    w.clock.now += WINDOW_MS;
    assert.equal((await w.lookup.review(contact('new119@example.com'), undefined, w.clock.now))?.title, 'new 119');
    // Page 2 holds the last 20 new reviews and then old ones: the mark is passed, page 3 is not read.
    assert.deepEqual(indexPages(w.sim, mark).map((call) => call.query.page), ['1', '2']);
    assert.equal(perContact(w.sim).length, 0);
    const meta = await w.index.refresh();
    assert.equal(meta.complete, true);
    assert.equal(meta.highWater, Date.parse(minutesAgo(100)));
  });

  test('a cached "no review" answers only events received before it was true; a later event finds the review', async () => {
    const w = await world();
    const known = contact('repeat@example.com');
    const first = w.clock.now;
    assert.equal(await w.lookup.review(known, undefined, first), null);
    w.sim.addReview({ stars: 5, title: 'Late', text: 'Late.', referralEmail: 'repeat@example.com' });
    w.clock.now += WINDOW_MS;
    const mark = w.sim.calls.length;
    // A retry of the first event: the cached answer stands, no call.
    assert.equal(await w.lookup.review(known, undefined, first), null);
    assert.equal(w.sim.calls.length, mark);
    // The contact's next event: the cached "no review" is older, one delta refresh finds the review.
    assert.equal((await w.lookup.review(known, undefined, w.clock.now))?.title, 'Late');
    assert.equal(indexPages(w.sim, mark).length, 1);
    assert.equal(perContact(w.sim, mark).length, 0);
    // Found is found: the next event costs nothing.
    w.clock.now += WINDOW_MS;
    assert.equal((await w.lookup.review(known, undefined, w.clock.now))?.title, 'Late');
    assert.equal(w.sim.calls.length, mark + 1);
  });
});

describe('fresh answers', () => {
  test('a review written after the last listing is found on the next event: one delta refresh, no per-contact call', async () => {
    const w = await world();
    seed(w.sim, 'base', 5, 60);
    assert.equal(await w.lookup.review(contact('fresh@example.com'), undefined, w.clock.now), null);
    const listed = w.clock.now;
    // A minute later the customer reviews us; a second later their contact changes.
    w.clock.now += 60_000;
    w.sim.addReview({ stars: 1, title: 'Just now', text: 'Just now.', referralEmail: 'fresh@example.com', createdAt: new Date(w.clock.now).toISOString() });
    w.clock.now += 1_000;
    const mark = w.sim.calls.length;
    // The same contact, whose "no review" is cached from before: not the answer for this event.
    const known = contact('fresh@example.com');
    assert.equal(await w.lookup.review(known, undefined, listed), null, 'an event from before the review: the cached or listed answer stands');
    assert.equal(w.sim.calls.length, mark, 'and costs nothing');
    assert.equal((await w.lookup.review(known, undefined, w.clock.now))?.title, 'Just now');
    assert.deepEqual(indexPages(w.sim, mark).map((call) => call.query.page), ['1'], 'one delta refresh of one page');
    assert.equal(perContact(w.sim, mark).length, 0);
  });

  test('a batch of contacts waiting together across two workers costs one delta refresh', async () => {
    const sim = await startSim();
    seed(sim, 'batch-old', 3, 120);
    const prefix = `idx-${randomBytes(4).toString('hex')}`;
    const other = new Redis(server.url);
    connections.push(other);
    const clock = { now: DAY };
    const a = await world({ sim, prefix, clock });
    const b = await world({ sim, prefix, clock, redis: other });
    assert.equal(await a.lookup.review(contact('first-batch@example.com'), undefined, clock.now), null);
    clock.now += 5 * 60_000;
    const ids = seed(sim, 'batch', 10, 1);
    const mark = sim.calls.length;
    // Slow the first page so every lookup is waiting while it runs.
    sim.injectFault({ fault: { kind: 'latency', ms: 300 }, method: 'GET', path: new RegExp(`^${LIST_PATH}$`), times: 1 });
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? a : b).lookup.review(contact(`batch${i}@example.com`), undefined, clock.now)),
    );
    assert.deepEqual(
      answers.map((answer) => answer?.id ?? null),
      Array.from({ length: 20 }, (_, i) => ids[i] ?? null),
    );
    assert.equal(indexPages(sim, mark).length, 1, 'one refresh for 20 lookups on two workers');
    assert.equal(perContact(sim, mark).length, 0);
  });
});

describe('routing reviews to their contacts', () => {
  interface Routed {
    job: TrustpilotEventJob;
    dedupeKey: string;
  }
  async function routedWorld(): Promise<World & { routed: Routed[] }> {
    const routed: Routed[] = [];
    const prefix = `idx-${randomBytes(4).toString('hex')}`;
    const store = createReviewIndexStore(redis, prefix, TP.businessUnitId);
    const router = createReviewRouter({
      store,
      enqueue: async (job, dedupeKey) => {
        routed.push({ job, dedupeKey });
      },
    });
    return { ...(await world({ prefix, router })), routed };
  }

  test('history is not routed; a new review is routed once with the review as read; an edit once more; keyless reviews never', async () => {
    const w = await routedWorld();
    seed(w.sim, 'history', 3, 60);
    // The first listing ever: everything in it is history.
    await w.index.refreshSince(w.clock.now);
    assert.equal(w.routed.length, 0);

    const review = w.sim.addReview({ stars: 2, title: 'New one', text: 'New.', referenceId: 'ctRouted000001', createdAt: new Date(w.clock.now + 1_000).toISOString() });
    w.sim.addReview({ stars: 5, title: 'Organic', text: 'No invitation.', createdAt: new Date(w.clock.now + 2_000).toISOString() });
    w.clock.now += 60_000;
    await w.index.refreshSince(w.clock.now);
    assert.equal(w.routed.length, 1);
    const [first] = w.routed;
    assert.equal(first?.job.reviewId, review.id);
    assert.equal(first?.job.source, 'poll');
    assert.equal(first?.job.eventName, 'service-review-created');
    assert.equal(PrivateReviewSchema.parse(first?.job.eventData).referenceId, 'ctRouted000001', 'the review as read travels with the job');

    // Unchanged: read again, not routed again.
    w.clock.now += 60_000;
    await w.index.refreshSince(w.clock.now);
    assert.equal(w.routed.length, 1);

    // Edited (the edit moves updatedAt, here to the simulator's clock, after the listing above).
    w.sim.updateReview(review.id, { stars: 5, title: 'Sorted' });
    w.clock.now += 60_000;
    await w.index.refreshSince(w.clock.now);
    assert.equal(w.routed.length, 2);
    assert.equal(w.routed[1]?.job.eventName, 'service-review-updated');
    assert.notEqual(w.routed[1]?.dedupeKey, first?.dedupeKey, 'a new version is a new job');
    assert.equal(PrivateReviewSchema.parse(w.routed[1]?.job.eventData).title, 'Sorted');
  });

  test('a review a notification already brought is not routed again by the listing', async () => {
    const w = await routedWorld();
    await w.index.refreshSince(w.clock.now);
    const review = w.sim.addReview({ stars: 4, title: 'Notified', text: 'Notified.', referralEmail: 'notified-route@example.com', createdAt: new Date(w.clock.now + 1_000).toISOString() });
    const client = createTrustpilotClient({ baseUrl: w.sim.url, apiKey: TP.apiKey, apiSecret: TP.apiSecret, username: TP.username, password: TP.password, timeoutMs: 3_000, budget: { async take() {} }, tokenStore: createMemoryTokenStore() });
    clients.push(client);
    const fetched = await client.getPrivateReview(review.id);
    assert.ok(fetched);
    await w.lookup.observe(fetched);
    w.clock.now += 60_000;
    await w.index.refreshSince(w.clock.now);
    assert.deepEqual(w.routed, []);
  });
});

describe('falling back to per-contact lookups', () => {
  test('an incomplete index (more pages than allowed) answers hits and looks misses up per contact', async () => {
    const w = await world({ maxPages: 1 });
    seed(w.sim, 'big', 150);
    assert.equal((await w.lookup.review(contact('big5@example.com'), undefined, w.clock.now))?.title, 'big 5');
    assert.equal(perContact(w.sim).length, 0, 'a hit costs no per-contact call');
    assert.deepEqual(indexPages(w.sim).map((call) => call.query.page), ['1'], 'the first build stops at the page budget');
    assert.equal((await w.index.refresh()).complete, false);

    // On page 2, which the index never read: found per contact.
    assert.equal((await w.lookup.review(contact('big140@example.com'), undefined, w.clock.now))?.title, 'big 140');
    // No review anywhere: per contact too (referenceId, then email), and the answer is null.
    const mark = w.sim.calls.length;
    assert.equal(await w.lookup.review(contact('none@example.com'), undefined, w.clock.now), null);
    assert.deepEqual(
      perContact(w.sim, mark).map((call) => Object.keys(call.query).filter((name) => name === 'referenceId' || name === 'referralEmail')),
      [['referenceId'], ['referralEmail']],
    );
    assert.equal(indexPages(w.sim).length, 1, 'no second refresh within the window');
  });

  test('a 503 mid-paging leaves the index incomplete and untrusted: what it read is found, misses are not answered; the next refresh completes it', async () => {
    const sim = await startSim();
    let failPage: number | undefined = 2;
    const w = await world({
      sim,
      maxPages: 5,
      beforeIndexPage: (page) => {
        if (page !== failPage) return;
        failPage = undefined;
        sim.injectFault({ fault: { kind: 'status', status: 503 }, method: 'GET', path: new RegExp(`^${LIST_PATH}$`), times: 1 });
      },
    });
    seed(w.sim, 'mid', 250);
    const original = w.sim.calls.length;
    const failed = await w.index.refresh();
    assert.deepEqual(
      indexPages(w.sim, original).map((call) => [call.query.page, call.status]),
      [['1', 200], ['2', 503]],
    );
    assert.equal(failed.complete, false, 'a failed refresh is never complete');
    assert.equal(failed.ok, false);
    assert.equal(failed.highWater, undefined, 'the mark does not move');

    // mid3 is on page 1, already indexed: a found review is a true answer, no call.
    const mark = w.sim.calls.length;
    assert.equal((await w.lookup.review(contact('mid3@example.com'), undefined, w.clock.now))?.title, 'mid 3');
    assert.equal(w.sim.calls.length, mark);
    // A miss for an event no later than the failed attempt: that attempt is not repeated, the answer comes per contact.
    assert.equal(await w.lookup.review(contact('nobody-yet@example.com'), undefined, w.clock.now), null);
    assert.equal(perContact(w.sim, mark).length, 2);
    assert.equal(indexPages(w.sim, mark).length, 0, 'no new attempt for the same moment');

    w.clock.now += WINDOW_MS;
    const next = w.sim.calls.length;
    assert.equal(await w.lookup.review(contact('nobody-mid@example.com'), undefined, w.clock.now), null);
    assert.deepEqual(indexPages(w.sim, next).map((call) => call.query.page), ['1', '2', '3']);
    assert.equal(perContact(w.sim, next).length, 0);
    const meta = await w.index.refresh();
    assert.equal(meta.complete, true);
    assert.equal(meta.ok, true);
  });
});

describe('failed refreshes', () => {
  test('a 429 on the refresh of a complete index: the lookup goes per contact; the failed moment is not retried; a later event refreshes', async () => {
    const sim = await startSim();
    let failNext = false;
    const w = await world({
      sim,
      beforeIndexPage: () => {
        if (!failNext) return;
        failNext = false;
        sim.injectFault({ fault: { kind: 'rate-limit', retryAfterSeconds: 30 }, method: 'GET', path: new RegExp(`^${LIST_PATH}$`), times: 1 });
      },
    });
    seed(sim, 'rl', 3);
    assert.equal((await w.lookup.review(contact('rl0@example.com'), undefined, w.clock.now))?.title, 'rl 0');
    assert.equal((await w.index.refresh()).complete, true);

    failNext = true;
    w.clock.now += WINDOW_MS;
    sim.addReview({ stars: 4, title: 'rl new', text: 'Fine.', referralEmail: 'rl-new@example.com', createdAt: new Date(w.clock.now - 60_000).toISOString() });
    const mark = sim.calls.length;
    assert.equal((await w.lookup.review(contact('rl-new@example.com'), undefined, w.clock.now))?.title, 'rl new');
    assert.deepEqual(indexPages(sim, mark).map((call) => call.status), [429]);
    assert.equal(perContact(sim, mark).length, 2, 'looked up per contact: referenceId (nothing), then email');
    const meta = await w.index.refresh();
    assert.equal(meta.ok, false);
    assert.equal(indexPages(sim, mark).length, 1, 'the failed window is not retried at once');

    w.clock.now += WINDOW_MS;
    const next = sim.calls.length;
    assert.equal(await w.lookup.review(contact('nobody-rl@example.com'), undefined, w.clock.now), null);
    assert.equal(perContact(sim, next).length, 0);
    assert.deepEqual(indexPages(sim, next).map((call) => call.status), [200]);
  });
});

describe('several workers', () => {
  test('two workers (own Redis connections, own clients) refresh once between them; both answer from the index', async () => {
    const sim = await startSim();
    seed(sim, 'pair', 5);
    const prefix = `idx-${randomBytes(4).toString('hex')}`;
    const other = new Redis(server.url);
    connections.push(other);
    const clock = { now: DAY };
    const a = await world({ sim, prefix, clock });
    const b = await world({ sim, prefix, clock, redis: other });
    // Slow the first index page so the two lookups overlap for certain.
    sim.injectFault({ fault: { kind: 'latency', ms: 300 }, method: 'GET', path: new RegExp(`^${LIST_PATH}$`), times: 1 });
    const [first, second] = await Promise.all([a.lookup.review(contact('pair1@example.com'), undefined, clock.now), b.lookup.review(contact('nobody-pair@example.com'), undefined, clock.now)]);
    assert.equal(first?.title, 'pair 1');
    assert.equal(second, null);
    assert.equal(indexPages(sim).length, 1, 'one refresh for both workers');
    assert.equal(perContact(sim).length, 0);
  });

  test('while another worker holds the refresh lock, a lookup waits for its result and calls nothing itself', async () => {
    const w = await world();
    const review = w.sim.addReview({ stars: 4, title: 'Held', text: 'Held.', referralEmail: 'held@example.com' });
    // The "other worker": takes the lock, indexes what it read, commits, releases.
    const token = await w.store.tryLock(10_000);
    assert.ok(token);
    const answer = w.lookup.review(contact('held@example.com'), undefined, w.clock.now);
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(w.sim.calls.length, 0, 'no call while the lock is held');
    await w.store.markAttempt(w.clock.now);
    await w.index.observe(PrivateReviewSchema.parse({ id: review.id, referralEmail: 'held@example.com', stars: 4, title: 'Held', createdAt: minutesAgo(0) }));
    await w.store.commit({ highWater: w.clock.now, complete: true, refreshedAt: w.clock.now, scannedAt: w.clock.now });
    await w.store.releaseLock(token);
    assert.equal((await answer)?.title, 'Held');
    assert.equal(w.sim.calls.length, 0);
  });

  test('concurrent lookups in one worker share one refresh', async () => {
    const w = await world();
    seed(w.sim, 'many', 3);
    w.sim.injectFault({ fault: { kind: 'latency', ms: 200 }, method: 'GET', path: new RegExp(`^${LIST_PATH}$`), times: 1 });
    const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => w.lookup.review(contact(`many${i}@example.com`), undefined, w.clock.now)));
    assert.deepEqual(answers.map((answer) => answer?.title ?? null), ['many 0', 'many 1', 'many 2', null, null, null, null, null, null, null]);
    assert.equal(indexPages(w.sim).length, 1);
    assert.equal(perContact(w.sim).length, 0);
  });
});

describe('notifications', () => {
  test('a re-fetched review is indexed at once, an edit replaces it, a deletion removes it: no listing needed', async () => {
    const w = await world();
    assert.equal(await w.lookup.review(contact('first@example.com'), undefined, w.clock.now), null);
    const mark = w.sim.calls.length;

    const created = w.sim.addReview({ stars: 1, title: 'Bad', text: 'Bad.', referralEmail: 'Notified@Example.com' });
    const client = createTrustpilotClient({ baseUrl: w.sim.url, apiKey: TP.apiKey, apiSecret: TP.apiSecret, username: TP.username, password: TP.password, timeoutMs: 3_000, budget: { async take() {} }, tokenStore: createMemoryTokenStore() });
    clients.push(client);
    const fresh = await client.getPrivateReview(created.id);
    assert.ok(fresh);
    await w.lookup.observe(fresh);
    assert.equal((await w.lookup.review(contact('notified@example.com'), undefined, w.clock.now))?.stars, 1);

    w.sim.updateReview(created.id, { stars: 5, title: 'Sorted' });
    const edited = await client.getPrivateReview(created.id);
    assert.ok(edited);
    await w.lookup.observe(edited);
    assert.equal((await w.lookup.review(contact('notified@example.com'), undefined, w.clock.now))?.title, 'Sorted');

    w.sim.deleteReview(created.id);
    await w.lookup.forget(created.id);
    assert.equal(await w.lookup.review(contact('notified@example.com'), undefined, w.clock.now), null);
    assert.equal(await w.lookup.review(contact(), created.id, w.clock.now), null, 'by stored review id too');

    assert.equal(listings(w.sim, mark).length, 0, 'the lookups after the notifications cost no listing');
  });

  test('a review of another business unit is not indexed', async () => {
    const w = await world();
    await w.index.refresh();
    await w.lookup.observe(PrivateReviewSchema.parse({ id: 'foreign-review-1', referralEmail: 'foreign@example.com', createdAt: minutesAgo(1), businessUnit: { id: 'bu_somebody_else' } }));
    assert.equal((await w.store.lookup([{ kind: 'email', value: 'foreign@example.com' }])).review, undefined);
  });
});

describe('no index', () => {
  test('ownReview disabled in the mapping: no review lookup and nothing indexed, no call', async () => {
    const w = await world({ mapping: { ownReview: { enabled: false, matchBy: ['referenceId', 'email'] } } });
    assert.equal(await w.lookup.review(contact('off@example.com'), undefined, w.clock.now), undefined);
    await w.lookup.observe(PrivateReviewSchema.parse({ id: 'disabled-1', referralEmail: 'off@example.com', createdAt: minutesAgo(1) }));
    assert.equal((await w.store.lookup([{ kind: 'email', value: 'off@example.com' }])).review, undefined);
    assert.equal(w.sim.calls.length, 0);
  });

  test('no business-user credentials: private reviews cannot be read, no call', async () => {
    const w = await world({ credentials: false });
    assert.equal(await w.lookup.review(contact('nocreds@example.com'), undefined, w.clock.now), undefined);
    assert.equal(w.sim.calls.length, 0);
  });

  test('without an index (TRUSTPILOT_INDEX_REFRESH=0) each new contact is looked up per contact, as before', async () => {
    const sim = await startSim();
    const client = createTrustpilotClient({ baseUrl: sim.url, apiKey: TP.apiKey, apiSecret: TP.apiSecret, username: TP.username, password: TP.password, timeoutMs: 3_000, budget: { async take() {} }, tokenStore: createMemoryTokenStore() });
    clients.push(client);
    const prefix = `idx-${randomBytes(4).toString('hex')}`;
    const lookup = createTrustpilotLookup({ client, cache: createLookupCache(redis, prefix), businessUnitId: TP.businessUnitId, ttlMs: 60_000, mapping: TrustpilotMappingSchema.parse({}) });
    for (let i = 0; i < 3; i++) assert.equal(await lookup.review(contact(`plain${i}@example.com`), undefined, DAY), null);
    assert.equal(perContact(sim).length, 6);
    assert.equal(indexPages(sim).length, 0);
  });
});
