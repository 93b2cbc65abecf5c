/**
 * The open-loop generator in a process of its own that holds only the bodies it sends. Latency is
 * counted from when a request was due, so a generator that pauses makes the server look slow: run
 * inside the benchmark's process, which holds every pre-signed body (~200 MB of heap), its garbage
 * collections paused it for up to 13–15 ms, against 4–8 ms on its own (bench/ANALYSIS.md, note 1f).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PROJECT_ROOT } from './bridge-process.js';
import type { OpenLoopOptions, OpenLoopResult } from './load.js';

const CHILD = fileURLToPath(new URL('./open-loop-child.ts', import.meta.url));
/** A larger young generation: fewer scavenges, so fewer pauses of the generator (about half its GC time). */
const GENERATOR_FLAGS = ['--max-semi-space-size=32'];

/** runOpenLoop in a child process, which gets only `options.requests`: pass just the bodies the run sends. */
export async function runOpenLoopInChild(options: OpenLoopOptions): Promise<OpenLoopResult> {
  const dir = mkdtempSync(join(tmpdir(), 'ghl-bridge-open-loop-'));
  try {
    const optionsPath = join(dir, 'options.json');
    const resultPath = join(dir, 'result.json');
    writeFileSync(optionsPath, JSON.stringify(options));
    await new Promise<void>((resolve, reject) => {
      const child = spawn(process.execPath, [...GENERATOR_FLAGS, '--import', 'tsx', CHILD, optionsPath, resultPath], { cwd: PROJECT_ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
      child.once('error', reject);
      child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`the open-loop generator exited with ${code}`))));
    });
    // Written by open-loop-child.ts from runOpenLoop's own result.
    return JSON.parse(readFileSync(resultPath, 'utf8')) as OpenLoopResult;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
