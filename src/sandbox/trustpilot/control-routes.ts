/**
 * The sandbox control API under /__sandbox (no auth; the simulator listens on loopback only) for
 * out-of-process users such as the demo command and chaos tests. The routes and their bodies are below.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { FaultRuleInputSchema, type FaultRegistry } from '../shared/faults.js';
import { registerCommonControlRoutes } from '../shared/control-routes.js';
import { tpErrors } from './errors.js';
import { BusinessUnitInputSchema, ReplyInputSchema, ReviewInputSchema, ReviewPatchSchema } from './inputs.js';
import { parseInput } from './mutations.js';
import type { BusinessUnit, PrivateReview } from './presenters.js';
import { CONTROL_PREFIX, type RecordedCall } from './request-pipeline.js';
import type { WebhookDelivery } from './webhook-emitter.js';

export interface ControlDeps {
  calls: RecordedCall[];
  deliveries: WebhookDelivery[];
  faults: FaultRegistry;
  /** The default account's webhook URL, or with `apiKey` that account's. */
  setWebhookUrl(url: string | undefined, apiKey?: string): void;
  addBusinessUnit(input: z.infer<typeof BusinessUnitInputSchema>): BusinessUnit;
  addReview(input: z.infer<typeof ReviewInputSchema>): PrivateReview;
  updateReview(reviewId: string, patch: z.infer<typeof ReviewPatchSchema>): PrivateReview;
  replyToReview(reviewId: string, text: string): PrivateReview;
  deleteReview(reviewId: string): void;
  expireAccessTokens(): void;
}

const WebhookUrlBodySchema = z.strictObject({ url: z.url().nullable().optional(), apiKey: z.string().min(1).optional() });

export function registerControlRoutes(app: FastifyInstance, deps: ControlDeps): void {
  app.post(`${CONTROL_PREFIX}/business-units`, async (request, reply) =>
    reply.code(201).send(deps.addBusinessUnit(parseInput(BusinessUnitInputSchema, request.body))),
  );

  app.post(`${CONTROL_PREFIX}/reviews`, async (request, reply) =>
    reply.code(201).send(deps.addReview(parseInput(ReviewInputSchema, request.body))),
  );

  app.patch<{ Params: { id: string } }>(`${CONTROL_PREFIX}/reviews/:id`, async (request) =>
    deps.updateReview(request.params.id, parseInput(ReviewPatchSchema, request.body)),
  );

  app.post<{ Params: { id: string } }>(`${CONTROL_PREFIX}/reviews/:id/reply`, async (request) =>
    deps.replyToReview(request.params.id, parseInput(ReplyInputSchema, request.body).text),
  );

  app.delete<{ Params: { id: string } }>(`${CONTROL_PREFIX}/reviews/:id`, async (request) => {
    deps.deleteReview(request.params.id);
    return { deleted: true };
  });

  app.post(`${CONTROL_PREFIX}/expire-access-tokens`, async () => {
    deps.expireAccessTokens();
    return { expired: true };
  });

  registerCommonControlRoutes(app, CONTROL_PREFIX, deps, {
    parseRule: (body) => parseInput(FaultRuleInputSchema, body),
    invalidPath: () => tpErrors.badRequest('path must be a valid regular expression'),
    faultNotFound: () => tpErrors.notFound('Fault not found'),
    createdStatus: 201,
  });

  app.put(`${CONTROL_PREFIX}/webhook-url`, async (request) => {
    const { url, apiKey } = parseInput(WebhookUrlBodySchema, request.body);
    deps.setWebhookUrl(url ?? undefined, apiKey);
    return { url: url ?? null };
  });
}
