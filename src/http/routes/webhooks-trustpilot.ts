/**
 * Trustpilot review notifications in. Trustpilot does not sign them, so a shared token (header
 * `x-webhook-token` or query `token`) authenticates the sender; the payload is only a hint: the
 * worker re-fetches the review before anything is written.
 */
import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Metrics } from '../../observability/metrics.js';
import { QUEUE_NAMES, TrustpilotEventJobSchema } from '../../queue/catalog.js';
import { QueueUnavailableError, type WebhookProducer } from '../../queue/webhook-producer.js';
import { requireSharedSecret } from '../plugins/shared-secret-auth.js';
import { WEBHOOK_ERROR_REPLIES, WebhookReplySchema, errorReply } from '../schemas/common.js';

export interface TrustpilotIngestDeps {
  producer: WebhookProducer;
  secret: string | undefined;
  now?: () => number;
}

const EVENT_NAMES = ['service-review-created', 'service-review-updated', 'service-review-deleted'] as const;
/**
 * Trustpilot notifications carry no delivery id, and an update (a company reply) can repeat the
 * previous update's payload byte for byte. So only identical events within the same 5 minutes are
 * taken as a redelivery; processing one twice is harmless (the review is re-fetched, writes are
 * idempotent), missing one is not.
 */
const DEDUPE_BUCKET_MS = 5 * 60_000;
const DEDUPE_TTL_SECONDS = 10 * 60;

const TrustpilotEventSchema = z.looseObject({
  eventName: z.string().max(100),
  version: z.string().max(20).optional(),
  eventData: z.looseObject({
    id: z.string().regex(/^[A-Za-z0-9_-]{1,128}$/, 'expected a review id'),
    updatedAt: z.string().max(64).nullish(),
    createdAt: z.string().max(64).nullish(),
  }),
});

export const TrustpilotNotificationSchema = z
  .looseObject({ events: z.array(TrustpilotEventSchema).min(1).max(100) })
  .describe('Trustpilot service-review notification: `{ events: [{ eventName, version, eventData }] }`')
  .meta({ id: 'TrustpilotNotification' });

const ReplySchema = z
  .object({
    status: z.enum(['accepted', 'duplicate', 'ignored']),
    events: z.array(WebhookReplySchema),
  })
  .meta({ id: 'TrustpilotWebhookReply' });

export async function registerTrustpilotWebhookRoute(app: FastifyInstance, options: { deps: TrustpilotIngestDeps; metrics: Metrics }): Promise<void> {
  const { deps, metrics } = options;
  const now = deps.now ?? Date.now;
  app.withTypeProvider<ZodTypeProvider>().post(
    '/webhooks/trustpilot',
    {
      schema: {
        tags: ['webhooks'],
        summary: 'Trustpilot service-review created/updated/deleted notifications, authenticated by TRUSTPILOT_WEBHOOK_SECRET',
        description: 'Send the secret as header `x-webhook-token` or query `token` (Trustpilot does not sign notifications). Each event is queued; the review is re-fetched before anything is written.',
        headers: z.looseObject({ 'x-webhook-token': z.string().optional() }),
        querystring: z.object({ token: z.string().optional() }),
        body: TrustpilotNotificationSchema,
        response: { 200: ReplySchema, ...WEBHOOK_ERROR_REPLIES },
      },
      onRequest: requireSharedSecret({ secret: deps.secret, variable: 'TRUSTPILOT_WEBHOOK_SECRET', source: 'trustpilot', metrics }),
    },
    async (request, reply) => {
      const results = [];
      try {
        for (const event of request.body.events) {
          if (!(EVENT_NAMES as readonly string[]).includes(event.eventName)) {
            metrics.webhooks.inc({ source: 'trustpilot', type: 'other', outcome: 'ignored' });
            results.push({ status: 'ignored' as const, id: null, reason: 'unknown event name' });
            continue;
          }
          const bucket = Math.floor(now() / DEDUPE_BUCKET_MS);
          const result = await deps.producer.enqueue({
            queue: QUEUE_NAMES.trustpilotEvents,
            jobName: event.eventName,
            data: TrustpilotEventJobSchema.parse({ eventName: event.eventName, reviewId: event.eventData.id, receivedAt: now(), eventData: event.eventData }),
            scope: 'trustpilot',
            dedupeKey: `${event.eventName}:${event.eventData.id}:${createHash('sha256').update(JSON.stringify(event.eventData)).digest('hex')}:${bucket}`,
            ttlSeconds: DEDUPE_TTL_SECONDS,
          });
          metrics.webhooks.inc({ source: 'trustpilot', type: event.eventName, outcome: result.status });
          results.push(result);
        }
      } catch (error) {
        if (!(error instanceof QueueUnavailableError)) throw error;
        metrics.webhooks.inc({ source: 'trustpilot', type: 'unknown', outcome: 'unavailable' });
        return reply.code(429).header('retry-after', '10').send(errorReply(429, error.code, 'the events could not be queued right now; retry later'));
      }
      const status = results.some((result) => result.status === 'accepted') ? 'accepted' : results.every((result) => result.status === 'ignored') ? 'ignored' : 'duplicate';
      return reply.code(200).send({ status, events: results });
    },
  );
}
