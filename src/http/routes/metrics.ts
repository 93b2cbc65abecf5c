/** Prometheus text exposition: what the process (or the host's processes) counted, then the gauges read at scrape time. */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Metrics } from '../../observability/metrics.js';

export interface MetricsRouteOptions {
  /** Reads the scrape-time gauges (queues, circuits) from Redis. */
  collect?: () => Promise<void>;
  /** The counted metrics of every process on the host (WEB_PROCESSES > 1); default this process's. */
  hostMetrics?: () => Promise<string>;
}

export function registerMetricsRoute(app: FastifyInstance, metrics: Metrics, options: MetricsRouteOptions = {}): void {
  const { collect, hostMetrics } = options;
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
      const counted = hostMetrics
        ? await hostMetrics().catch((error: unknown) => {
            // Better this process's own figures than no scrape at all.
            request.log.warn({ err: { message: error instanceof Error ? error.message : String(error) } }, 'host metrics unavailable');
            return metrics.registry.metrics();
          })
        : await metrics.registry.metrics();
      return reply.type(metrics.registry.contentType).send(counted + (await metrics.scrapeRegistry.metrics()));
    },
  );
}
