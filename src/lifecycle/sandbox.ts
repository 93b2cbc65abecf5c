/**
 * Sandbox mode: with no GHL credentials, `all` starts the built-in simulators on loopback and points
 * the bridge at them, so a new user sees the whole flow without any account.
 */
import { randomBytes } from 'node:crypto';
import type { Config } from '../config/env.js';
import type { Logger } from '../observability/logger.js';
import { startGhlSimulator, type GhlSimulator } from '../sandbox/ghl/simulator.js';

export const SANDBOX_LOCATION_ID = 'loc_sandbox_1';
const SANDBOX_TOKEN = 'pit-sandbox-1';

export interface Sandbox {
  ghl: GhlSimulator;
  /** The configuration the bridge runs with, pointed at the simulators. */
  config: Config;
  close(): Promise<void>;
}

export async function startSandbox(config: Config, logger: Logger): Promise<Sandbox> {
  const ghl = await startGhlSimulator({
    host: '127.0.0.1',
    port: config.PORT === 0 ? 0 : config.PORT + 1,
    locations: [{ id: SANDBOX_LOCATION_ID, token: SANDBOX_TOKEN }],
    rateLimit: config.GHL_RATE_LIMIT,
    dailyLimit: config.GHL_DAILY_LIMIT,
  });
  logger.info({ ghl: ghl.url }, 'sandbox simulators started');
  return {
    ghl,
    config: {
      ...config,
      GHL_API_BASE_URL: ghl.url,
      GHL_PRIVATE_TOKEN: SANDBOX_TOKEN,
      GHL_LOCATION_ID: SANDBOX_LOCATION_ID,
      GHL_WEBHOOK_ED25519_PUBLIC_KEY: ghl.publicKeys.ed25519,
      GHL_WEBHOOK_PUBLIC_KEY: ghl.publicKeys.rsa,
      GHL_WEBHOOK_SECRET: config.GHL_WEBHOOK_SECRET ?? randomBytes(18).toString('base64url'),
    },
    close: () => ghl.close(),
  };
}

/** Where the simulators send their webhooks once the bridge listens. */
export function connectSandbox(sandbox: Sandbox, bridgeUrl: string): void {
  sandbox.ghl.setWebhookUrl(`${bridgeUrl}/webhooks/ghl`);
}

export function demoInstructions(sandbox: Sandbox, bridgeUrl: string): string {
  const createContact =
    `curl -s -X POST ${sandbox.ghl.url}/__sandbox/locations/${SANDBOX_LOCATION_ID}/contacts ` +
    `-H 'content-type: application/json' -d '{"firstName":"Ada","lastName":"Lovelace","email":"ada@example.com","website":"https://example.com"}'`;
  return [
    'sandbox mode: no GHL credentials configured, so the bridge runs against its built-in simulators',
    `  bridge:      ${bridgeUrl}  (health ${bridgeUrl}/health, API docs ${bridgeUrl}/docs, metrics ${bridgeUrl}/metrics)`,
    `  GHL sandbox: ${sandbox.ghl.url}  (state ${sandbox.ghl.url}/__sandbox/state)`,
    '  send a demo contact through the whole flow:',
    `    ${createContact}`,
    `  then see what the bridge did: curl -s ${sandbox.ghl.url}/__sandbox/calls`,
  ].join('\n');
}
