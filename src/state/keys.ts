/** Redis key names, in one place: `<prefix>:<purpose>:<locationId>:<id>`. */
export function stateKey(prefix: string, purpose: string, locationId: string, id: string): string {
  return `${prefix}:${purpose}:${locationId}:${id}`;
}
