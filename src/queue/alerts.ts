/**
 * Raising alerts: each failure is counted against its cause in Redis (state/alert-throttle.ts); the
 * first of a cause in a window becomes an alert job at once, the first follow-up schedules one summary
 * job for the window's end (deterministic job id, so never doubled), and the rest only count. The
 * alerts queue then delivers them (workers/alert-processor.ts), retried by BullMQ.
 *
 * A cause is (kind, queue, error code, upstream system, HTTP status); for OAuth and daily-budget
 * alerts the location is part of the cause, since each location needs its own action.
 * Alert text carries ids and short safe messages only: anything that looks like an email address,
 * phone number or token is blanked out again here, whatever the caller passed.
 */
import { createHash } from 'node:crypto';
import type { Queue } from 'bullmq';
import type { RedisClient } from '../state/keys.js';
import { z, ZodError } from 'zod';
import { AlertKindSchema, type AlertKind, type AlertPayload } from '../clients/alert-webhook/alert-client.js';
import { UpstreamError } from '../clients/http/upstream-error.js';
import type { Logger } from '../observability/logger.js';
import { createAlertThrottle } from '../state/alert-throttle.js';
import { DEFAULT_JOB_OPTIONS, QUEUE_NAMES } from './catalog.js';

export const DEFAULT_ALERT_WINDOW_MS = 10 * 60_000;
const MESSAGE_MAX = 300;
const FIELD_MAX = 128;

export interface AlertInput {
  kind: AlertKind;
  /** With errorCode, system and status (and kind): the cause alerts are throttled by. */
  queue?: string | undefined;
  errorCode?: string | undefined;
  system?: string | undefined;
  status?: number | undefined;
  /** e.g. the GHL event type or the job name. */
  event?: string | undefined;
  locationId?: string | undefined;
  contactId?: string | undefined;
  /** e.g. UpstreamError, PermanentJobError. */
  errorClass?: string | undefined;
  /** Short and safe: no secrets, no personal data. */
  message: string;
}

export interface Alerts {
  /** Never throws: a failing alert path must not fail the job that raised it (it logs a warning). */
  raise(input: AlertInput): Promise<void>;
}

export interface AlertsOptions {
  queue: Pick<Queue, 'add'>;
  redis: RedisClient;
  prefix: string;
  logger: Logger;
  /** Later failures of a cause within this time are summed into one follow-up (default 10 min). */
  windowMs?: number;
  now?: () => number;
}

const field = z.string().max(FIELD_MAX);

export const AlertCauseSchema = z.object({
  kind: AlertKindSchema,
  queue: field.optional(),
  errorCode: field.optional(),
  system: field.optional(),
  status: z.number().int().min(100).max(599).optional(),
});
export type AlertCause = z.infer<typeof AlertCauseSchema>;

export const AlertDetailSchema = z.object({
  event: field.optional(),
  locationId: field.optional(),
  contactId: field.optional(),
  errorClass: field.optional(),
  message: z.string().max(MESSAGE_MAX + 1),
});
export type AlertDetail = z.infer<typeof AlertDetailSchema>;

const throttleId = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/);

/** Data of a job on the alerts queue. */
export const AlertJobSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('immediate'),
    causeId: throttleId,
    windowId: throttleId,
    cause: AlertCauseSchema,
    detail: AlertDetailSchema,
    /** When the failure happened (epoch ms). */
    at: z.number().int().nonnegative(),
  }),
  z.object({
    type: z.literal('summary'),
    causeId: throttleId,
    windowId: throttleId,
    cause: AlertCauseSchema,
    /** The first follow-up's detail; the latest one kept in Redis wins when present. */
    detail: AlertDetailSchema,
  }),
]);
export type AlertJob = z.infer<typeof AlertJobSchema>;

