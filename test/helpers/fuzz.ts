/**
 * Building blocks for the fuzz suites: a seeded PRNG (so a failing run is reproduced with its seed),
 * generators of hostile values, byte-level mutations and a bounded-concurrency runner.
 */
import { randomInt } from 'node:crypto';

export interface Rng {
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [min, max], both included. */
  int(min: number, max: number): number;
  bool(probability?: number): boolean;
  pick<T>(items: readonly T[]): T;
  /** Picks a key with probability proportional to its weight. */
  weighted<K extends string>(weights: Readonly<Record<K, number>>): K;
  string(length: number, alphabet?: string): string;
}

export const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const ID_ALPHABET = `${ALPHANUMERIC}_-`;

/** mulberry32: tiny, fast, and good enough to spread fuzz cases; the same seed gives the same run. */
export function createRng(seed: number): Rng {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
  const int = (min: number, max: number): number => min + Math.floor(next() * (max - min + 1));
  return {
    next,
    int,
    bool: (probability = 0.5) => next() < probability,
    pick<T>(items: readonly T[]): T {
      const at = int(0, items.length - 1);
      // Walks instead of indexing: items may themselves be undefined, which indexing cannot tell from "absent".
      for (const [index, item] of items.entries()) if (index === at) return item;
      throw new Error('pick from an empty list');
    },
    weighted<K extends string>(weights: Readonly<Record<K, number>>): K {
      const entries = Object.entries(weights) as [K, number][];
      const total = entries.reduce((sum, [, weight]) => sum + weight, 0);
      let roll = next() * total;
      for (const [key, weight] of entries) {
        roll -= weight;
        if (roll < 0) return key;
      }
      const last = entries.at(-1);
      if (last === undefined) throw new Error('weighted pick from no entries');
      return last[0];
    },
    string(length: number, alphabet = ALPHANUMERIC): string {
      let out = '';
      for (let i = 0; i < length; i++) out += alphabet.charAt(int(0, alphabet.length - 1));
      return out;
    },
  };
}

/**
 * The seed of a fuzz suite's run. `npm test` runs each suite on its own fixed seed, so a run of the
 * suite (and CI) sees the same cases every time and cannot fail by chance. `npm run fuzz` sets
 * `FUZZ_SEED=random` to explore fresh cases; `FUZZ_SEED=<n>` replays the run a suite printed. A seed
 * that finds a defect is replayed, the defect mended, and the case kept as a test of its own.
 */
export function fuzzSeed(fixedSeed: number): number {
  const fromEnv = process.env.FUZZ_SEED?.trim();
  if (fromEnv === undefined || fromEnv === '') return fixedSeed >>> 0;
  if (fromEnv === 'random') return randomInt(0, 2 ** 31);
  const seed = Number(fromEnv);
  if (!Number.isSafeInteger(seed) || seed < 0) throw new Error(`FUZZ_SEED must be a non-negative integer or "random", got ${fromEnv}`);
  return seed >>> 0;
}

/** `FUZZ_COUNT` when set, otherwise the default; never below `minimum` (the suite's promise). */
export function fuzzCount(defaultCount: number, minimum = 1): number {
  const fromEnv = process.env.FUZZ_COUNT;
  if (fromEnv === undefined || fromEnv.trim() === '') return defaultCount;
  const count = Number(fromEnv);
  if (!Number.isSafeInteger(count) || count < minimum) throw new Error(`FUZZ_COUNT must be an integer >= ${minimum}, got ${fromEnv}`);
  return count;
}

// ---------------------------------------------------------------------------------------------
// Values
// ---------------------------------------------------------------------------------------------

/** A GHL-style id: letters, digits, `_`, `-`; 1-128 characters. */
export function validId(rng: Rng, length = rng.int(8, 32)): string {
  return rng.string(length, ID_ALPHABET);
}

const UNICODE_SAMPLES = [
  'Zoë', 'Ærøskøbing', 'Łódź', 'İstanbul', 'Straße', '東京都', '김민준', 'Москва', 'שָׁלוֹם', 'مرحبا',
  '😀🎉', '👩‍👩‍👧‍👦', 'e\u0301', '\u200b', '\u202e', '\ufeff', '\u0000', '\ud800', '\udfff', '\u2028\u2029', 'ﷺ', '\u{10ffff}',
] as const;

/** Text of exactly `length` UTF-16 code units, mixing ASCII, scripts, emoji, controls and lone surrogates. */
export function unicodeText(rng: Rng, length: number): string {
  let out = '';
  while (out.length < length) out += rng.bool(0.5) ? rng.string(rng.int(1, 6), `${ALPHANUMERIC} .,'"\\/<>&%{}[]`) : rng.pick(UNICODE_SAMPLES);
  return out.slice(0, length);
}

