/** Reading back what the stores wrote to Redis as text: a damaged or missing value reads as absent. */

/** The JSON value of `text`; undefined when missing, empty or not JSON (the caller's schema decides the rest). */
export function storedJson(text: string | null | undefined): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** The finite number `text` holds; undefined when missing, empty or not a number. */
export function storedNumber(text: string | null | undefined): number | undefined {
  if (text === null || text === undefined || text === '') return undefined;
  const value = Number(text);
  return Number.isFinite(value) ? value : undefined;
}
