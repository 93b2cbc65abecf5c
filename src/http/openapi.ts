/**
 * Builds the OpenAPI document from the route schemas, with inert dependencies: generating the spec
 * needs no Redis and no upstream. `scripts/generate-openapi.ts` writes it to `openapi/openapi.json`.
 */
import { loadConfig } from '../config/env.js';
import { createLogger } from '../observability/logger.js';
import { createMetrics } from '../observability/metrics.js';
import { QueueUnavailableError } from '../queue/webhook-producer.js';
import { buildApp } from './app.js';
import { describeOnlyAdminDeps } from './routes/admin.js';

export async function buildOpenApiDocument(version: string): Promise<unknown> {
  const config = loadConfig({});
  const producer = {
    enqueue: async (): Promise<never> => {
      throw new QueueUnavailableError('spec generation');
    },
  };
  const app = await buildApp({
    config,
    logger: createLogger({ level: 'silent' }),
    metrics: createMetrics(),
    version,
    readinessChecks: [],
    ghlIngest: {
      verifier: { verify: () => ({ ok: false, reason: 'missing' }) },
      producer,
      workflowSecret: undefined,
      isServedLocation: async () => false,
    },
    trustpilotIngest: { producer, secret: undefined },
    opinionStageIngest: { producer, secret: undefined },
    admin: describeOnlyAdminDeps(),
  });
  try {
    await app.ready();
    return app.swagger();
  } finally {
    await app.close();
  }
}

/** Stable text: the checked-in file must not change unless a schema did. */
export function serializeOpenApi(document: unknown): string {
  return `${JSON.stringify(document, null, 2)}\n`;
}
