// The node:test spec reporter closes with lines like `ℹ tests 12`, the TAP reporter with `# tests 12`.
const SUMMARY_LINE = /^(?:ℹ|#)\s+(tests|pass|fail|cancelled|skipped|todo)\s+(\d+)\s*$/;
// eslint-disable-next-line no-control-regex -- ANSI colour codes are control characters by definition.
const ANSI = /\u001b\[[0-9;]*m/g;

/**
 * Reads the runner's closing counts from its output; the last value of each wins (nested runs
 * print their own). Undefined when the output has no `tests N` line.
 */
export function parseSummary(output) {
  const counts = {};
  for (const line of output.replace(ANSI, '').split(/\r?\n/)) {
    const match = SUMMARY_LINE.exec(line.trim());
    if (match) counts[match[1]] = Number(match[2]);
  }
  if (counts.tests === undefined) return undefined;
  return {
    tests: counts.tests,
    passed: counts.pass ?? 0,
    failed: (counts.fail ?? 0) + (counts.cancelled ?? 0),
    skipped: (counts.skipped ?? 0) + (counts.todo ?? 0),
  };
}

/** The plain closing line a CI log reader looks for: `tests: 12 passed, 0 failed[, 2 skipped]`. */
export function closingLine(summary) {
  const skipped = summary.skipped > 0 ? `, ${summary.skipped} skipped` : '';
  return `tests: ${summary.passed} passed, ${summary.failed} failed${skipped}`;
}
