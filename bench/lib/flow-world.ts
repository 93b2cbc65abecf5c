/**
 * The full flow for latency and soak: Redis, the GHL and Trustpilot simulators in this process,
 * the bridge (`all`) in its own process. A contact created in the simulator is delivered as a
 * signed ContactCreate webhook (the simulator's own emitter, Ed25519 only), the bridge syncs it
 * (GET contact, Trustpilot lookups, PUT fields) and its writes echo back as webhooks.
 * Limits are raised on both sides so the figure is the bridge's latency, not a rate-limit wait.
 */
import { spawn } from 'node:child_process';
import { startGhlSimulator, type GhlSimulator } from '../../src/sandbox/ghl/simulator.js';
import { startTrustpilotSimulator, type TrustpilotSimulator } from '../../src/sandbox/trustpilot/simulator.js';
import { startRedisServer, type RedisServerHandle } from '../../test/helpers/redis-server.js';
import { trustpilotSimulatorEnv } from '../../test/helpers/bridge.js';
import { benchNodeFlags, PROJECT_ROOT, startChild, type ChildServer } from './bridge-process.js';

const LOCATION = { id: 'locBenchFlow000000001', token: 'pit-bench-flow-0001' };
const TP_SECRET = 'tp-bench-flow-secret';
const HIGH_LIMIT = { max: 1_000_000, windowMs: 10_000 };

export interface FlowWorld {
  bridge: ChildServer;
  /** The Redis the bridge uses (for command statistics). */
  redisUrl: string;
  ghl: GhlSimulator;
  tp: TrustpilotSimulator;
  /** Creates a contact in GHL (the webhook goes out at once); returns its id and when. */
  createContact(index: number): { id: string; at: number };
  /** Ms from creation to the first PUT /contacts/:id reaching the simulator, for contacts written since the last call. */
  collectWrites(): Map<string, number>;
  close(): Promise<void>;
}

export async function startFlowWorld(): Promise<FlowWorld> {
  const redis: RedisServerHandle = await startRedisServer();
  try {
    return await startOn(redis);
  } catch (error) {
    // A failed start must not leave an orphaned redis-server behind.
    await redis.close();
    throw error;
  }
}

async function startOn(redis: RedisServerHandle): Promise<FlowWorld> {
  const ghl = await startGhlSimulator({ locations: [LOCATION], rateLimit: HIGH_LIMIT, dailyLimit: 100_000_000, webhookSignatures: 'ed25519' });
  const tp = await startTrustpilotSimulator({ rateLimit: { max: 1_000_000, windowMs: 300_000 } });
  tp.addBusinessUnit({ domain: 'acme-widgets.com', displayName: 'Acme Widgets', trustScore: 4.2, stars: 4, totalReviews: 321 });
  const env: Record<string, string> = {
      REDIS_URL: redis.url,
      REDIS_PREFIX: 'bench-flow',
      SANDBOX: 'false',
      GHL_API_BASE_URL: ghl.url,
      GHL_PRIVATE_TOKEN: LOCATION.token,
      GHL_LOCATION_ID: LOCATION.id,
      GHL_WEBHOOK_ED25519_PUBLIC_KEY: ghl.publicKeys.ed25519,
      GHL_WEBHOOK_PUBLIC_KEY: ghl.publicKeys.rsa,
      GHL_RATE_LIMIT: `${HIGH_LIMIT.max}/${HIGH_LIMIT.windowMs / 1000}`,
      GHL_DAILY_LIMIT: '100000000',
      ...trustpilotSimulatorEnv(tp),
      TRUSTPILOT_WEBHOOK_SECRET: TP_SECRET,
      TRUSTPILOT_RATE_LIMIT: '1000000/300',
      ENCRYPTION_KEY: Buffer.alloc(32, 9).toString('base64'),
      // The latency of the flow itself: the coalescing window (default 2 s) would add itself to every figure.
      COALESCE_WINDOW_MS: '0',
      RECONCILE_INTERVAL: '0',
  };
  // The mapped custom fields must exist for the sync to write them: `setup-fields`, as an operator would.
  // Not spawnSync: the simulator it talks to runs on this event loop.
  const setup = spawn(process.execPath, ['dist/main.js', 'setup-fields', '--location', LOCATION.id], {
    cwd: PROJECT_ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let setupErr = '';
  setup.stderr.on('data', (chunk: Buffer) => (setupErr += chunk.toString('utf8')));
  const code = await new Promise<number | null>((resolve) => setup.once('exit', resolve));
  if (code !== 0) throw new Error(`setup-fields failed (${code}): ${setupErr.slice(-2000)}`);
  const bridge = await startChild({ script: 'dist/main.js', args: ['all'], env, nodeFlags: benchNodeFlags() });
  ghl.setWebhookUrl(`${bridge.url}/webhooks/ghl`);
  tp.setWebhookUrl(`${bridge.url}/webhooks/trustpilot?token=${TP_SECRET}`);

  const createdAt = new Map<string, number>();
  let scanned = 0;
  return {
    bridge,
    redisUrl: redis.url,
    ghl,
    tp,
    createContact(index) {
      const at = Date.now();
      const contact = ghl.userCreateContact(LOCATION.id, { firstName: `Flow${index}`, email: `flow${index}@acme-widgets.com` });
      createdAt.set(contact.id, at);
      return { id: contact.id, at };
    },
    collectWrites() {
      const written = new Map<string, number>();
      for (; scanned < ghl.calls.length; scanned++) {
        const call = ghl.calls[scanned];
        if (!call || call.method !== 'PUT' || !call.path.startsWith('/contacts/')) continue;
        const id = call.path.slice('/contacts/'.length);
        const at = createdAt.get(id);
        if (at === undefined) continue;
        createdAt.delete(id);
        written.set(id, call.at - at);
      }
      return written;
    },
    async close() {
      ghl.setWebhookUrl(undefined);
      tp.setWebhookUrl(undefined);
      await bridge.stop();
      await tp.close();
      await ghl.close();
      await redis.close();
    },
  };
}

/** Open loop: `perSecond` calls of `fire` on a fixed schedule for `seconds`, whatever the answers. */
export async function openLoop(perSecond: number, seconds: number, fire: (index: number) => void, onSecond?: (second: number) => void): Promise<number> {
  const intervalMs = 1000 / perSecond;
  const total = Math.round(perSecond * seconds);
  const started = performance.now();
  for (let i = 0; i < total; i++) {
    const due = started + i * intervalMs;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    fire(i);
    if (onSecond && i % perSecond === 0) onSecond(i / perSecond);
  }
  return total;
}
