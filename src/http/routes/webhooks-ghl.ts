/**
 * GHL webhooks in: verify the raw bytes, parse and validate, drop redeliveries, queue durably, and only
 * then answer. Nothing is processed inline; a Redis outage is a fast 429 (GHL redelivers on 429),
 * never a 5xx or a hang that would lose the event.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Logger } from '../../observability/logger.js';
import type { Metrics } from '../../observability/metrics.js';
import { QUEUE_NAMES, type GhlWebhookJob } from '../../queue/catalog.js';
import { QueueUnavailableError, type IngestRequest, type IngestResult, type WebhookProducer } from '../../queue/webhook-producer.js';
import { bodyHash } from '../../webhooks/body-hash.js';
import { parseJsonBody } from '../json-body.js';
import { requireSharedSecret } from '../plugins/shared-secret-auth.js';
import { checkTimestamp, eventLocationId, parseGhlEvent } from '../../webhooks/ghl-events.js';
import type { GhlSignatureVerifier } from '../../webhooks/ghl-signature.js';
import { parseGhlWorkflowPayload } from '../../webhooks/ghl-workflow.js';
import { WEBHOOK_ERROR_REPLIES, WebhookReplySchema, errorReply, type WebhookReply } from '../schemas/common.js';
import { askToRetry } from './webhook-enqueue.js';

export interface GhlIngestDeps {
  verifier: GhlSignatureVerifier;
  producer: WebhookProducer;
  /** GHL_WEBHOOK_SECRET: authenticates the unsigned workflow webhook action. */
  workflowSecret: string | undefined;
  /** Whether the bridge serves this location (private-token location or an OAuth install); at once when it knows. */
  isServedLocation(locationId: string): boolean | Promise<boolean>;
  /** GHL_APP_ID: a marketplace event naming another app is ignored (GHL signs every app's events with one key). */
  appId?: string | undefined;
  now?: () => number;
}

/** GHL redelivers a marketplace webhook for hours; keep its id at least a day. */
const MARKETPLACE_DEDUPE_TTL_SECONDS = 25 * 3_600;
/** Workflow actions carry no delivery id: identical bodies within 10 minutes are one event. */
const WORKFLOW_DEDUPE_TTL_SECONDS = 10 * 60;
const LIFECYCLE_TYPES = new Set(['AppInstall', 'AppUninstall']);

const GhlEventBodySchema = z
  .looseObject({
    type: z.string().describe('Event name, e.g. ContactCreate, ContactUpdate, NoteCreate, TaskComplete, INSTALL'),
    locationId: z.string().optional(),
    webhookId: z.string().optional(),
    timestamp: z.string().optional(),
  })
  .describe('A GHL marketplace webhook event (flat JSON as GHL sends it); see GHL webhook events docs')
  .meta({ id: 'GhlWebhookEvent' });

const GhlWorkflowBodySchema = z
  .looseObject({
    contact_id: z.string().optional(),
    email: z.string().optional(),
    location: z.looseObject({ id: z.string() }),
    customData: z.record(z.string(), z.unknown()).optional(),
  })
  .describe("What a GHL workflow's Webhook action sends: standard contact fields at the top level, `location.id`, optional `customData`")
  .meta({ id: 'GhlWorkflowPayload' });

const SignatureHeadersSchema = z.looseObject({
  'x-ghl-signature': z.string().optional().describe('Ed25519 signature (base64) of the raw body; when present it alone decides'),
  'x-wh-signature': z.string().optional().describe('Legacy RSA-SHA256 signature (base64) of the raw body'),
});

const TokenHeadersSchema = z.looseObject({
  'x-webhook-token': z.string().optional().describe('Shared secret (or use the `token` query parameter)'),
});

export async function registerGhlWebhookRoutes(
  app: FastifyInstance,
  options: { deps: GhlIngestDeps; metrics: Metrics; logger: Logger },
): Promise<void> {
  const { deps, metrics } = options;
  const ingest: Ingest = { deps, metrics, now: deps.now ?? Date.now };
  options.logger.info({ ed25519Verifier: deps.verifier.ed25519Backend }, `GHL webhook Ed25519 signatures are verified with ${deps.verifier.ed25519Backend}`);

  // Signatures cover the exact bytes GHL sent, so the body stays a Buffer until verified.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
  // Validation happens by hand after the signature check; the schemas below document the bodies.
  // `true` means "valid, leave the request as it is": nothing is made per request.
  app.setValidatorCompiler(() => () => true);

  const typed = app.withTypeProvider<ZodTypeProvider>();

  typed.post(
    '/webhooks/ghl',
    {
      schema: {
        tags: ['webhooks'],
        summary: 'GHL marketplace webhooks (contact, note and task events; AppInstall/AppUninstall)',
        description:
          'Verifies `x-ghl-signature` (Ed25519) or, when absent, `x-wh-signature` (RSA-SHA256) over the raw body; validates the event; ' +
          'drops redeliveries (same `webhookId`, or same body, within 24 h); queues durably; then answers.',
        headers: SignatureHeadersSchema,
        body: GhlEventBodySchema,
        response: { 200: WebhookReplySchema, ...WEBHOOK_ERROR_REPLIES },
      },
    },
    (request, reply) => receiveMarketplace(ingest, request, reply),
  );

  typed.post(
    '/webhooks/ghl/workflow',
    {
      schema: {
        tags: ['webhooks'],
        summary: "Events sent by a GHL workflow's Webhook action, authenticated by GHL_WEBHOOK_SECRET",
        description: 'Send the secret as header `x-webhook-token` or query `token`. Identical bodies within 10 minutes count once.',
        headers: TokenHeadersSchema,
        querystring: z.object({ token: z.string().optional() }),
        body: GhlWorkflowBodySchema,
        response: { 200: WebhookReplySchema, ...WEBHOOK_ERROR_REPLIES },
      },
      onRequest: requireSharedSecret({ secret: deps.workflowSecret, variable: 'GHL_WEBHOOK_SECRET', source: 'workflow', metrics }),
    },
    (request, reply) => receiveWorkflow(ingest, request, reply),
  );
}

