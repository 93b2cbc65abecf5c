/**
 * The fuzz suites' seed (test/helpers/fuzz.ts): fixed under `npm test`, so a run cannot fail by
 * chance; fresh only when asked (`npm run fuzz` sets FUZZ_SEED=random); a printed seed replays.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import { createRng, fuzzSeed } from '../../helpers/fuzz.js';

const saved = process.env.FUZZ_SEED;

describe('fuzzSeed', () => {
  afterEach(() => {
    if (saved === undefined) delete process.env.FUZZ_SEED;
    else process.env.FUZZ_SEED = saved;
  });

  test("without FUZZ_SEED it is the suite's fixed seed, and the same seed gives the same cases", () => {
    delete process.env.FUZZ_SEED;
    assert.equal(fuzzSeed(77_130_449), 77_130_449);
    process.env.FUZZ_SEED = '  ';
    assert.equal(fuzzSeed(42), 42);
    const [first, second] = [createRng(fuzzSeed(42)), createRng(fuzzSeed(42))];
    assert.deepEqual(
      Array.from({ length: 5 }, () => first.int(0, 1_000_000)),
      Array.from({ length: 5 }, () => second.int(0, 1_000_000)),
    );
  });

  test('FUZZ_SEED=<n> replays that seed; FUZZ_SEED=random draws a fresh one', () => {
    process.env.FUZZ_SEED = '920231521';
    assert.equal(fuzzSeed(42), 920_231_521);
    process.env.FUZZ_SEED = 'random';
    const seed = fuzzSeed(42);
    assert.ok(Number.isInteger(seed) && seed >= 0 && seed < 2 ** 31, `a seed in range: ${seed}`);
  });

  test('anything else in FUZZ_SEED is refused with what it must be', () => {
    for (const value of ['-1', '1.5', 'abc']) {
      process.env.FUZZ_SEED = value;
      assert.throws(() => fuzzSeed(42), /FUZZ_SEED must be a non-negative integer or "random"/);
    }
  });
});
