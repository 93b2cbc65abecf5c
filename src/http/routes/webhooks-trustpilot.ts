/**
 * Trustpilot review notifications in: the shared token (header `x-webhook-token` or query `token`)
 * is checked, each event read (src/webhooks/trustpilot-events.ts), queued, then answered.
 */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Metrics } from '../../observability/metrics.js';
import { QUEUE_NAMES, TrustpilotEventJobSchema } from '../../queue/catalog.js';
import type { WebhookProducer } from '../../queue/webhook-producer.js';
import { requireLocationOrSharedSecret, type LocationSecretLookup } from '../plugins/location-secret-auth.js';
import { ConnectionLocationIdSchema } from '../../state/location-connections.js';
import { readTrustpilotEvent, TRUSTPILOT_DEDUPE_TTL_SECONDS, TrustpilotNotificationSchema } from '../../webhooks/trustpilot-events.js';
import { WEBHOOK_ERROR_REPLIES, WebhookReplySchema } from '../schemas/common.js';
import { storeOrAskRetry } from './webhook-enqueue.js';

export interface TrustpilotIngestDeps {
  producer: WebhookProducer;
  secret: string | undefined;
  /** A location's own webhook secret (`?location=<id>`); without it such requests get 401. */
  locationSecret?: LocationSecretLookup;
  now?: () => number;
}

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
        querystring: z.object({
          token: z.string().optional(),
          location: ConnectionLocationIdSchema.optional().describe("A location's own connection: the token is that connection's secret, and the event belongs to that location"),
        }),
        body: TrustpilotNotificationSchema,
        response: { 200: ReplySchema, ...WEBHOOK_ERROR_REPLIES },
      },
      onRequest: requireLocationOrSharedSecret({ secret: deps.secret, variable: 'TRUSTPILOT_WEBHOOK_SECRET', source: 'trustpilot', metrics, locationSecret: deps.locationSecret }),
    },
    async (request, reply) => {
      const unavailable = () => metrics.countWebhook('trustpilot', 'unknown', 'unavailable');
      const { location } = request.query;
      return storeOrAskRetry(reply, 'the events', unavailable, async () => {
        const results = [];
        for (const event of request.body.events) {
          const read = readTrustpilotEvent(event, now());
          if (read.kind === 'ignored') {
            metrics.countWebhook('trustpilot', 'other', 'ignored');
            results.push({ status: 'ignored' as const, id: null, reason: read.reason });
            continue;
          }
          const result = await deps.producer.enqueue({
            queue: QUEUE_NAMES.trustpilotEvents,
            jobName: read.eventName,
            data: TrustpilotEventJobSchema.parse({ eventName: read.eventName, reviewId: read.reviewId, receivedAt: now(), eventData: read.eventData, ...(location ? { webhookLocationId: location } : {}) }),
            scope: 'trustpilot',
            dedupeKey: read.dedupeKey,
            ttlSeconds: TRUSTPILOT_DEDUPE_TTL_SECONDS,
          });
          metrics.countWebhook('trustpilot', event.eventName, result.status);
          results.push(result);
        }
        const status = results.some((result) => result.status === 'accepted') ? 'accepted' : results.every((result) => result.status === 'ignored') ? 'ignored' : 'duplicate';
        return reply.code(200).send({ status, events: results });
      });
    },
  );
}
