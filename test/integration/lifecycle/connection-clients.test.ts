/**
 * Per-location clients as the service builds them, against a real Redis and the Trustpilot simulator:
 * each location's own connection gets its own client, call budget and token (under its own key), a
 * location without one gets the environment's, and a changed connection is picked up.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { RateBudgetExceededError } from '../../../src/clients/http/rate-budget-types.js';
import { loadConfig, type Config } from '../../../src/config/env.js';
import { DEFAULT_MAPPING } from '../../../src/config/mapping.js';
import { createLogger } from '../../../src/observability/logger.js';
import { startTrustpilotSimulator, type TrustpilotSimulator } from '../../../src/sandbox/trustpilot/simulator.js';
import { connectionBudgetKey, createConnectionClients } from '../../../src/lifecycle/wiring/connection-clients.js';
import { createBreaker } from '../../../src/lifecycle/wiring/guards.js';
import { createConnectionsAccess } from '../../../src/lifecycle/wiring/location-connections.js';
import { createResources } from '../../../src/lifecycle/wiring/resources.js';
import { createStores } from '../../../src/lifecycle/wiring/state.js';
import { createTrustpilotAccess } from '../../../src/lifecycle/wiring/trustpilot.js';
import { KEY, OWN_BU, PASSWORD, SECRET, USER } from '../../helpers/trustpilot-sim.js';
import { DEFAULT_OPINIONSTAGE_API_KEY, startOpinionStageSimulator } from '../../../src/sandbox/opinionstage/simulator.js';
import { locationOpinionStagePoll, locationTrustpilotPoll } from '../../../src/lifecycle/wiring/connection-workers.js';
import { OpinionStageResponseJobSchema, TrustpilotEventJobSchema } from '../../../src/queue/catalog.js';
import { recordingProducer } from '../../helpers/app.js';
import { startRedisServer, type RedisServerHandle } from '../../helpers/redis-server.js';

let server: RedisServerHandle;
let sim: TrustpilotSimulator;
before(async () => {
  server = await startRedisServer();
  sim = await startTrustpilotSimulator();
});
after(async () => {
  await sim.close();
  await server.close();
});

test('two connected locations: own clients, own budgets, own tokens; the others use the environment', async () => {
  const prefix = `cc${randomBytes(4).toString('hex')}`;
  const config = loadConfig({
    REDIS_URL: server.url,
    REDIS_PREFIX: prefix,
    ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    TRUSTPILOT_API_BASE_URL: sim.url,
    TRUSTPILOT_RATE_LIMIT: '5/300',
    TRUSTPILOT_POLL_INTERVAL: '0',
    TRUSTPILOT_INDEX_REFRESH: '0',
  });
  const parts = await buildParts(config);
  const { stores, connections, clients, trustpilot, redis } = parts;
  try {
    assert.equal(trustpilot.client, undefined, 'the environment has no Trustpilot of its own here');

    const own = { businessUnitId: OWN_BU, apiKey: KEY, apiSecret: SECRET, username: USER, password: PASSWORD };
    await connections.store.set('trustpilot', 'locA', own);
    await connections.store.set('trustpilot', 'locB', own);
    connections.cache.forget();
    assert.equal(await clients.trustpilotFor('locC'), undefined, 'no connection and no environment Trustpilot');
    const a = await clients.trustpilotFor('locA');
    const b = await clients.trustpilotFor('locB');
    assert.ok(a && b);
    assert.notEqual(a.client, b.client);
    assert.equal(await clients.trustpilotFor('locA'), a, 'built once');

    // Location A spends its whole budget; B's is untouched and still answers.
    for (let call = 0; call < 5; call += 1) await a.client.getBusinessUnit(OWN_BU);
    await assert.rejects(a.client.getBusinessUnit(OWN_BU), RateBudgetExceededError);
    const limit = config.TRUSTPILOT_RATE_LIMIT;
    assert.equal((await stores.budget.usage(connectionBudgetKey('locA'), limit)).window, 5);
    assert.equal((await stores.budget.usage(connectionBudgetKey('locB'), limit)).window, 0);
    await b.client.getBusinessUnit(OWN_BU);
    assert.equal((await stores.budget.usage(connectionBudgetKey('locB'), limit)).window, 1);

    // A private read takes a token: B's is stored under B's own key, none under the global one.
    await b.client.listPrivateReviews(OWN_BU, { perPage: 1, page: 1 });
    assert.equal(await redis.exists(`${prefix}:trustpilot-token:location:locB:token`), 1);
    assert.equal(await redis.exists(`${prefix}:trustpilot-token:location:locA:token`), 0);
    assert.equal(await redis.exists(`${prefix}:trustpilot-token:global:token`), 0);

    // A changed connection is built again; a removed one falls back to the environment.
    await connections.store.set('trustpilot', 'locB', { ...own, businessUnitId: 'bu_other' });
    await connections.store.delete('trustpilot', 'locA');
    connections.cache.forget();
    assert.notEqual(await clients.trustpilotFor('locB'), b);
    assert.equal(await clients.trustpilotFor('locA'), undefined);
  } finally {
    await parts.close();
  }
});

test("a location's own Opinion Stage poll reads only its items with its key, and its jobs carry the location", async () => {
  const os = await startOpinionStageSimulator();
  const prefix = `co${randomBytes(4).toString('hex')}`;
  const config = loadConfig({ REDIS_URL: server.url, REDIS_PREFIX: prefix, ENCRYPTION_KEY: randomBytes(32).toString('base64'), OPINIONSTAGE_API_BASE_URL: os.apiBaseUrl });
  const parts = await buildParts(config);
  const { stores, connections, clients, queue, logger } = parts;
  try {
    const ours = os.addItem({ title: 'Ours', questions: [{ title: 'Email', kind: 'email' }] });
    const theirs = os.addItem({ title: 'Not ours', questions: [{ title: 'Email', kind: 'email' }] });
    await connections.store.set('opinionstage', 'locOs', { apiKey: DEFAULT_OPINIONSTAGE_API_KEY, itemIds: [ours.id], webhookSecret: 'os-webhook-secret-own-0001' });
    connections.cache.forget();
    assert.equal(await clients.opinionStageFor('locOther'), undefined, 'no connection and no environment Opinion Stage');
    assert.ok(await clients.opinionStageFor('locOs'));

    const producer = recordingProducer();
    const poll = locationOpinionStagePoll(clients, undefined, { producer, seen: stores.osPollSeen, logger });
    await poll(await queue.add('poll', {}));
    os.addResponse(ours.id, { answers: { Email: 'ann@example.com' } });
    os.addResponse(theirs.id, { answers: { Email: 'bob@example.com' } });
    const outcome = await poll(await queue.add('poll', {}));
    assert.equal(outcome.queued, 1);
    const jobs = producer.requests.map((request) => OpinionStageResponseJobSchema.parse(request.data));
    assert.deepEqual(jobs.map((job) => [job.itemId, job.webhookLocationId]), [[ours.id, 'locOs']]);
  } finally {
    await parts.close();
    await os.close();
  }
});

test("a location's own Trustpilot poll lists its unit with its own client, and the reviews it routes carry the location", async () => {
  const prefix = `cp${randomBytes(4).toString('hex')}`;
  const config = loadConfig({
    REDIS_URL: server.url,
    REDIS_PREFIX: prefix,
    ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    TRUSTPILOT_API_BASE_URL: sim.url,
    TRUSTPILOT_POLL_INTERVAL: '60000',
    TRUSTPILOT_INDEX_REFRESH: '0',
  });
  const parts = await buildParts(config);
  const { connections, clients, queue, logger, redis } = parts;
  try {
    await connections.store.set('trustpilot', 'locPoll', { businessUnitId: OWN_BU, apiKey: KEY, apiSecret: SECRET, username: USER, password: PASSWORD });
    connections.cache.forget();
    const poll = locationTrustpilotPoll(clients, undefined, logger);
    // The first poll marks where routing starts; a review written after it is routed by the next.
    assert.equal((await poll(await queue.add('poll', {}))).outcome, 'refreshed');
    const review = sim.addReview({ stars: 4, title: 'Fine', text: 'Arrived a day late.', referralEmail: 'poll@client.test', consumerName: 'Poll P.' });
    assert.equal((await poll(await queue.add('poll', {}))).outcome, 'refreshed');
    const routed = (await queue.getJobs(['waiting', 'delayed', 'prioritized'])).filter((job) => job.name !== 'poll').map((job) => TrustpilotEventJobSchema.parse(job.data));
    assert.ok(routed.length > 0, 'the new review was routed');
    assert.ok(routed.every((job) => job.webhookLocationId === 'locPoll'), 'every routed review carries the location');
    assert.ok(JSON.stringify(routed).includes(review.id));
    assert.equal(await redis.exists(`${prefix}:trustpilot-token:location:locPoll:token`), 1, 'read with its own token');
    assert.equal(await redis.exists(`${prefix}:trustpilot-token:global:token`), 0);
  } finally {
    await parts.close();
  }
});

/** The wiring the service builds, without the environment's Opinion Stage. */
async function buildParts(config: Config) {
  const logger = createLogger({ level: 'silent' });
  const resources = createResources(config, logger);
  const redis = new Redis(server.url);
  const queueRedis = new Redis(server.url, { maxRetriesPerRequest: null });
  const queue = new Queue(`events-${config.REDIS_PREFIX}`, { connection: queueRedis });
  const stores = createStores(redis, config);
  const connections = createConnectionsAccess(stores, config);
  assert.ok(connections);
  const breaker = createBreaker(stores, config, logger, { raise: async () => undefined }, resources);
  const trustpilot = createTrustpilotAccess({ config, logger, mapping: DEFAULT_MAPPING, stores, breaker, observe: () => undefined, eventsQueue: queue, resources });
  const clients = createConnectionClients({ config, logger, mapping: DEFAULT_MAPPING, stores, breaker, observe: () => undefined, eventsQueue: queue, resources, connections, defaults: { trustpilot, opinionStage: undefined } });
  return {
    logger,
    redis,
    queue,
    stores,
    connections,
    trustpilot,
    clients,
    close: async () => {
      await resources.closeAll();
      await queue.close();
      queueRedis.disconnect();
      await redis.quit();
    },
  };
}
