/** Prometheus text exposition of the process registry. */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Metrics } from '../../observability/metrics.js';

export function registerMetricsRoute(app: FastifyInstance, metrics: Metrics, collect?: () => Promise<void>): void {
  app.withTypeProvider<ZodTypeProvider>().get(
    '/metrics',
    {
      schema: {
        tags: ['operations'],
        summary: 'Prometheus metrics: webhooks, jobs, job duration, upstream calls, rate-limit waits, dead letters',
        response: { 200: z.string().describe('Prometheus text format 0.0.4') },
      },
    },
    async (request, reply) => {
      // A scrape must still answer when Redis is away: gauges then keep their last values.
      await collect?.().catch((error: unknown) => {
        request.log.warn({ err: { message: error instanceof Error ? error.message : String(error) } }, 'metrics collection failed');
      });
      return reply.type(metrics.registry.contentType).send(await metrics.registry.metrics());
    },
  );
}
