/** Reply schemas shared by routes; every route declares its error replies too, so the OpenAPI document lists them. */
import { z } from 'zod';

export const FieldIssueSchema = z.object({
  path: z.string().describe('Dotted path of the offending field, e.g. `customFields.0.id`'),
  message: z.string(),
});

export const ErrorReplySchema = z
  .object({
    statusCode: z.number().int(),
    code: z.string().describe('Stable machine-readable error code'),
    error: z.string(),
    message: z.string(),
    fields: z.array(FieldIssueSchema).optional().describe('Present on 400 validation errors'),
  })
  .meta({ id: 'ErrorReply' });
export type ErrorReply = z.infer<typeof ErrorReplySchema>;

export const WebhookReplySchema = z
  .object({
    status: z.enum(['accepted', 'duplicate', 'ignored']),
    id: z.string().nullable().describe('The queued job id (for a duplicate, the job it was first queued as); null when ignored'),
    reason: z.string().optional().describe('Why an event was ignored'),
  })
  .meta({ id: 'WebhookReply' });
export type WebhookReply = z.infer<typeof WebhookReplySchema>;

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
};

export function errorReply(statusCode: number, code: string, message: string, fields?: ErrorReply['fields']): ErrorReply {
  return { statusCode, code, error: STATUS_TEXT[statusCode] ?? 'Error', message, ...(fields ? { fields } : {}) };
}

/** Error replies every webhook route can give. */
export const WEBHOOK_ERROR_REPLIES = {
  400: ErrorReplySchema.describe('Malformed JSON or a payload that fails validation; `fields` names the offending paths'),
  401: ErrorReplySchema.describe('Missing or invalid signature / token, or a timestamp more than 5 minutes in the future'),
  403: ErrorReplySchema.describe('Caller address not in WEBHOOK_IP_ALLOWLIST'),
  413: ErrorReplySchema.describe('Body over 1 MiB'),
  415: ErrorReplySchema.describe('Content type is not application/json'),
  429: ErrorReplySchema.describe(
    'Retry after `Retry-After` seconds: the event could not be durably queued right now (Redis down or slow), the server is shutting down (`SHUTTING_DOWN`), or this address failed authentication too often (`TOO_MANY_AUTH_FAILURES`, WEBHOOK_AUTH_FAILURE_LIMIT)',
  ),
} as const;
