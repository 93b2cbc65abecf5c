/**
 * Every outside API client, built from the configuration in one place. The service and every CLI
 * command build through these, passing the ports that differ (tokens, budget, a shorter timeout).
 */
import { createGhlClient, type GhlCallBudget, type GhlClient } from '../../clients/ghl/ghl-client.js';
import type { GhlTokenProvider } from '../../clients/ghl/token-provider.js';
import type { CallBudget } from '../../clients/http/budgeted.js';
import type { ResponseObserver } from '../../clients/http/transport.js';
import { createAlertClient, type AlertClient } from '../../clients/alert-webhook/alert-client.js';
import { createOpinionStageClient, type OpinionStageClient } from '../../clients/opinionstage/opinionstage-client.js';
import { createPushClient, type PushClient } from '../../clients/push/push-client.js';
import type { TrustpilotTokenStore } from '../../clients/trustpilot/token-store.js';
import { createTrustpilotClient, type TrustpilotClient } from '../../clients/trustpilot/trustpilot-client.js';
import type { Config } from '../../config/env.js';
import type { Metrics } from '../../observability/metrics.js';

interface CommonPorts {
  observe?: ResponseObserver;
  /** Defaults to UPSTREAM_TIMEOUT. */
  timeoutMs?: number;
}

const common = (config: Config, ports: CommonPorts) => ({ timeoutMs: ports.timeoutMs ?? config.UPSTREAM_TIMEOUT, ...(ports.observe ? { observe: ports.observe } : {}) });

/** Each answer feeds the circuit breaker and the upstream metrics. */
export function upstreamObserver(metrics: Metrics, recordExchange: ResponseObserver): ResponseObserver {
  return (info) => {
    recordExchange(info);
    metrics.upstreamCalls.inc({ system: info.system, status: String(info.status) });
    metrics.upstreamDuration.observe({ system: info.system }, info.durationMs / 1000);
  };
}

export function ghlClientFrom(config: Config, ports: CommonPorts & { tokens: GhlTokenProvider; budget?: GhlCallBudget }): GhlClient {
  return createGhlClient({
    baseUrl: config.GHL_API_BASE_URL,
    version: config.GHL_API_VERSION,
    ...common(config, ports),
    tokens: ports.tokens,
    ...(ports.budget ? { budget: ports.budget } : {}),
  });
}

/** Public lookups need the API key; reviews of us also need the business user. */
export function trustpilotClientFrom(config: Config, ports: CommonPorts & { budget: CallBudget; tokenStore: TrustpilotTokenStore }): TrustpilotClient | undefined {
  if (!config.TRUSTPILOT_API_KEY) return undefined;
  return createTrustpilotClient({
    baseUrl: config.TRUSTPILOT_API_BASE_URL,
    apiKey: config.TRUSTPILOT_API_KEY,
    ...(config.TRUSTPILOT_API_SECRET ? { apiSecret: config.TRUSTPILOT_API_SECRET } : {}),
    ...(config.TRUSTPILOT_USERNAME ? { username: config.TRUSTPILOT_USERNAME } : {}),
    ...(config.TRUSTPILOT_PASSWORD ? { password: config.TRUSTPILOT_PASSWORD } : {}),
    ...common(config, ports),
    budget: ports.budget,
    tokenStore: ports.tokenStore,
  });
}

export function opinionStageClientFrom(config: Config, ports: CommonPorts & { budget?: CallBudget }): OpinionStageClient | undefined {
  if (!config.OPINIONSTAGE_API_KEY) return undefined;
  return createOpinionStageClient({
    baseUrl: config.OPINIONSTAGE_API_BASE_URL,
    apiKey: config.OPINIONSTAGE_API_KEY,
    ...common(config, ports),
    ...(ports.budget ? { budget: ports.budget } : {}),
  });
}

export function alertClientFrom(config: Config, ports: CommonPorts): AlertClient | undefined {
  if (!config.ALERT_WEBHOOK_URL) return undefined;
  return createAlertClient({ url: config.ALERT_WEBHOOK_URL, ...(config.ALERT_WEBHOOK_SECRET ? { secret: config.ALERT_WEBHOOK_SECRET } : {}), ...common(config, ports) });
}

export function pushClientFrom(config: Config, ports: CommonPorts): PushClient | undefined {
  if (!config.OPINIONSTAGE_PUSH_URL) return undefined;
  return createPushClient({ url: config.OPINIONSTAGE_PUSH_URL, secret: config.OPINIONSTAGE_PUSH_SECRET, ...common(config, ports) });
}
