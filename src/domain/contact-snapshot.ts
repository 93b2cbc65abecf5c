/**
 * The contact as the planners see it: one mapper from whatever carries a contact (a GHL read, a
 * search result, a marketplace contact event) to a snapshot, and the states a plan's writes leave.
 */
import type { ContactSnapshot, Plan } from './plan.js';

/** A contact as GHL's reads and contact events carry it; absent or null parts are left out. */
export interface ContactShape {
  id: string;
  firstName?: string | null;
  lastName?: string | null;
  name?: string | null;
  email?: string | null;
  website?: string | null;
  assignedTo?: string | null;
  tags?: readonly string[] | null;
  customFields?: readonly { id: string; value?: unknown }[] | null;
}

export function toSnapshot(contact: ContactShape, locationId: string): ContactSnapshot {
  return {
    id: contact.id,
    locationId,
    ...(contact.firstName ? { firstName: contact.firstName } : {}),
    ...(contact.lastName ? { lastName: contact.lastName } : {}),
    ...(contact.name ? { name: contact.name } : {}),
    ...(contact.email ? { email: contact.email } : {}),
    ...(contact.website ? { website: contact.website } : {}),
    ...(contact.assignedTo ? { assignedTo: contact.assignedTo } : {}),
    tags: [...(contact.tags ?? [])],
    customFields: (contact.customFields ?? []).map((field) => ({ id: field.id, value: field.value })),
  };
}

/** The contact as GHL holds it after each field or tag write of the plan, in order; the last is the final state. */
export function statesAfterEachWrite(contact: ContactSnapshot, plan: Plan): ContactSnapshot[] {
  const fields = new Map(contact.customFields.map((field) => [field.id, field.value]));
  let tags = [...contact.tags];
  const states: ContactSnapshot[] = [];
  for (const write of plan.writes) {
    if (write.kind === 'set-fields') for (const field of write.fields) fields.set(field.id, field.value);
    else if (write.kind === 'add-tags') tags = [...tags, ...write.tags];
    else if (write.kind === 'remove-tags') {
      const removed = new Set(write.tags.map((tag) => tag.toLowerCase()));
      tags = tags.filter((tag) => !removed.has(tag.toLowerCase()));
    } else continue;
    states.push({ ...contact, tags, customFields: [...fields].map(([id, value]) => ({ id, value })) });
  }
  return states;
}
