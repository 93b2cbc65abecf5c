import { randomUUID } from 'node:crypto';

/** Opinion Stage's id format is not documented (NOTES §B4 only says `id: string`): UUIDs keep clients honest. */
export function newOsId(): string {
  return randomUUID();
}
