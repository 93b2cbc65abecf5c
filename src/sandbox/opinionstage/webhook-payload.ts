/**
 * The body of a "new response" webhook. Opinion Stage's real payload is undocumented,
 * so this is an assumed shape: the JSON:API response object, bare or
 * wrapped in `data`, plus flat `item_id`, lead fields `email`/`name`/`phone`, and `contactId` taken
 * from the personal link's `contact_id` parameter.
 */
import type { Item, ItemResponse } from './model.js';
import { toResponseResource } from './resources.js';

export type WebhookShape = 'bare' | 'wrapped';

const FLAT_FIELD_OF_KIND: Record<string, 'email' | 'name' | 'phone'> = {
  email: 'email',
  name: 'name',
  full_name: 'name',
  phone: 'phone',
};

function leadFields(item: Item, response: ItemResponse): { email?: string; name?: string; phone?: string } {
  const fields: { email?: string; name?: string; phone?: string } = {};
  const parts: { first_name?: string; last_name?: string } = {};
  for (const answer of response.answers) {
    const question = item.questions.find((q) => q.id === answer.question);
    const value = answer.selection[0];
    if (!question?.lead || value === undefined || value === '') continue;
    const field = FLAT_FIELD_OF_KIND[question.kind];
    if (field !== undefined) fields[field] ??= value;
    if (question.kind === 'first_name' || question.kind === 'last_name') parts[question.kind] ??= value;
  }
  if (fields.name === undefined && (parts.first_name !== undefined || parts.last_name !== undefined)) {
    fields.name = [parts.first_name, parts.last_name].filter((part) => part !== undefined).join(' ');
  }
  return fields;
}

export function buildWebhookPayload(item: Item, response: ItemResponse, shape: WebhookShape, baseUrl: string): Record<string, unknown> {
  const resource = toResponseResource(response, baseUrl);
  const contactId = response.query.contact_id;
  return {
    ...(shape === 'wrapped' ? { data: resource } : resource),
    item_id: item.id,
    ...leadFields(item, response),
    ...(contactId === undefined || contactId === '' ? {} : { contactId }),
  };
}
