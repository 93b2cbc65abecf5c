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
import { describeOnlyDashboardDeps } from './routes/dashboard.js';

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
      verifier: { ed25519Backend: 'node:crypto', verify: () => ({ ok: false, reason: 'missing' }) },
      producer,
      workflowSecret: undefined,
      isServedLocation: async () => false,
    },
    trustpilotIngest: { producer, secret: undefined },
    opinionStageIngest: { producer, secret: undefined },
    admin: describeOnlyAdminDeps(),
    dashboard: describeOnlyDashboardDeps(),
    oauth: { clientId: 'spec', clientSecret: 'spec', redirectUri: undefined, exchangeCode: async () => ({ locations: [] }), afterInstall: async () => undefined },
  });
  try {
    await app.ready();
    return app.swagger();
  } finally {
    await app.close();
  }
}

/**
 * Stable text: the checked-in file must not change unless a schema did. Named schemas are listed in
 * the order their modules were imported, which differs between entry points, so keys are sorted.
 */
export function serializeOpenApi(document: unknown): string {
  return `${JSON.stringify(sortSchemaKeys(document), null, 2)}\n`;
}

function sortSchemaKeys(document: unknown): unknown {
  if (typeof document !== 'object' || document === null || !('components' in document)) return document;
  const components = document.components;
  if (typeof components !== 'object' || components === null || !('schemas' in components)) return document;
  const schemas = components.schemas;
  if (typeof schemas !== 'object' || schemas === null) return document;
  const sorted = Object.fromEntries(Object.entries(schemas).sort(([a], [b]) => a.localeCompare(b)));
  return { ...document, components: { ...components, schemas: sorted } };
}
