/**
 * The sandbox control API under /__sandbox (no auth; the simulator listens on loopback only) for
 * out-of-process users such as the demo command and chaos tests. The routes and their bodies are below.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { osErrors } from './errors.js';
import { FaultRuleInputSchema, type FaultRegistry } from '../shared/faults.js';
import { registerCommonControlRoutes } from '../shared/control-routes.js';
import type { Item, ItemResponse } from './model.js';
import { CONTROL_PREFIX, type RecordedCall } from './request-pipeline.js';
import { parseOrThrow } from './validation.js';
import type { WebhookDelivery } from './webhook-emitter.js';
import type { WebhookShape } from './webhook-payload.js';

export interface ControlDeps {
  calls: RecordedCall[];
  deliveries: WebhookDelivery[];
  faults: FaultRegistry;
  /** Validates the input itself (422 with JSON pointers); owned by the account with `apiKey`, else the default one. */
  addItem(input: unknown, owner?: { apiKey: string }): Item;
  addResponse(itemId: string, input: unknown): ItemResponse;
  /** The default account's webhook, or with `apiKey` that account's; the shape is for every account. */
  setWebhook(settings: { url: string | undefined; token?: string | undefined; shape?: WebhookShape; apiKey?: string }): void;
}

const WebhookSettingsSchema = z.strictObject({
  url: z.url().nullable(),
  token: z.string().min(1).nullable().optional(),
  shape: z.enum(['bare', 'wrapped']).optional(),
  apiKey: z.string().min(1).optional(),
});

const ItemOwnerQuerySchema = z.object({ account: z.string().min(1).optional() });

export function registerControlRoutes(app: FastifyInstance, deps: ControlDeps): void {
  app.post(`${CONTROL_PREFIX}/items`, async (request, reply) => {
    const { account } = parseOrThrow(ItemOwnerQuerySchema, request.query);
    const item = deps.addItem(request.body, account === undefined ? undefined : { apiKey: account });
    return reply.code(201).send({ item });
  });

  app.post<{ Params: { itemId: string } }>(`${CONTROL_PREFIX}/items/:itemId/responses`, async (request, reply) => {
    const response = deps.addResponse(request.params.itemId, request.body);
    return reply.code(201).send({ response });
  });

  registerCommonControlRoutes(app, CONTROL_PREFIX, deps, {
    parseRule: (body) => parseOrThrow(FaultRuleInputSchema, body),
    invalidPath: () => osErrors.invalid([{ pointer: '/path', detail: 'must be a valid regular expression' }]),
    faultNotFound: (id) => osErrors.notFound(`Fault ${id} not found`),
    createdStatus: 201,
  });

  app.put(`${CONTROL_PREFIX}/webhook-url`, async (request) => {
    const { url, token, shape, apiKey } = parseOrThrow(WebhookSettingsSchema, request.body);
    deps.setWebhook({
      url: url ?? undefined,
      ...(apiKey === undefined ? {} : { apiKey }),
      ...(token === undefined ? {} : { token: token ?? undefined }),
      ...(shape === undefined ? {} : { shape }),
    });
    return { url };
  });
}
