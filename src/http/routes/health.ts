/** Liveness and readiness, written by hand (under-pressure's status route breaks the zod OpenAPI transform). */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';

export interface ReadinessResult {
  ok: boolean;
  detail?: string;
}

export interface ReadinessCheck {
  name: string;
  check(): Promise<ReadinessResult>;
  /** Reports, never decides: a check that fails or does not answer in time is shown, still `ok`. */
  informational?: boolean;
}

const CHECK_TIMEOUT_MS = 1_000;

const ReadyReplySchema = z
  .object({
    status: z.enum(['ready', 'not-ready']),
    checks: z.record(z.string(), z.object({ ok: z.boolean(), detail: z.string().optional() })),
  })
  .meta({ id: 'ReadyReply' });

export function registerHealthRoutes(app: FastifyInstance, checks: ReadinessCheck[]): void {
  const typed = app.withTypeProvider<ZodTypeProvider>();

  typed.get(
    '/health',
    {
      schema: {
        tags: ['operations'],
        summary: 'Liveness: 200 while the process runs',
        response: { 200: z.object({ status: z.literal('ok') }).meta({ id: 'HealthReply' }) },
      },
    },
    async () => ({ status: 'ok' as const }),
  );

  typed.get(
    '/ready',
    {
      schema: {
        tags: ['operations'],
        summary: 'Readiness: 200 when every check passes (Redis, queues, upstream circuits), else 503',
        response: { 200: ReadyReplySchema, 503: ReadyReplySchema },
      },
    },
    async (_request, reply) => {
      const results = await Promise.all(checks.map(async (item) => [item.name, await runCheck(item)] as const));
      const ok = results.every(([, result]) => result.ok);
      return reply.code(ok ? 200 : 503).send({ status: ok ? 'ready' : 'not-ready', checks: Object.fromEntries(results) });
    },
  );
}

async function runCheck(item: ReadinessCheck): Promise<ReadinessResult> {
  let timer: NodeJS.Timeout | undefined;
  const ok = item.informational === true;
  const timeout = new Promise<ReadinessResult>((resolve) => {
    timer = setTimeout(() => resolve({ ok, detail: `no answer within ${CHECK_TIMEOUT_MS} ms` }), CHECK_TIMEOUT_MS);
  });
  try {
    return await Promise.race([item.check(), timeout]);
  } catch (error) {
    return { ok, detail: error instanceof Error ? error.message : 'check failed' };
  } finally {
    clearTimeout(timer);
  }
}
