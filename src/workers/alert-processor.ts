/**
 * Delivers alert jobs: an immediate alert is sent as it is; a summary reads (and closes) its
 * window's follow-up count and sends one line with the count, or nothing when there were none.
 * Without ALERT_WEBHOOK_URL alerts go to the log at warn level. A failed POST throws UpstreamError,
 * which the failure policy retries; the window's count is forgotten only after delivery.
 */
import type { Job } from 'bullmq';
import type { RedisClient } from '../state/keys.js';
import type { AlertClient, AlertPayload } from '../clients/alert-webhook/alert-client.js';
import type { Logger } from '../observability/logger.js';
import { AlertDetailSchema, AlertJobSchema, buildAlertPayload, type AlertDetail } from '../queue/alerts.js';
import { createAlertThrottle, createRecentAlerts } from '../state/alert-throttle.js';
import { storedJson } from '../state/stored-text.js';

export interface AlertProcessorOptions {
  /** Undefined when ALERT_WEBHOOK_URL is not set: alerts are only logged. */
  client: AlertClient | undefined;
  logger: Logger;
  redis: RedisClient;
  prefix: string;
}

export type AlertOutcome =
  | { sent: true; via: 'webhook' | 'log'; summary: boolean; count: number }
  | { sent: false; reason: 'no-follow-ups' };

export function createAlertProcessor(options: AlertProcessorOptions) {
  const throttle = createAlertThrottle(options.redis, options.prefix);
  const recent = createRecentAlerts(options.redis, options.prefix);
  const via = options.client ? 'webhook' : 'log';

  async function deliver(payload: AlertPayload): Promise<void> {
    if (options.client) await options.client.send(payload);
    else options.logger.warn({ alert: payload }, 'alert (no alert webhook configured)');
  }

  return async (job: Job): Promise<AlertOutcome> => {
    const data = AlertJobSchema.parse(job.data);
    if (data.type === 'immediate') {
      const payload = buildAlertPayload(data.cause, data.detail, { count: 1, firstSeen: data.at, lastSeen: data.at, summary: false });
      await deliver(payload);
      await remember(payload);
      return { sent: true, via, summary: false, count: 1 };
    }

    const window = await throttle.collect(data.causeId, data.windowId);
    if (!window) return { sent: false, reason: 'no-follow-ups' };
    const detail = latestDetail(window.detail) ?? data.detail;
    const payload = buildAlertPayload(data.cause, detail, { count: window.count, firstSeen: window.firstSeen, lastSeen: window.lastSeen, summary: true });
    await deliver(payload);
    // Delivered: a failure from here on must not fail the job, or its retry would send the summary again.
    try {
      await throttle.clear(data.causeId, data.windowId);
    } catch (error) {
      options.logger.warn({ causeId: data.causeId, err: errorInfo(error) }, 'alert window not cleared');
    }
    await remember(payload);
    return { sent: true, via, summary: true, count: window.count };
  };

  async function remember(payload: AlertPayload): Promise<void> {
    try {
      await recent.record(payload, via);
    } catch (error) {
      options.logger.warn({ err: errorInfo(error) }, 'recent alert not recorded');
    }
  }
}

/** The window's latest detail comes back from Redis: untrusted, so parsed; a bad one falls back. */
function latestDetail(text: string | undefined): AlertDetail | undefined {
  const parsed = AlertDetailSchema.safeParse(storedJson(text));
  return parsed.success ? parsed.data : undefined;
}

function errorInfo(error: unknown): { name: string; message: string } {
  return error instanceof Error ? { name: error.name, message: error.message } : { name: 'Error', message: String(error) };
}
