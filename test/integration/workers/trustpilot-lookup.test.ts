/**
 * The Trustpilot lookup's company TrustScore against the simulator and a real redis-server:
 * colleagues from one company looked up at once cost one call, and the answer is cached.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { createMemoryTokenStore } from '../../../src/clients/trustpilot/token-store.js';
import { createTrustpilotClient, type TrustpilotClient } from '../../../src/clients/trustpilot/trustpilot-client.js';
import { TrustpilotMappingSchema } from '../../../src/config/mapping.js';
import { startTrustpilotSimulator, TRUSTPILOT_SANDBOX_DEFAULTS as TP, type TrustpilotSimulator } from '../../../src/sandbox/trustpilot/simulator.js';
import { createLookupCache } from '../../../src/state/lookup-cache.js';
import { createTrustpilotLookup } from '../../../src/workers/trustpilot-lookup.js';
import { startRedisServer, type RedisServerHandle } from '../../helpers/redis-server.js';

let server: RedisServerHandle;
let redis: Redis;
let sim: TrustpilotSimulator;
let client: TrustpilotClient;

before(async () => {
  server = await startRedisServer();
  redis = new Redis(server.url);
  sim = await startTrustpilotSimulator();
  client = createTrustpilotClient({ baseUrl: sim.url, apiKey: TP.apiKey, timeoutMs: 3_000, budget: { async take() {} }, tokenStore: createMemoryTokenStore() });
});

after(async () => {
  await client.close();
  await sim.close();
  await redis.quit();
  await server.close();
});

test('five colleagues of one company looked up at once: one Trustpilot call, then the cache', async () => {
  sim.addBusinessUnit({ domain: 'colleagues.example', displayName: 'Colleagues', trustScore: 3.9, stars: 4, totalReviews: 12 });
  const lookup = createTrustpilotLookup({ client, cache: createLookupCache(redis, `tl-${randomBytes(4).toString('hex')}`), businessUnitId: undefined, ttlMs: 60_000, mapping: TrustpilotMappingSchema.parse({}) });
  const contact = (i: number) => ({ id: `ctColleague${i}`, locationId: 'locLookupTest', email: `person${i}@colleagues.example`, tags: [], customFields: [] });
  // Slow answers make the five lookups overlap for certain.
  sim.injectFault({ fault: { kind: 'latency', ms: 200 }, method: 'GET', path: /^\/v1\/business-units\/find$/, times: 1 });
  const answers = await Promise.all([0, 1, 2, 3, 4].map((i) => lookup.company(contact(i))));
  for (const answer of answers) assert.equal(answer?.trustScore, 3.9);
  const finds = () => sim.calls.filter((call) => call.path === '/v1/business-units/find').length;
  assert.equal(finds(), 1);
  assert.equal((await lookup.company(contact(5)))?.totalReviews, 12);
  assert.equal(finds(), 1, 'the sixth colleague is answered from the cache');
});

test('a failed company lookup is not shared with the next one', async () => {
  sim.addBusinessUnit({ domain: 'flaky.example', displayName: 'Flaky', trustScore: 2.5, stars: 2.5, totalReviews: 3 });
  const lookup = createTrustpilotLookup({ client, cache: createLookupCache(redis, `tl-${randomBytes(4).toString('hex')}`), businessUnitId: undefined, ttlMs: 60_000, mapping: TrustpilotMappingSchema.parse({}) });
  const contact = { id: 'ctFlaky1', locationId: 'locLookupTest', email: 'someone@flaky.example', tags: [], customFields: [] };
  sim.injectFault({ fault: { kind: 'status', status: 503 }, method: 'GET', path: /^\/v1\/business-units\/find$/, times: 1 });
  await assert.rejects(lookup.company(contact), (error: unknown) => error instanceof Error && /503/.test(error.message));
  assert.equal((await lookup.company(contact))?.trustScore, 2.5);
});
