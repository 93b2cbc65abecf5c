/**
 * Strict JSON for webhook bodies: invalid UTF-8 is refused rather than silently replaced, and
 * nesting deeper than any real payload is refused before it can overflow a stack later
 * (JSON.stringify in the queue, hashing). Both become a 400, never a retry-forever 429.
 */
import { isAscii } from 'node:buffer';

const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

export const MAX_JSON_DEPTH = 64;

export type JsonBodyResult = { ok: true; value: unknown } | { ok: false; message: string };

export function parseJsonBody(raw: Buffer, maxDepth = MAX_JSON_DEPTH): JsonBodyResult {
  let text: string;
  try {
    // Plain ASCII (nearly every body) is valid UTF-8 that reads the same as Latin-1, the cheapest decoding.
    text = isAscii(raw) ? raw.toString('latin1') : decoder.decode(raw);
  } catch {
    return { ok: false, message: 'the body is not valid UTF-8' };
  }
  if (!fewBrackets(text, maxDepth) && nestingDepth(text) > maxDepth) return { ok: false, message: `the body nests deeper than ${maxDepth} levels` };
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (error) {
    return { ok: false, message: error instanceof Error ? error.message.slice(0, 200) : 'invalid JSON' };
  }
}

/**
 * At most `limit` opening brackets in all (inside strings too) cannot nest deeper than `limit`. Real
 * payloads have a handful, found with a few native scans, so the full pass below is rarely needed.
 */
function fewBrackets(text: string, limit: number): boolean {
  let count = 0;
  for (let at = text.indexOf('{'); at !== -1; at = text.indexOf('{', at + 1)) if (++count > limit) return false;
  for (let at = text.indexOf('['); at !== -1; at = text.indexOf('[', at + 1)) if (++count > limit) return false;
  return true;
}

/** The deepest bracket nesting outside strings; one pass, no allocation. */
export function nestingDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let index = 0; index < text.length; index++) {
    const char = text.charCodeAt(index);
    if (inString) {
      if (char === 0x5c) index++; // backslash: skip the escaped character
      else if (char === 0x22) inString = false;
    } else if (char === 0x22) inString = true;
    else if (char === 0x5b || char === 0x7b) {
      depth++;
      if (depth > deepest) deepest = depth;
    } else if (char === 0x5d || char === 0x7d) depth--;
  }
  return deepest;
}
