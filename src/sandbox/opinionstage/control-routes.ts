/**
 * The sandbox control API under /__sandbox (no auth; the simulator listens on loopback only) for
 * out-of-process users such as the demo command and chaos tests. See notes/OS-SIM-API.md.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { osErrors } from './errors.js';
import { FaultRuleInputSchema, type FaultRegistry } from '../shared/faults.js';
import type { Item, ItemResponse } from './model.js';
import { CONTROL_PREFIX, type RecordedCall } from './request-pipeline.js';
import { parseOrThrow } from './validation.js';
import type { WebhookDelivery } from './webhook-emitter.js';
import type { WebhookShape } from './webhook-payload.js';

export interface ControlDeps {
  calls: RecordedCall[];
  deliveries: WebhookDelivery[];
  faults: FaultRegistry;
  /** Validates the input itself (422 with JSON pointers). */
  addItem(input: unknown): Item;
  addResponse(itemId: string, input: unknown): ItemResponse;
  setWebhook(settings: { url: string | undefined; token?: string | undefined; shape?: WebhookShape }): void;
}

const WebhookSettingsSchema = z.strictObject({
  url: z.url().nullable(),
  token: z.string().min(1).nullable().optional(),
  shape: z.enum(['bare', 'wrapped']).optional(),
});

export function registerControlRoutes(app: FastifyInstance, deps: ControlDeps): void {
  app.post(`${CONTROL_PREFIX}/items`, async (request, reply) => {
    const item = deps.addItem(request.body);
    return reply.code(201).send({ item });
  });

  app.post<{ Params: { itemId: string } }>(`${CONTROL_PREFIX}/items/:itemId/responses`, async (request, reply) => {
    const response = deps.addResponse(request.params.itemId, request.body);
    return reply.code(201).send({ response });
  });

  app.get(`${CONTROL_PREFIX}/calls`, async () => ({ calls: deps.calls }));
  app.delete(`${CONTROL_PREFIX}/calls`, async () => {
    deps.calls.length = 0;
    return { calls: [] };
  });

  app.get(`${CONTROL_PREFIX}/deliveries`, async () => ({ deliveries: deps.deliveries }));

  app.post(`${CONTROL_PREFIX}/faults`, async (request, reply) => {
    const input = parseOrThrow(FaultRuleInputSchema, request.body);
    let path: RegExp | undefined;
    try {
      path = input.path === undefined ? undefined : new RegExp(input.path);
    } catch {
      throw osErrors.invalid([{ pointer: '/path', detail: 'must be a valid regular expression' }]);
    }
    return reply.code(201).send({ id: deps.faults.add({ ...input, path }) });
  });
  app.delete(`${CONTROL_PREFIX}/faults`, async () => {
    deps.faults.clear();
    return { cleared: true };
  });
  app.delete<{ Params: { id: string } }>(`${CONTROL_PREFIX}/faults/:id`, async (request) => {
    if (!deps.faults.remove(request.params.id)) throw osErrors.notFound(`Fault ${request.params.id} not found`);
    return { removed: true };
  });

  app.put(`${CONTROL_PREFIX}/webhook-url`, async (request) => {
    const { url, token, shape } = parseOrThrow(WebhookSettingsSchema, request.body);
    deps.setWebhook({
      url: url ?? undefined,
      ...(token === undefined ? {} : { token: token ?? undefined }),
      ...(shape === undefined ? {} : { shape }),
    });
    return { url };
  });
}
