/**
 * `npm test` (CONTRACT.md "Commands"): dependencies, the redis-server binary (tests start their own
 * servers on free ports), typecheck, lint, OpenAPI drift check, then every test/**\/*.test.ts through
 * node:test. `npm test -- <file|folder|text> ...` runs a subset and skips the static checks; any
 * argument starting with `--` goes to the test runner (e.g. `--test-name-pattern=retry`).
 * Fails when no test file is found or no test ran (all skipped counts as none), and ends with
 * `tests: N passed, N failed[, N skipped]`.
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import process from 'node:process';
import { ensureDeps } from './lib/ensure-deps.mjs';
import { ensureRedisBinary } from './lib/ensure-redis.mjs';
import { fail, log, warn } from './lib/log.mjs';
import { projectRoot } from './lib/paths.mjs';
import { judgeRun, runNodeTests } from './lib/node-tests.mjs';
import { npm } from './lib/run.mjs';
import { collectTestFiles, filterTestFiles } from './lib/test-files.mjs';

const root = projectRoot;
const args = process.argv.slice(2);
const runnerFlags = args.filter((arg) => arg.startsWith('--'));
const filters = args.filter((arg) => !arg.startsWith('--'));

await ensureDeps(root);

const redisServer = ensureRedisBinary();
if (!redisServer) {
  fail('the tests need redis-server: install it (Debian/Ubuntu: apt-get install redis-server; macOS: brew install redis) or set REDIS_SERVER_BIN');
}

const allFiles = collectTestFiles(root);
const { selected, unmatched } = filterTestFiles(root, allFiles, filters);
if (unmatched.length > 0) fail(`no test file matches: ${unmatched.join(', ')}`);
if (selected.length === 0) fail('no test files found (expected test/**/*.test.ts)');

if (filters.length === 0) {
  await step('typecheck', ['run', 'typecheck']);
  await step('lint', ['run', 'lint']);
  if (existsSync(join(root, 'scripts', 'generate-openapi.ts'))) {
    await step('openapi drift check', ['run', 'openapi', '--', '--check']);
  } else {
    warn('scripts/generate-openapi.ts does not exist yet: skipping the OpenAPI drift check');
  }
} else {
  log('subset run: skipping typecheck, lint and the OpenAPI drift check');
}

const concurrency = Number(process.env.TEST_CONCURRENCY) || Math.max(2, availableParallelism());
log(`running ${selected.length} test file${selected.length === 1 ? '' : 's'} (concurrency ${concurrency})`);
const env = { ...process.env, REDIS_SERVER_BIN: redisServer };
if (process.stdout.isTTY && !env.NO_COLOR) env.FORCE_COLOR = '1';
const run = await runNodeTests({ cwd: root, files: selected, flags: runnerFlags, env, concurrency });

const verdict = judgeRun(run);
if (verdict.closing) console.log(verdict.closing);
if (verdict.problem) console.error(`[ghl-bridge] ${verdict.problem}`);
process.exit(verdict.exitCode);

async function step(name, npmArgs) {
  log(name);
  const status = await npm(npmArgs, { cwd: root });
  if (status !== 0) fail(`${name} failed (exit ${status})`, status);
}
