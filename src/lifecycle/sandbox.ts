/**
 * Sandbox mode: with no GHL credentials, `all` starts the built-in GHL, Trustpilot and Opinion Stage
 * simulators on loopback, seeds a demo (a location whose custom fields are set up, a company on
 * Trustpilot, a 2★ review waiting for its contact, a survey), and points the bridge at them, so a new
 * user sees the whole flow without any account.
 */
import { randomBytes } from 'node:crypto';
import type { Config } from '../config/env.js';
import type { Mapping } from '../config/mapping.js';
import type { Logger } from '../observability/logger.js';
import { DEFAULT_APP_VERSION_ID, startGhlSimulator, type GhlSimulator, type OAuthClient } from '../sandbox/ghl/simulator.js';
import { startOpinionStageSimulator, type OpinionStageSimulator } from '../sandbox/opinionstage/simulator.js';
import { startTrustpilotSimulator, type TrustpilotSimulator } from '../sandbox/trustpilot/simulator.js';
import { mappedFieldSpecs } from '../workers/setup-fields.js';

export const SANDBOX_LOCATION_ID = 'loc_sandbox_1';
const SANDBOX_TOKEN = 'pit-sandbox-1';
const TRUSTPILOT = { apiKey: 'tp-sandbox-key', apiSecret: 'tp-sandbox-secret', username: 'owner@sandbox.test', password: 'sandbox-password', businessUnitId: 'bu_sandbox_own' };
const OPINIONSTAGE_KEY = 'os-sandbox-key';

export interface Sandbox {
  ghl: GhlSimulator;
  /** The demo marketplace app: /oauth/install goes through the simulator's install page. */
  oauthApp: OAuthClient;
  trustpilot: TrustpilotSimulator;
  opinionStage: OpinionStageSimulator;
  surveyItemId: string;
  /** The configuration the bridge runs with, pointed at the simulators. */
  config: Config;
  close(): Promise<void>;
}

export interface Simulators {
  ghl: GhlSimulator;
  trustpilot: TrustpilotSimulator;
  opinionStage: OpinionStageSimulator;
  close(): Promise<void>;
}

/** The three simulators side by side, on PORT+1..3 (or free ports when PORT is 0). */
export async function startSimulators(host: string, basePort: number, webhookToken?: string, oauthApp?: OAuthClient): Promise<Simulators> {
  const port = (offset: number) => (basePort === 0 ? 0 : basePort + offset);
  const ghl = await startGhlSimulator({ host, port: port(1), locations: [{ id: SANDBOX_LOCATION_ID, token: SANDBOX_TOKEN }], ...(oauthApp ? { oauthClients: [oauthApp] } : {}) });
  const trustpilot = await startTrustpilotSimulator({ host, port: port(2), apiKey: TRUSTPILOT.apiKey, apiSecret: TRUSTPILOT.apiSecret, businessUnitId: TRUSTPILOT.businessUnitId, users: [{ username: TRUSTPILOT.username, password: TRUSTPILOT.password }] });
  const opinionStage = await startOpinionStageSimulator({ host, port: port(3), apiKey: OPINIONSTAGE_KEY, ...(webhookToken ? { webhookToken } : {}) });
  return {
    ghl,
    trustpilot,
    opinionStage,
    async close() {
      await Promise.all([ghl.close(), trustpilot.close(), opinionStage.close()]);
    },
  };
}

