/**
 * The HTTP app as production builds it (`buildApp`), without Redis: small test ports stand in for
 * the queue and the admin stores, and requests go through `app.inject`. For route behaviour where
 * Redis is not the point (status codes, error shapes, auth, headers, limits).
 */
import { ghlAppId, loadConfig, type Config } from '../../src/config/env.js';
import { buildApp, type App, type AppDeps } from '../../src/http/app.js';
import { describeOnlyAdminDeps } from '../../src/http/routes/admin.js';
import type { OAuthRouteDeps } from '../../src/http/routes/oauth.js';
import type { ReadinessCheck } from '../../src/http/routes/health.js';
import { createLogger } from '../../src/observability/logger.js';
import { createMetrics, type Metrics } from '../../src/observability/metrics.js';
import { jobIdFor, QueueUnavailableError, type IngestRequest, type IngestResult, type WebhookProducer } from '../../src/queue/webhook-producer.js';
import { createGhlSignatureVerifier } from '../../src/webhooks/ghl-signature.js';
import type { ConnectionsAccess } from '../../src/lifecycle/wiring/location-connections.js';
import { createTestSigner } from './ghl-signing.js';

/** The location the GHL fixtures (test/fixtures/ghl) are for. */
export const FIXTURE_LOCATION_ID = 've9EPM428h8vShlRW1KT';

/** A producer that remembers every request; a repeated scope + dedupe key is answered `duplicate`. */
export interface RecordingProducer extends WebhookProducer {
  readonly requests: RecordedRequest[];
}

/** A request as recorded: its job data parsed back, and whether it came as serialized parts (`json`). */
export type RecordedRequest = Omit<IngestRequest, 'data' | 'json'> & { data: unknown; serialized: boolean };

function recorded(request: IngestRequest): RecordedRequest {
  const { data, json, ...target } = request;
  if (json === undefined) return { ...target, data, serialized: false };
  return { ...target, data: JSON.parse(json.map((part) => part.toString()).join('')) as unknown, serialized: true };
}

export function recordingProducer(): RecordingProducer {
  const requests: RecordedRequest[] = [];
  const seen = new Map<string, string>();
  return {
    requests,
    enqueue: async (request): Promise<IngestResult> => {
      const key = `${request.scope}:${request.dedupeKey}`;
      const known = seen.get(key);
      if (known !== undefined) return { status: 'duplicate', id: known };
      const id = jobIdFor(request.jobName, key);
      seen.set(key, id);
      requests.push(recorded(request));
      return { status: 'accepted', id };
    },
  };
}

/** A producer whose queue is down: every enqueue rejects as the real one does when Redis is away. */
export function unavailableProducer(): WebhookProducer {
  return {
    enqueue: async (): Promise<never> => {
      throw new QueueUnavailableError('redis is down (test)');
    },
  };
}

export interface TestAppOptions {
  /** Environment over the test defaults (a served GHL location with the test signer's keys). */
  env?: Record<string, string>;
  producer?: WebhookProducer;
  readinessChecks?: ReadinessCheck[];
  oauth?: OAuthRouteDeps;
  dashboard?: AppDeps['dashboard'];
  /** Replaces parts of the inert admin dependencies (e.g. dead letters to list). */
  admin?: Partial<NonNullable<AppDeps['admin']>>;
  /** Per-location connections (a real store over Redis), for the admin connection routes and `?location=` webhooks. */
  connections?: ConnectionsAccess;
}

export interface TestApp {
  app: App;
  config: Config;
  metrics: Metrics;
  /** The recording producer, unless another one was given. */
  enqueued: RecordedRequest[];
  close(): Promise<void>;
}

export async function buildTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const signer = createTestSigner();
  const config = loadConfig({
    GHL_PRIVATE_TOKEN: 'pit-test-token-000000',
    GHL_LOCATION_ID: FIXTURE_LOCATION_ID,
    GHL_WEBHOOK_ED25519_PUBLIC_KEY: signer.ed25519PublicKeyPem,
    GHL_WEBHOOK_PUBLIC_KEY: signer.rsaPublicKeyPem,
    // Tests send many requests from one address; the public limiter is tested with its own limit.
    PUBLIC_RATE_LIMIT: '100000/60',
    // Likewise the failed-authentication limiter (test/unit/http/auth-failure-limit.test.ts).
    WEBHOOK_AUTH_FAILURE_LIMIT: '100000/60',
    ...options.env,
  });
  const recording = recordingProducer();
  const producer = options.producer ?? recording;
  const metrics = createMetrics();
  const served = async (locationId: string): Promise<boolean> => locationId === config.GHL_LOCATION_ID;
  const deps: AppDeps = {
    config,
    logger: createLogger({ level: 'silent' }),
    metrics,
    version: 'test',
    readinessChecks: options.readinessChecks ?? [],
    ghlIngest: {
      verifier: createGhlSignatureVerifier({ ed25519PublicKeyPem: config.GHL_WEBHOOK_ED25519_PUBLIC_KEY, rsaPublicKeyPem: config.GHL_WEBHOOK_PUBLIC_KEY }),
      producer,
      workflowSecret: config.GHL_WEBHOOK_SECRET,
      isServedLocation: served,
      appId: ghlAppId(config),
    },
    trustpilotIngest: { producer, secret: config.TRUSTPILOT_WEBHOOK_SECRET, ...locationSecret(options.connections, 'trustpilot') },
    opinionStageIngest: { producer, secret: config.OPINIONSTAGE_WEBHOOK_SECRET, ...locationSecret(options.connections, 'opinionstage') },
    admin: {
      ...describeOnlyAdminDeps(),
      adminToken: config.ADMIN_TOKEN,
      viewerToken: config.VIEWER_TOKEN,
      isServedLocation: served,
      ...(options.connections ? { connections: options.connections.store, connectionsChanged: options.connections.cache.forget } : {}),
      ...options.admin,
    },
    ...(options.oauth ? { oauth: options.oauth } : {}),
    ...(options.dashboard ? { dashboard: options.dashboard } : {}),
  };
  const app = await buildApp(deps);
  await app.ready();
  return { app, config, metrics, enqueued: recording.requests, close: () => app.close() };
}

function locationSecret(connections: ConnectionsAccess | undefined, kind: 'trustpilot' | 'opinionstage') {
  return connections ? { locationSecret: (locationId: string) => connections.webhookSecret(kind, locationId) } : {};
}

/** What `app.inject` answered, with the body parsed when it is JSON. */
export interface InjectedAnswer {
  status: number;
  headers: Record<string, string | string[] | number | undefined>;
  text: string;
  json: Record<string, unknown>;
}

export async function inject(
  app: App,
  options: { method?: 'GET' | 'POST' | 'PUT' | 'DELETE'; url: string; body?: string | Buffer; headers?: Record<string, string>; remoteAddress?: string },
): Promise<InjectedAnswer> {
  const response = await app.inject({
    method: options.method ?? 'GET',
    url: options.url,
    ...(options.body === undefined ? {} : { payload: options.body }),
    ...(options.headers ? { headers: options.headers } : {}),
    ...(options.remoteAddress ? { remoteAddress: options.remoteAddress } : {}),
  });
  const text = response.body;
  const isJson = String(response.headers['content-type'] ?? '').includes('json');
  let json: Record<string, unknown> = {};
  if (isJson && text) {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) json = { ...parsed };
  }
  return { status: response.statusCode, headers: response.headers, text, json };
}