/** Strings that are not GHL ids: path tricks, spaces, unicode, empty, too long. */
export function badId(rng: Rng): string {
  switch (rng.int(0, 11)) {
    case 0:
      return `${validId(rng)}/${validId(rng)}`;
    case 1:
      return '..';
    case 2:
      return `../${validId(rng)}`;
    case 3:
      return `${validId(rng, 6)} ${validId(rng, 6)}`;
    case 4:
      return `${validId(rng, 6)}${rng.pick(UNICODE_SAMPLES)}`;
    case 5:
      return '';
    case 6:
      return 'x'.repeat(rng.pick([129, 1_000, 10_000]));
    case 7:
      return `${validId(rng)}:${validId(rng)}`;
    case 8:
      return `${validId(rng)}\n`;
    case 9:
      return `%2e%2e%2f${validId(rng, 4)}`;
    case 10:
      return `${validId(rng, 4)}?x=1#y`;
    default:
      return ' ';
  }
}

/** A JSON value that is not a string (number, boolean, null excluded unless asked, array, object). */
export function nonString(rng: Rng, allowNull = false): unknown {
  const choices: (() => unknown)[] = [
    () => rng.int(-1_000_000, 1_000_000),
    () => rng.pick([0, -0, 1e308, -1e-308, 2 ** 53 + 1, 0.1]),
    () => rng.bool(),
    () => [],
    () => [validId(rng)],
    () => ({}),
    () => ({ value: validId(rng) }),
  ];
  if (allowNull) choices.push(() => null);
  return rng.pick(choices)();
}

/** Any JSON value, nested up to `depth`. */
export function randomJson(rng: Rng, depth = 3): unknown {
  const roll = rng.int(0, depth > 0 ? 7 : 4);
  switch (roll) {
    case 0:
      return null;
    case 1:
      return rng.bool();
    case 2:
      return rng.bool() ? rng.int(-1e9, 1e9) : rng.next() * 1e6;
    case 3:
    case 4:
      return unicodeText(rng, rng.int(0, 24));
    case 5:
    case 6:
      return Array.from({ length: rng.int(0, 4) }, () => randomJson(rng, depth - 1));
    default: {
      const object: Record<string, unknown> = {};
      for (let i = rng.int(0, 4); i > 0; i--) object[unicodeText(rng, rng.int(1, 10))] = randomJson(rng, depth - 1);
      return object;
    }
  }
}

/** JSON text of `depth` nested arrays or objects around a leaf (built as text: no recursion needed). */
export function deepJson(depth: number, kind: 'array' | 'object' | 'mixed' = 'mixed', leaf = '0'): string {
  const opens: string[] = [];
  const closes: string[] = [];
  for (let i = 0; i < depth; i++) {
    const array = kind === 'array' || (kind === 'mixed' && i % 2 === 0);
    opens.push(array ? '[' : '{"k":');
    closes.push(array ? ']' : '}');
  }
  return `${opens.join('')}${leaf}${closes.reverse().join('')}`;
}

// ---------------------------------------------------------------------------------------------
// Bytes
// ---------------------------------------------------------------------------------------------

/** A copy of `bytes` with 1-3 bytes XOR-ed by a non-zero mask: always different from the input. */
export function flipBytes(rng: Rng, bytes: Buffer): Buffer {
  const out = Buffer.from(bytes);
  for (let flips = rng.int(1, 3); flips > 0; flips--) {
    const at = rng.int(0, out.length - 1);
    out[at] = (out[at] ?? 0) ^ rng.int(1, 255);
  }
  // Two flips of one byte can cancel out (seed 196705163): the result must differ from the input.
  if (out.equals(bytes) && out.length > 0) out[0] = (out[0] ?? 0) ^ 1;
  return out;
}

/** Byte sequences that are never valid UTF-8: stray continuation, overlong, surrogate, truncated, out of range. */
export const INVALID_UTF8 = [
  Buffer.from([0x80]),
  Buffer.from([0xc0, 0xaf]),
  Buffer.from([0xed, 0xa0, 0x80]),
  Buffer.from([0xe2, 0x82]),
  Buffer.from([0xf4, 0x90, 0x80, 0x80]),
  Buffer.from([0xff]),
  Buffer.from([0xfe, 0xfe]),
] as const;

/** `text` with the first occurrence of `marker` replaced by invalid UTF-8 bytes. */
export function withInvalidUtf8(rng: Rng, text: string, marker: string): Buffer {
  const at = text.indexOf(marker);
  if (at < 0) throw new Error(`marker ${marker} not in text`);
  return Buffer.concat([Buffer.from(text.slice(0, at), 'utf8'), rng.pick(INVALID_UTF8), Buffer.from(text.slice(at + marker.length), 'utf8')]);
}

// ---------------------------------------------------------------------------------------------
// Running
// ---------------------------------------------------------------------------------------------

/**
 * Runs `work` over items pulled from `next` with at most `concurrency` in flight. Items are pulled
 * synchronously, one at a time, so the sequence (and so a seeded run) does not depend on timing.
 */
export async function runPool<T>(next: () => T | undefined, concurrency: number, work: (item: T) => Promise<void>): Promise<void> {
  const lanes = Array.from({ length: concurrency }, async () => {
    for (let item = next(); item !== undefined; item = next()) await work(item);
  });
  await Promise.all(lanes);
}