export async function startSandbox(config: Config, mapping: Mapping, logger: Logger): Promise<Sandbox> {
  const trustpilotSecret = config.TRUSTPILOT_WEBHOOK_SECRET ?? randomBytes(18).toString('base64url');
  const opinionStageSecret = config.OPINIONSTAGE_WEBHOOK_SECRET ?? randomBytes(18).toString('base64url');
  // The app version id is the simulator's own, so an install through /oauth/install is accepted.
  const oauthApp: OAuthClient = { clientId: 'sandbox-marketplace-app', clientSecret: randomBytes(18).toString('base64url'), versionId: DEFAULT_APP_VERSION_ID };
  const simulators = await startSimulators('127.0.0.1', config.PORT, opinionStageSecret, oauthApp);
  const { ghl, trustpilot, opinionStage } = simulators;

  // The demo location is already set up, as after `ghl-bridge setup-fields`.
  for (const spec of mappedFieldSpecs(mapping)) ghl.store.insertCustomField(SANDBOX_LOCATION_ID, { name: spec.name, dataType: spec.dataType, model: 'contact' });
  trustpilot.addBusinessUnit({ domain: 'example.com', displayName: 'Example Inc.', trustScore: 4.4, stars: 4.5, totalReviews: 1287 });
  trustpilot.addReview({ stars: 2, title: 'Support took a week to answer', text: 'The product is fine, but it took a week and three emails to get an answer about my invoice.', referralEmail: 'ada@example.com', consumerName: 'Ada L.' });
  const survey = opinionStage.addItem({
    title: 'Customer satisfaction',
    type: 'survey',
    questions: [
      { id: 'q-score', title: 'How satisfied are you, from 1 to 10?', kind: 'rating' },
      { id: 'q-why', title: 'What should we improve?', kind: 'text' },
      { id: 'q-email', title: 'Email', kind: 'email', lead: true },
      { id: 'q-name', title: 'Name', kind: 'name', lead: true },
    ],
  });
  logger.info({ ghl: ghl.url, trustpilot: trustpilot.url, opinionStage: opinionStage.url }, 'sandbox simulators started');

  return {
    ghl,
    oauthApp,
    trustpilot,
    opinionStage,
    surveyItemId: survey.id,
    config: {
      ...config,
      GHL_API_BASE_URL: ghl.url,
      GHL_PRIVATE_TOKEN: SANDBOX_TOKEN,
      GHL_LOCATION_ID: SANDBOX_LOCATION_ID,
      GHL_WEBHOOK_ED25519_PUBLIC_KEY: ghl.publicKeys.ed25519,
      GHL_WEBHOOK_PUBLIC_KEY: ghl.publicKeys.rsa,
      GHL_WEBHOOK_SECRET: config.GHL_WEBHOOK_SECRET ?? randomBytes(18).toString('base64url'),
      GHL_CLIENT_ID: oauthApp.clientId,
      GHL_CLIENT_SECRET: oauthApp.clientSecret,
      GHL_APP_VERSION_ID: DEFAULT_APP_VERSION_ID,
      GHL_MARKETPLACE_URL: ghl.url,
      ENCRYPTION_KEY: config.ENCRYPTION_KEY.length > 0 ? config.ENCRYPTION_KEY : [randomBytes(32)],
      TRUSTPILOT_API_BASE_URL: trustpilot.url,
      TRUSTPILOT_API_KEY: TRUSTPILOT.apiKey,
      TRUSTPILOT_API_SECRET: TRUSTPILOT.apiSecret,
      TRUSTPILOT_USERNAME: TRUSTPILOT.username,
      TRUSTPILOT_PASSWORD: TRUSTPILOT.password,
      TRUSTPILOT_BUSINESS_UNIT_ID: TRUSTPILOT.businessUnitId,
      TRUSTPILOT_WEBHOOK_SECRET: trustpilotSecret,
      OPINIONSTAGE_API_BASE_URL: opinionStage.apiBaseUrl,
      OPINIONSTAGE_API_KEY: OPINIONSTAGE_KEY,
      OPINIONSTAGE_WEBHOOK_SECRET: opinionStageSecret,
      OPINIONSTAGE_ITEM_IDS: [survey.id],
      OPINIONSTAGE_SURVEY_URL: config.OPINIONSTAGE_SURVEY_URL ?? survey.landingUrl,
      // The sandbox's own admin token, printed with the dashboard link (sandbox only).
      ADMIN_TOKEN: config.ADMIN_TOKEN ?? randomBytes(24).toString('base64url'),
    },
    close: () => simulators.close(),
  };
}

/** Where the simulators send their webhooks once the bridge listens. */
export function connectSandbox(sandbox: Sandbox, bridgeUrl: string): void {
  // The app's registered redirect: only now is the bridge's address known.
  sandbox.oauthApp.redirectUri = `${bridgeUrl}/oauth/callback`;
  sandbox.ghl.setWebhookUrl(`${bridgeUrl}/webhooks/ghl`);
  sandbox.trustpilot.setWebhookUrl(`${bridgeUrl}/webhooks/trustpilot?token=${encodeURIComponent(sandbox.config.TRUSTPILOT_WEBHOOK_SECRET ?? '')}`);
  sandbox.opinionStage.setWebhookUrl(`${bridgeUrl}/webhooks/opinionstage`);
}

/** The banner; `signInCode` is a single-use dashboard sign-in code (plugins/dashboard-session.ts). */
export function demoInstructions(sandbox: Sandbox, bridgeUrl: string, signInCode: string): string {
  const json = "-H 'content-type: application/json'";
  const createContact =
    `curl -s -X POST ${sandbox.ghl.url}/__sandbox/locations/${SANDBOX_LOCATION_ID}/contacts ${json} ` +
    `-d '{"firstName":"Ada","lastName":"Lovelace","email":"ada@example.com","assignedTo":"user_sandbox_owner"}'`;
  const answerSurvey =
    `curl -s -X POST ${sandbox.opinionStage.url}/__sandbox/items/${sandbox.surveyItemId}/responses ${json} ` +
    `-d '{"answers":{"q-score":"3","q-why":"Faster support","q-email":"lin@example.com","q-name":"Lin Chen"},"result":{"title":"Unhappy","score":3}}'`;
  return [
    'sandbox mode: no GHL credentials configured, so the bridge runs against its built-in simulators',
    `  bridge:        ${bridgeUrl}  (health ${bridgeUrl}/health, API docs ${bridgeUrl}/docs, metrics ${bridgeUrl}/metrics)`,
    `  dashboard:     ${bridgeUrl}/dashboard/sign-in?code=${encodeURIComponent(signInCode)}  (one-time sign-in link)`,
    `  GHL:           ${sandbox.ghl.url}  (what the bridge wrote: ${sandbox.ghl.url}/__sandbox/state)`,
    `  Trustpilot:    ${sandbox.trustpilot.url}`,
    `  Opinion Stage: ${sandbox.opinionStage.url}`,
    '  1. a GHL contact whose 2★ Trustpilot review is waiting: fields, note, tags and a follow-up task appear',
    `    ${createContact}`,
    '  2. an Opinion Stage survey answer: a new GHL contact with a note, a tag and a follow-up task',
    `    ${answerSurvey}`,
    `  then look: curl -s ${sandbox.ghl.url}/__sandbox/state`,
    `  3. a marketplace-app install, as an agency makes it: open ${bridgeUrl}/oauth/install`,
  ].join('\n');
}
