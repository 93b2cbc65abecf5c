/**
 * The `npm test` plumbing: file collection and filters, summary parsing, the closing line, the
 * verdict (exit codes, zero-test detection) on real node:test runs, and the CLI on a subset.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { judgeRun, runNodeTests } from '../../../scripts/lib/node-tests.mjs';
import { collectTestFiles, filterTestFiles } from '../../../scripts/lib/test-files.mjs';
import { closingLine, parseSummary } from '../../../scripts/lib/test-summary.mjs';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const CLOSING_LINE = /^tests: \d+ passed, \d+ failed(, \d+ skipped)?$/m;

const SPEC_TAIL = [
  '✔ adds (0.6ms)',
  '\u001b[34mℹ tests 7\u001b[39m',
  'ℹ suites 1',
  'ℹ pass 4',
  'ℹ fail 1',
  'ℹ cancelled 1',
  'ℹ skipped 0',
  'ℹ todo 1',
  'ℹ duration_ms 222.6',
].join('\n');

describe('parseSummary and closingLine', () => {
  test('reads the spec reporter summary, colours and all; cancelled counts as failed, todo as skipped', () => {
    assert.deepEqual(parseSummary(SPEC_TAIL), { tests: 7, passed: 4, failed: 2, skipped: 1 });
  });

  test('reads the TAP reporter summary', () => {
    assert.deepEqual(parseSummary('ok 1 - a\n# tests 3\n# pass 2\n# fail 0\n# cancelled 0\n# skipped 1\n# todo 0\n'), {
      tests: 3,
      passed: 2,
      failed: 0,
      skipped: 1,
    });
  });

  test('the last summary wins over lines a test printed earlier', () => {
    assert.deepEqual(parseSummary('ℹ tests 1\nℹ pass 1\n' + SPEC_TAIL)?.passed, 4);
  });

  test('no summary line: undefined', () => {
    assert.equal(parseSummary('Error: Cannot find module\n'), undefined);
    assert.equal(parseSummary(''), undefined);
  });

  test('closing line is the plain "N passed, N failed" form, skipped only when some were', () => {
    assert.equal(closingLine({ tests: 12, passed: 12, failed: 0, skipped: 0 }), 'tests: 12 passed, 0 failed');
    assert.equal(closingLine({ tests: 9, passed: 5, failed: 2, skipped: 2 }), 'tests: 5 passed, 2 failed, 2 skipped');
  });
});

describe('judgeRun', () => {
  const summaryOf = (pass: number, fail: number, skipped: number) =>
    `ℹ tests ${pass + fail + skipped}\nℹ pass ${pass}\nℹ fail ${fail}\nℹ cancelled 0\nℹ skipped ${skipped}\nℹ todo 0\n`;

  test('passes only a clean run with at least one test run', () => {
    assert.deepEqual(judgeRun({ code: 0, output: summaryOf(3, 0, 1) }), {
      exitCode: 0,
      closing: 'tests: 3 passed, 0 failed, 1 skipped',
      problem: undefined,
    });
  });

  test('propagates the runner exit code and still prints the closing line', () => {
    assert.deepEqual(judgeRun({ code: 1, output: summaryOf(3, 1, 0) }), { exitCode: 1, closing: 'tests: 3 passed, 1 failed', problem: undefined });
    assert.equal(judgeRun({ code: 0, output: summaryOf(3, 1, 0) }).exitCode, 1);
  });

  test('zero tests run (none, or all skipped) fails', () => {
    assert.equal(judgeRun({ code: 0, output: summaryOf(0, 0, 0) }).exitCode, 1);
    const allSkipped = judgeRun({ code: 0, output: summaryOf(0, 0, 4) });
    assert.equal(allSkipped.exitCode, 1);
    assert.match(allSkipped.problem ?? '', /no test ran/);
  });

  test('no summary fails even when the runner exited 0', () => {
    const verdict = judgeRun({ code: 0, output: 'nothing here' });
    assert.equal(verdict.exitCode, 1);
    assert.equal(verdict.closing, undefined);
    assert.match(verdict.problem ?? '', /no summary/);
  });
});

describe('test files on disk', () => {
  let dir = '';

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ghl-bridge-runner-'));
    await writeFile(join(dir, 'package.json'), '{"type":"module"}\n');
    const files: Record<string, string> = {
      'test/unit/b.test.ts': passing('b'),
      'test/unit/a.test.ts': passing('a'),
      'test/unit/deep/c.test.ts': passing('c'),
      'test/integration/fails.test.ts': [
        "import { test } from 'node:test';",
        "import assert from 'node:assert/strict';",
        "test('ok', () => assert.equal(1, 1));",
        "test('broken', () => assert.equal(1, 2));",
      ].join('\n'),
      'test/integration/skips.test.ts': "import { test } from 'node:test';\ntest('later', { skip: true }, () => undefined);\n",
      'test/helpers/not-a-test.ts': 'export const x = 1;\n',
      'test/node_modules/x.test.ts': passing('hidden'),
      'deep/readme.md': 'a folder outside test/ named like a filter\n',
    };
    for (const [path, text] of Object.entries(files)) {
      await mkdir(dirname(join(dir, path)), { recursive: true });
      await writeFile(join(dir, path), text);
    }
  });

  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('collects every *.test.ts under test/, recursively and sorted, skipping node_modules', () => {
    assert.deepEqual(collectTestFiles(dir), [
      'test/integration/fails.test.ts',
      'test/integration/skips.test.ts',
      'test/unit/a.test.ts',
      'test/unit/b.test.ts',
      'test/unit/deep/c.test.ts',
    ]);
  });

  test('filters by folder, file and text, and reports filters that match nothing', () => {
    const files = collectTestFiles(dir);
    assert.deepEqual(filterTestFiles(dir, files, []).selected, files);
    assert.deepEqual(filterTestFiles(dir, files, ['test/unit']).selected, ['test/unit/a.test.ts', 'test/unit/b.test.ts', 'test/unit/deep/c.test.ts']);
    assert.deepEqual(filterTestFiles(dir, files, ['test/unit/b.test.ts', 'skips']).selected, ['test/integration/skips.test.ts', 'test/unit/b.test.ts']);
    assert.deepEqual(filterTestFiles(dir, files, [join(dir, 'test/unit/deep')]).selected, ['test/unit/deep/c.test.ts']);
    assert.deepEqual(filterTestFiles(dir, files, ['deep']).selected, ['test/unit/deep/c.test.ts']);
    assert.deepEqual(filterTestFiles(dir, files, ['unit', 'nothing-like-this']), {
      selected: ['test/unit/a.test.ts', 'test/unit/b.test.ts', 'test/unit/deep/c.test.ts'],
      unmatched: ['nothing-like-this'],
    });
  });

  test('a passing run: exit 0 and the counts of the real runner', async () => {
    const run = await runNodeTests({ cwd: root, files: [join(dir, 'test/unit/a.test.ts'), join(dir, 'test/unit/b.test.ts')], echo: false });
    assert.equal(run.code, 0, run.output);
    assert.deepEqual(judgeRun(run), { exitCode: 0, closing: 'tests: 2 passed, 0 failed', problem: undefined });
  });

  test('a failing test fails the run with the runner exit code', async () => {
    const run = await runNodeTests({ cwd: root, files: [join(dir, 'test/integration/fails.test.ts')], echo: false });
    const verdict = judgeRun(run);
    assert.notEqual(verdict.exitCode, 0);
    assert.equal(verdict.closing, 'tests: 1 passed, 1 failed');
  });

  test('a run where every test is skipped or filtered out fails as "no test ran"', async () => {
    const skipped = judgeRun(await runNodeTests({ cwd: root, files: [join(dir, 'test/integration/skips.test.ts')], echo: false }));
    assert.equal(skipped.exitCode, 1);
    assert.equal(skipped.closing, 'tests: 0 passed, 0 failed, 1 skipped');
    const filtered = judgeRun(
      await runNodeTests({ cwd: root, files: [join(dir, 'test/unit/a.test.ts')], flags: ['--test-name-pattern=^no such test$'], echo: false }),
    );
    assert.equal(filtered.exitCode, 1);
    assert.match(filtered.problem ?? '', /no test ran/);
  });
});

describe('npm test command line', () => {
  test('a subset run ends with the closing line and exits 0', async () => {
    const result = await runScript(['test/unit/config/env-example.test.ts']);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.match(result.stdout, /\[ghl-bridge\] subset run: skipping typecheck, lint/);
    assert.match(result.stdout, CLOSING_LINE);
    assert.match(result.stdout, /^tests: 3 passed, 0 failed$/m);
  });

  test('a filter matching no test file exits 1 and says so', async () => {
    const result = await runScript(['no-such-test-file-anywhere']);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /no test file matches: no-such-test-file-anywhere/);
    assert.doesNotMatch(result.stdout, CLOSING_LINE);
  });

  test('a name pattern that selects no test exits 1', async () => {
    const result = await runScript(['test/unit/config/env-example.test.ts', '--test-name-pattern=^no such test$']);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /no test ran/);
  });
});

function passing(name: string): string {
  return `import { test } from 'node:test';\nimport assert from 'node:assert/strict';\ntest('${name}', () => assert.equal(1 + 1, 2));\n`;
}

function runScript(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', GHL_BRIDGE_SKIP_INSTALL: '1' };
    delete env.NODE_TEST_CONTEXT;
    const child = spawn(process.execPath, [join(root, 'scripts/test.mjs'), ...args], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}