const REDACTIONS: readonly [RegExp, string][] = [
  [/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}/gi, '$1 [redacted]'],
  [/[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g, '[email]'],
  [/\beyJ[\w-]*\.[\w-]+\.[\w-]*/g, '[token]'],
  [/\bpit-[\w-]{8,}/gi, '[token]'],
  [/([?&](?:token|access_token|refresh_token|apikey|api_key|key|code|state|secret|password)=)[^&#\s]*/gi, '$1[redacted]'],
  [/((?:token|secret|password|apikey|api_key)["']?\s*[:=]\s*["']?)[^\s,;"'&]+/gi, '$1[redacted]'],
  [/\+\d[\d\s().-]{6,}\d/g, '[phone]'],
  // Long opaque strings are tokens or secrets far more often than anything a human needs to read.
  [/[A-Za-z0-9+/]{30,}={1,2}/g, '[redacted]'],
  [/[A-Za-z0-9_-]{40,}/g, '[redacted]'],
];

/** Blanks out what looks like an email, phone number or token; one line; at most `max` characters. */
export function redactAlertText(text: string, max = MESSAGE_MAX): string {
  // Bounded before the patterns run, so a huge error text costs little.
  let result = text.slice(0, 4 * max).replace(/\p{Cc}+/gu, ' ');
  for (const [pattern, replacement] of REDACTIONS) result = result.replace(pattern, replacement);
  result = result.replace(/\s{2,}/g, ' ').trim();
  return result.length > max ? `${result.slice(0, max - 1)}…` : result;
}

const optionalText = (value: string | undefined, max = FIELD_MAX) => {
  if (value === undefined) return undefined;
  const text = redactAlertText(value, max);
  return text.length > 0 ? text : undefined;
};

/** Splits an input into its cause and its detail, every text redacted and bounded. */
export function normalizeAlert(input: AlertInput): { cause: AlertCause; detail: AlertDetail } {
  const cause = AlertCauseSchema.parse({
    kind: input.kind,
    queue: optionalText(input.queue),
    errorCode: optionalText(input.errorCode),
    system: optionalText(input.system),
    status: Number.isInteger(input.status) && input.status !== undefined && input.status >= 100 && input.status <= 599 ? input.status : undefined,
  });
  const detail = AlertDetailSchema.parse({
    event: optionalText(input.event),
    locationId: optionalText(input.locationId),
    contactId: optionalText(input.contactId),
    errorClass: optionalText(input.errorClass),
    message: redactAlertText(input.message),
  });
  return { cause, detail };
}

/** Kinds whose action is per location ("reconnect location X"), so the location is part of the cause. */
const PER_LOCATION: ReadonlySet<AlertKind> = new Set(['oauth-reconnect', 'daily-budget']);

/** A short stable id of a cause (safe in Redis keys and BullMQ job ids). */
export function alertCauseId(cause: AlertCause, detail: Pick<AlertDetail, 'locationId'>): string {
  const parts = [cause.kind, cause.queue ?? '', cause.errorCode ?? '', cause.system ?? '', cause.status ?? ''];
  if (PER_LOCATION.has(cause.kind)) parts.push(detail.locationId ?? '');
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 24);
}

/** What failed, in a few words: `contact-sync failed: ghl 404`. */
function headline(cause: AlertCause, detail: AlertDetail): string {
  switch (cause.kind) {
    case 'job-failed': {
      const what = [cause.system, cause.status ?? cause.errorCode].filter((part) => part !== undefined).join(' ');
      return `${cause.queue ?? 'job'} failed: ${what || detail.errorClass || cause.errorCode || 'error'}`;
    }
    case 'circuit-open':
      return `circuit opened for ${cause.system ?? 'an upstream'}`;
    case 'oauth-reconnect':
      return `OAuth refresh failed: reconnect location ${detail.locationId ?? '(unknown)'}`;
    case 'daily-budget':
      return `daily ${cause.system ?? 'GHL'} budget nearly spent for location ${detail.locationId ?? '(unknown)'}`;
    case 'dead-letter-growth':
      return `dead letters growing${cause.queue ? ` in ${cause.queue}` : ''}`;
  }
}

/** `12:01 UTC`: alerts are read within minutes, the date adds nothing. */
const clock = (ms: number) => `${new Date(ms).toISOString().slice(11, 16)} UTC`;
/** Slack reads `&`, `<` and `>` as markup. */
const slackEscape = (text: string) => text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');

export interface AlertTally {
  count: number;
  firstSeen: number;
  lastSeen: number;
  summary: boolean;
}

/** The body POSTed to ALERT_WEBHOOK_URL. */
export function buildAlertPayload(cause: AlertCause, detail: AlertDetail, tally: AlertTally): AlertPayload {
  const where = [detail.locationId && cause.kind === 'job-failed' ? `location ${detail.locationId}` : undefined, detail.contactId ? `contact ${detail.contactId}` : undefined]
    .filter((part) => part !== undefined)
    .join(', ');
  let line: string;
  if (tally.summary) {
    const times = tally.count === 1 ? '1 more time' : `${tally.count} more times`;
    const last = tally.lastSeen > tally.firstSeen ? `, last ${clock(tally.lastSeen)}` : '';
    line = `${headline(cause, detail)} (${times} since ${clock(tally.firstSeen)}${last})`;
    if (detail.message) line += `; latest: ${detail.message}`;
  } else {
    line = headline(cause, detail);
    if (detail.message) line += `: ${detail.message}`;
    if (where) line += ` (${where})`;
  }
  return {
    text: slackEscape(`[ghl-bridge] ${line}`),
    kind: cause.kind,
    queue: cause.queue ?? null,
    event: detail.event ?? null,
    locationId: detail.locationId ?? null,
    contactId: detail.contactId ?? null,
    errorClass: detail.errorClass ?? null,
    errorCode: cause.errorCode ?? null,
    system: cause.system ?? null,
    status: cause.status ?? null,
    message: detail.message,
    count: Math.max(1, tally.count),
    firstSeen: new Date(tally.firstSeen).toISOString(),
    lastSeen: new Date(Math.max(tally.firstSeen, tally.lastSeen)).toISOString(),
    summary: tally.summary,
  };
}

export function createAlerts(options: AlertsOptions): Alerts {
  const windowMs = options.windowMs ?? DEFAULT_ALERT_WINDOW_MS;
  const now = options.now ?? Date.now;
  const throttle = createAlertThrottle(options.redis, options.prefix);
  const jobOptions = DEFAULT_JOB_OPTIONS[QUEUE_NAMES.alerts];

  return {
    async raise(input) {
      try {
        const { cause, detail } = normalizeAlert(input);
        const causeId = alertCauseId(cause, detail);
        const at = now();
        const hit = await throttle.hit(causeId, at, windowMs, JSON.stringify(detail));
        if (hit.opened) {
          const job = AlertJobSchema.parse({ type: 'immediate', causeId, windowId: hit.windowId, cause, detail, at });
          await options.queue.add(`alert-${cause.kind}`, job, { ...jobOptions, jobId: `alert-${causeId}-${hit.windowId}` });
        } else if (hit.count === 1) {
          // Only a window with follow-ups needs a summary; the first follow-up schedules it.
          const job = AlertJobSchema.parse({ type: 'summary', causeId, windowId: hit.windowId, cause, detail });
          await options.queue.add(`alert-${cause.kind}-summary`, job, {
            ...jobOptions,
            delay: hit.windowLeftMs,
            jobId: `summary-${causeId}-${hit.windowId}`,
          });
        }
      } catch (error) {
        options.logger.warn(
          { kind: input.kind, queue: input.queue, err: { name: error instanceof Error ? error.name : 'Error', message: error instanceof Error ? error.message : String(error) } },
          'alert could not be raised',
        );
      }
    },
  };
}

/**
 * The alert for a job that failed for good (called where the dead letter is recorded). Reads only
 * ids and the event type from the job data, never its contents; error text is reduced to what
 * identifies the failure.
 */
export function jobFailedAlert(queueName: string, job: { name: string; data: unknown }, error: unknown): AlertInput {
  const data = asRecord(job.data);
  const event = asRecord(data.event);
  const eventType = text(data.eventType) ?? text(event.type) ?? text(data.eventName);
  const contactId = text(data.contactId) ?? text(event.contactId) ?? (eventType?.startsWith('Contact') ? text(event.id) : undefined);
  const base = {
    kind: 'job-failed' as const,
    queue: queueName,
    event: eventType ?? job.name,
    locationId: text(data.locationId) ?? text(event.locationId),
    contactId,
  };
  if (error instanceof UpstreamError) {
    return { ...base, system: error.system, status: error.status, errorCode: error.code, errorClass: error.name, message: error.message };
  }
  if (error instanceof ZodError) {
    const paths = [...new Set(error.issues.map((issue) => issue.path.join('.') || '(root)'))].slice(0, 5).join(', ');
    return { ...base, errorCode: 'invalid-job-data', errorClass: 'ZodError', message: `invalid job data at ${paths}` };
  }
  if (error instanceof Error) {
    const code = 'code' in error && typeof error.code === 'string' ? error.code : undefined;
    return { ...base, errorCode: code ?? error.name, errorClass: error.name, message: error.message };
  }
  return { ...base, errorCode: 'unknown', message: 'non-error thrown' };
}

const AnyRecordSchema = z.record(z.string(), z.unknown());

function asRecord(value: unknown): Record<string, unknown> {
  const parsed = AnyRecordSchema.safeParse(value);
  return parsed.success ? parsed.data : {};
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}