interface Ingest {
  deps: GhlIngestDeps;
  metrics: Metrics;
  now: () => number;
}

type Source = 'marketplace' | 'workflow';

async function receiveMarketplace(ingest: Ingest, request: FastifyRequest, reply: FastifyReply) {
  const raw = rawBody(request);
  const signature = ingest.deps.verifier.verify(raw, request.headers);
  if (!signature.ok) {
    count(ingest, 'marketplace', 'unknown', 'rejected');
    const code = signature.reason === 'missing' ? 'SIGNATURE_MISSING' : 'SIGNATURE_INVALID';
    return reply.code(401).send(errorReply(401, code, signature.reason === 'missing' ? 'no webhook signature header' : 'the webhook signature does not verify'));
  }
  const json = parseJsonBody(raw);
  if (!json.ok) return badJson(ingest, reply, 'marketplace', json.message);

  const parsed = parseGhlEvent(json.value);
  if (parsed.kind === 'invalid') {
    count(ingest, 'marketplace', typeOf(json.value), 'rejected');
    return reply.code(400).send(errorReply(400, 'INVALID_PAYLOAD', 'the event does not match its schema', parsed.issues));
  }
  if (parsed.kind === 'unknown-type') {
    count(ingest, 'marketplace', 'unknown', 'ignored');
    request.log.info({ eventType: parsed.type.slice(0, 64) }, 'webhook of unknown type ignored');
    return reply.code(200).send(ignored('unknown event type'));
  }
  const event = parsed.event;
  const timestamp = checkTimestamp(event.timestamp, ingest.now());
  if (timestamp === 'future') {
    count(ingest, 'marketplace', event.type, 'rejected');
    return reply.code(401).send(errorReply(401, 'TIMESTAMP_IN_FUTURE', 'the event timestamp is more than 5 minutes in the future'));
  }
  if (timestamp === 'unparseable') {
    count(ingest, 'marketplace', event.type, 'rejected');
    return reply.code(400).send(errorReply(400, 'INVALID_PAYLOAD', 'the event does not match its schema', [{ path: 'timestamp', message: 'must be an ISO 8601 date-time' }]));
  }
  // Another app's event, install and uninstall included: answered here, before anything is stored or queued.
  if (ingest.deps.appId !== undefined && event.appId !== undefined && event.appId !== ingest.deps.appId) {
    count(ingest, 'marketplace', event.type, 'ignored');
    request.log.info({ eventType: event.type }, 'webhook of another marketplace app ignored');
    return reply.code(200).send(ignored('event of another marketplace app'));
  }
  const locationId = eventLocationId(event);
  // Agency-level installs carry a company id instead of a location.
  const scope = locationId ?? ('companyId' in event && typeof event.companyId === 'string' ? event.companyId : 'agency');
  const served = LIFECYCLE_TYPES.has(event.type) || (locationId !== undefined && servedOrUnsure(ingest.deps, locationId));
  // Awaited only while the answer is not known yet: a known one costs no extra turn of the event loop.
  if (!(typeof served === 'boolean' ? served : await served)) {
    count(ingest, 'marketplace', event.type, 'ignored');
    request.log.info({ eventType: event.type, locationId }, 'webhook for a location not served ignored');
    return reply.code(200).send(ignored('location not served by this bridge'));
  }
  const dedupeKey = event.webhookId ? `id:${event.webhookId}` : `body:${bodyHash(raw)}`;
  return enqueue(ingest, reply, { source: 'marketplace', type: event.type, scope, dedupeKey, ttlSeconds: MARKETPLACE_DEDUPE_TTL_SECONDS, event, eventBytes: parsed.asSent ? raw : undefined });
}

