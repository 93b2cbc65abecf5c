import { randomUUID } from 'node:crypto';

/** Opinion Stage's id format is not documented (the observed schemas only say `id: string`): UUIDs keep clients honest. */
export function newOsId(): string {
  return randomUUID();
}
