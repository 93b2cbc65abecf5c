/**
 * Opinion Stage responses in, authenticated by OPINIONSTAGE_WEBHOOK_SECRET (Opinion Stage's webhook
 * signing is undocumented). Validated, deduplicated by response id (the poll path uses the same key,
 * so a response arriving both ways is processed once), queued, then answered.
 */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { OsWebhookBodySchema, parseOsWebhookBody } from '../../webhooks/opinionstage-response.js';
import type { Metrics } from '../../observability/metrics.js';
import { OPINIONSTAGE_DEDUPE_TTL_SECONDS, OpinionStageResponseJobSchema, opinionStageDedupeKey, QUEUE_NAMES } from '../../queue/catalog.js';
import type { WebhookProducer } from '../../queue/webhook-producer.js';
import { requireLocationOrSharedSecret, type LocationSecretLookup } from '../plugins/location-secret-auth.js';
import { ConnectionLocationIdSchema } from '../../state/location-connections.js';
import { WEBHOOK_ERROR_REPLIES, WebhookReplySchema, errorReply } from '../schemas/common.js';
import { storeOrAskRetry } from './webhook-enqueue.js';

export interface OpinionStageIngestDeps {
  producer: WebhookProducer;
  secret: string | undefined;
  /** A location's own webhook secret (`?location=<id>`); without it such requests get 401. */
  locationSecret?: LocationSecretLookup;
  now?: () => number;
}

export async function registerOpinionStageWebhookRoute(app: FastifyInstance, options: { deps: OpinionStageIngestDeps; metrics: Metrics }): Promise<void> {
  const { deps, metrics } = options;
  const now = deps.now ?? Date.now;
  // The union of bare and wrapped bodies is validated by hand, for exact field paths in 400 answers.
  app.setValidatorCompiler(() => (value) => ({ value }));
  app.withTypeProvider<ZodTypeProvider>().post(
    '/webhooks/opinionstage',
    {
      schema: {
        tags: ['webhooks'],
        summary: 'Opinion Stage responses, authenticated by OPINIONSTAGE_WEBHOOK_SECRET',
        description:
          'The body is an Opinion Stage response object as its API returns it, bare or wrapped in `data`, optionally with flat `item_id`, `email`, `name`, `phone` and `contactId`. ' +
          'Send the secret as header `x-webhook-token` or query `token`.',
        headers: z.looseObject({ 'x-webhook-token': z.string().optional() }),
        querystring: z.object({
          token: z.string().optional(),
          location: ConnectionLocationIdSchema.optional().describe("A location's own connection: the token is that connection's secret, and the event belongs to that location"),
        }),
        body: OsWebhookBodySchema,
        response: { 200: WebhookReplySchema, ...WEBHOOK_ERROR_REPLIES },
      },
      onRequest: requireLocationOrSharedSecret({ secret: deps.secret, variable: 'OPINIONSTAGE_WEBHOOK_SECRET', source: 'opinionstage', metrics, locationSecret: deps.locationSecret }),
    },
    async (request, reply) => {
      const parsed = parseOsWebhookBody(request.body);
      if (parsed.kind === 'invalid') {
        metrics.countWebhook('opinionstage', 'response', 'rejected');
        return reply.code(400).send(errorReply(400, 'INVALID_PAYLOAD', 'the body is not an Opinion Stage response', parsed.issues));
      }
      const unavailable = () => metrics.countWebhook('opinionstage', 'response', 'unavailable');
      return storeOrAskRetry(reply, 'the response', unavailable, async () => {
        const result = await deps.producer.enqueue({
          queue: QUEUE_NAMES.opinionStageResponses,
          jobName: 'response',
          data: OpinionStageResponseJobSchema.parse({
            source: 'webhook',
            receivedAt: now(),
            ...(parsed.itemId ? { itemId: parsed.itemId } : {}),
            response: parsed.response,
            flat: parsed.flat,
            ...(request.query.location ? { webhookLocationId: request.query.location } : {}),
          }),
          scope: 'opinionstage',
          dedupeKey: opinionStageDedupeKey(parsed.response.id),
          ttlSeconds: OPINIONSTAGE_DEDUPE_TTL_SECONDS,
        });
        metrics.countWebhook('opinionstage', 'response', result.status);
        return reply.code(200).send({ status: result.status, id: result.id });
      });
    },
  );
}
