import { spawn } from 'node:child_process';
import process from 'node:process';
import { exitCodeOf } from './run.mjs';
import { closingLine, parseSummary } from './test-summary.mjs';

const KEEP_OUTPUT_CHARS = 256 * 1024;

/**
 * Runs node's test runner (through tsx) on `files`, echoing its output live (unless `echo` is false)
 * and keeping the tail for the summary. Resolves `{ code, output }`.
 * The timeout (per file, since each file runs in its own process) only catches a hang: the command
 * tests start the CLI once per case and take about 40 s on two quiet cores, three times that on busy ones.
 */
export function runNodeTests({ cwd, files, flags = [], env = process.env, concurrency = 2, timeoutMs = 300_000, echo = true }) {
  const args = [
    '--import', 'tsx',
    '--test',
    '--test-reporter=spec',
    `--test-concurrency=${concurrency}`,
    `--test-timeout=${timeoutMs}`,
    ...flags,
    ...files,
  ];
  const childEnv = { ...env };
  // Set by an enclosing node:test run; inherited, it would make this runner speak the child protocol.
  delete childEnv.NODE_TEST_CONTEXT;
  return new Promise((resolveRun) => {
    const child = spawn(process.execPath, args, { cwd, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk) => {
      if (echo) process.stdout.write(chunk);
      // The summary is at the end; a bounded tail keeps a huge run from exhausting memory.
      output = (output + chunk.toString('utf8')).slice(-KEEP_OUTPUT_CHARS);
    });
    child.stderr.on('data', (chunk) => {
      if (echo) process.stderr.write(chunk);
    });
    const forward = (signal) => child.kill(signal);
    process.on('SIGINT', forward);
    process.on('SIGTERM', forward);
    const settle = (code) => {
      process.removeListener('SIGINT', forward);
      process.removeListener('SIGTERM', forward);
      resolveRun({ code, output });
    };
    child.once('error', (error) => {
      console.error(`[ghl-bridge] could not start the test runner: ${error.message}`);
      settle(1);
    });
    child.once('close', (status, signal) => settle(exitCodeOf(status, signal)));
  });
}

/**
 * The verdict on a run: `{ exitCode, closing, problem }`. A run passes only when the runner exited 0,
 * printed a summary, nothing failed and at least one test really ran (skipped ones do not count).
 */
export function judgeRun({ code, output }) {
  const summary = parseSummary(output);
  if (!summary) return { exitCode: code === 0 ? 1 : code, closing: undefined, problem: `the test runner printed no summary (exit ${code})` };
  const closing = closingLine(summary);
  if (code !== 0) return { exitCode: code, closing, problem: undefined };
  if (summary.failed > 0) return { exitCode: 1, closing, problem: undefined };
  if (summary.passed + summary.failed === 0) return { exitCode: 1, closing, problem: 'no test ran (the runner summary counts 0 tests run)' };
  return { exitCode: 0, closing, problem: undefined };
}