async function receiveWorkflow(ingest: Ingest, request: FastifyRequest, reply: FastifyReply) {
  const raw = rawBody(request);
  const json = parseJsonBody(raw);
  if (!json.ok) return badJson(ingest, reply, 'workflow', json.message);
  const parsed = parseGhlWorkflowPayload(json.value);
  if (parsed.kind === 'invalid') {
    count(ingest, 'workflow', 'unknown', 'rejected');
    return reply.code(400).send(errorReply(400, 'INVALID_PAYLOAD', 'the workflow payload does not match its schema', parsed.issues));
  }
  const event = parsed.event;
  if (!(await servedOrUnsure(ingest.deps, event.locationId))) {
    count(ingest, 'workflow', event.type, 'ignored');
    return reply.code(200).send(ignored('location not served by this bridge'));
  }
  const dedupeKey = `workflow:${bodyHash(raw)}`;
  return enqueue(ingest, reply, { source: 'workflow', type: event.type, scope: event.locationId, dedupeKey, ttlSeconds: WORKFLOW_DEDUPE_TTL_SECONDS, event, eventBytes: undefined });
}

interface Delivery {
  source: Source;
  type: string;
  /** The location (or, for agency-level installs, the company) the delivery is remembered under. */
  scope: string;
  dedupeKey: string;
  ttlSeconds: number;
  event: Record<string, unknown>;
  /** The verified body, when `event` is exactly what it parses to: it then stands in the job for `event`. */
  eventBytes: Buffer | undefined;
}

async function enqueue(ingest: Ingest, reply: FastifyReply, delivery: Delivery) {
  const { source, type } = delivery;
  let result: IngestResult;
  try {
    result = await ingest.deps.producer.enqueue(ingestRequest(delivery, ingest.now()));
  } catch (error) {
    if (!(error instanceof QueueUnavailableError)) throw error;
    count(ingest, source, type, 'unavailable');
    reply.log.warn({ eventType: type, reason: error.message }, 'webhook not queued, asked sender to retry');
    return askToRetry(reply, 'the event', error);
  }
  count(ingest, source, type, result.status);
  // The answer as WebhookReplySchema describes it, serialized here: job ids are ours ([\w-]), nothing to escape.
  return reply
    .code(200)
    .header('content-type', 'application/json; charset=utf-8')
    .send(`{"status":"${result.status}","id":"${result.id}"}`);
}

/**
 * What the producer stores. The job's data (GhlWebhookJob) is built from values validated above and
 * serialized by the producer, or, when the event is the body exactly as sent, it is the body's own
 * bytes inside the envelope, joined in Redis (src/queue/inbox.ts). The bytes are valid UTF-8 JSON
 * (checked by parseJsonBody), so the job reads back as the same event, without this process encoding
 * it again. Both shapes are written out: no spread, no intermediate object per webhook.
 */
function ingestRequest(delivery: Delivery, receivedAt: number): IngestRequest {
  const { source, type, scope, dedupeKey, ttlSeconds, event, eventBytes } = delivery;
  const queue = QUEUE_NAMES.ghlWebhooks;
  if (eventBytes === undefined) {
    const data: GhlWebhookJob = { source, receivedAt, event };
    return { queue, jobName: type, scope, dedupeKey, ttlSeconds, data };
  }
  // A byte order mark is allowed before a body but not inside a JSON document.
  const bytes = eventBytes[0] === 0xef && eventBytes[1] === 0xbb && eventBytes[2] === 0xbf ? eventBytes.subarray(3) : eventBytes;
  return { queue, jobName: type, scope, dedupeKey, ttlSeconds, json: [`{"source":"${source}","receivedAt":${receivedAt},"event":`, bytes, '}'] };
}

/**
 * Unsure whether we serve it (the lookup failed): queue it anyway, the worker decides. Losing it
 * would be worse. A known answer comes back as it is, not wrapped in a promise.
 */
function servedOrUnsure(deps: GhlIngestDeps, locationId: string): boolean | Promise<boolean> {
  try {
    const served = deps.isServedLocation(locationId);
    return typeof served === 'boolean' ? served : served.catch(() => true);
  } catch {
    return true;
  }
}

function badJson(ingest: Ingest, reply: FastifyReply, source: Source, message: string) {
  count(ingest, source, 'unknown', 'rejected');
  return reply.code(400).send(errorReply(400, 'INVALID_JSON', 'the body is not valid JSON', [{ path: '', message }]));
}

function count(ingest: Ingest, source: Source, type: string, outcome: string): void {
  ingest.metrics.countWebhook(source, metricType(type), outcome);
}

function rawBody(request: FastifyRequest): Buffer {
  return Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
}

function ignored(reason: string): WebhookReply {
  return { status: 'ignored', id: null, reason };
}

function typeOf(value: unknown): string {
  return typeof value === 'object' && value !== null && 'type' in value && typeof value.type === 'string' ? value.type : 'unknown';
}

const KNOWN_METRIC_TYPES = new Set([
  'ContactCreate', 'ContactUpdate', 'ContactDelete', 'ContactTagUpdate', 'ContactDndUpdate',
  'NoteCreate', 'NoteUpdate', 'NoteDelete', 'TaskCreate', 'TaskComplete', 'TaskDelete', 'AppInstall', 'AppUninstall',
]);

/** Event types come from outside: keep the metric label set bounded. */
function metricType(type: string): string {
  return KNOWN_METRIC_TYPES.has(type) ? type : 'other';
}
