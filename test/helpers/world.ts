/**
 * One test world: a GHL simulator serving one location, the Trustpilot simulator, and the real bridge
 * (production container) on a Redis, with the mapped custom fields created and the simulators' webhooks
 * pointed at the bridge. Tests that need more (Opinion Stage, OAuth) add it through `env`.
 */
import { startGhlSimulator, type GhlSimulator } from '../../src/sandbox/ghl/simulator.js';
import { startTrustpilotSimulator, type TrustpilotSimulator } from '../../src/sandbox/trustpilot/simulator.js';
import { setupFields } from '../../src/workers/setup-fields.js';
import { settle, simulatorEnv, startTestBridge, trustpilotSimulatorEnv, type TestBridge } from './bridge.js';

export interface WorldOptions {
  redisUrl: string;
  locationId: string;
  token: string;
  /** Bridge environment over the simulators' (e.g. COALESCE_WINDOW_MS, ADMIN_TOKEN). */
  env?: Record<string, string>;
  /** Set: the Trustpilot simulator notifies the bridge, with this TRUSTPILOT_WEBHOOK_SECRET. */
  trustpilotWebhookSecret?: string;
  /** Whether the GHL simulator sends its webhooks to the bridge (default true). */
  ghlWebhooks?: boolean;
}

export interface World {
  ghl: GhlSimulator;
  tp: TrustpilotSimulator;
  bridge: TestBridge;
  /** Waits until both simulators have delivered everything and the bridge's queues are drained. */
  settle(): Promise<void>;
  close(): Promise<void>;
}

export async function startWorld(options: WorldOptions): Promise<World> {
  const ghl = await startGhlSimulator({ locations: [{ id: options.locationId, token: options.token }] });
  const tp = await startTrustpilotSimulator();
  const secret = options.trustpilotWebhookSecret;
  let bridge: TestBridge;
  try {
    bridge = await startTestBridge({
      mode: 'all',
      redisUrl: options.redisUrl,
      env: {
        ...simulatorEnv(ghl, options.locationId, options.token),
        ...trustpilotSimulatorEnv(tp),
        ...(secret === undefined ? {} : { TRUSTPILOT_WEBHOOK_SECRET: secret }),
        ...options.env,
      },
    });
  } catch (error) {
    await tp.close();
    await ghl.close();
    throw error;
  }
  await setupFields(bridge.container.ghl, options.locationId, bridge.container.mapping, bridge.container.syncDeps.fieldIds);
  if (options.ghlWebhooks ?? true) ghl.setWebhookUrl(`${bridge.url}/webhooks/ghl`);
  if (secret !== undefined) tp.setWebhookUrl(`${bridge.url}/webhooks/trustpilot?token=${secret}`);
  return {
    ghl,
    tp,
    bridge,
    settle: () => settle(bridge, [ghl, tp]),
    close: async () => {
      await bridge.close();
      await tp.close();
      await ghl.close();
    },
  };
}
