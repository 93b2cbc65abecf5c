/**
 * The Opinion Stage webhook body we accept. Opinion Stage documents no webhook payload, so the bridge
 * settles it: the response object as the API returns it, bare or wrapped in `data`, optionally with
 * flat `email`, `name`, `phone`, `contactId` (and `item_id`/`itemId`) beside it.
 */
import { z } from 'zod';
import type { OsFlatFields } from '../domain/opinionstage-answers.js';
import { OsResponseSchema, type OsResponse } from '../clients/opinionstage/schemas.js';

const text = z.string().nullish();

const ItemIdSchema = z.union([z.string().min(1).max(256), z.number().int().nonnegative()]);

/** Fields a sender may add beside the response. Bad emails are dropped later, not refused. */
const flatShape = {
  item_id: ItemIdSchema.nullish(),
  itemId: ItemIdSchema.nullish(),
  email: text,
  name: text,
  phone: text,
  contactId: text,
};

export const OsWebhookWrappedBodySchema = z.looseObject({ data: OsResponseSchema, ...flatShape });
export const OsWebhookBareBodySchema = OsResponseSchema.extend(flatShape);

/**
 * What POST /webhooks/opinionstage accepts: the response wrapped in `data`, or bare. For error replies
 * use parseOsWebhookBody, which picks the branch first and so reports precise field paths.
 */
export const OsWebhookBodySchema = z.union([OsWebhookWrappedBodySchema, OsWebhookBareBodySchema]);
export type OsWebhookBody = z.infer<typeof OsWebhookBodySchema>;

export interface OsValidationIssue {
  path: string;
  message: string;
}

export type OsWebhookParseResult =
  | { kind: 'response'; response: OsResponse; itemId?: string; flat: OsFlatFields }
  | { kind: 'invalid'; issues: OsValidationIssue[] };

const MAX_ISSUES = 50;

/** Validates a parsed JSON webhook body (bare or wrapped in `data`) and reads the flat fields beside it. */
export function parseOsWebhookBody(body: unknown): OsWebhookParseResult {
  if (!isPlainObject(body)) return { kind: 'invalid', issues: [{ path: '', message: 'expected a JSON object' }] };
  // A body with `data` and no `attributes` is the wrapped form; picking the branch first keeps issue paths exact.
  let response: OsResponse;
  let top: z.infer<typeof OsWebhookBareBodySchema> | z.infer<typeof OsWebhookWrappedBodySchema>;
  if ('data' in body && !('attributes' in body)) {
    const parsed = OsWebhookWrappedBodySchema.safeParse(body, { error: requiredMessage });
    if (!parsed.success) return { kind: 'invalid', issues: toIssues(parsed.error) };
    ({ data: response } = parsed.data);
    top = parsed.data;
  } else {
    const parsed = OsWebhookBareBodySchema.safeParse(body, { error: requiredMessage });
    if (!parsed.success) return { kind: 'invalid', issues: toIssues(parsed.error) };
    response = parsed.data;
    top = parsed.data;
  }
  const flat: OsFlatFields = {};
  for (const key of ['email', 'name', 'phone', 'contactId'] as const) {
    const value = top[key]?.trim();
    if (value !== undefined && value !== '') flat[key] = value;
  }
  const itemId = top.item_id ?? top.itemId ?? itemIdFromLink(response.links?.self);
  return itemId === undefined ? { kind: 'response', response, flat } : { kind: 'response', response, itemId: String(itemId), flat };
}

/** Inferred, not documented: a response's `links.self` reads like `…/items/{itemId}/responses/{id}`. */
function itemIdFromLink(link: string | null | undefined): string | undefined {
  const match = link?.match(/\/items\/([^/?#]+)\/responses(?:[/?#]|$)/);
  if (match?.[1] === undefined) return undefined;
  try {
    const id = decodeURIComponent(match[1]);
    // Same bound as the job schema's itemId: a link is a hint, not a reason to refuse the response.
    return id.length <= 256 ? id : undefined;
  } catch {
    return undefined;
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function requiredMessage(issue: z.core.$ZodRawIssue): string | undefined {
  return issue.code === 'invalid_type' && issue.input === undefined ? 'is required' : undefined;
}

function toIssues(error: z.ZodError): OsValidationIssue[] {
  return error.issues.slice(0, MAX_ISSUES).map((issue) => ({
    path: issue.path.map((segment) => String(segment)).join('.'),
    message: issue.message,
  }));
}
