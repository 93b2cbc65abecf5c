/** Query strings and url-encoded forms: every parameter an optional string; the handler says what is missing, as the real API does. */
import { z } from 'zod';

/** A loose object of optional string parameters named `keys` (unknown parameters are kept). */
export function optionalParams<const K extends string>(keys: readonly K[]) {
  const shape = Object.fromEntries(keys.map((key) => [key, z.string().optional()])) as Record<K, z.ZodOptional<z.ZodString>>;
  return z.looseObject(shape);
}
