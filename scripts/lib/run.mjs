import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { delimiter, join } from 'node:path';
import process from 'node:process';

/** Runs a command with the terminal attached; resolves with its exit code (signals map to 128 + n). */
export function run(command, args, options = {}) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: 'inherit', ...options });
    child.once('error', (error) => {
      console.error(`[ghl-bridge] could not run ${command}: ${error.message}`);
      resolve(127);
    });
    child.once('exit', (code, signal) => resolve(exitCodeOf(code, signal)));
  });
}

export function exitCodeOf(code, signal) {
  if (typeof code === 'number') return code;
  const number = signal ? osConstants.signals[signal] ?? 0 : 0;
  return 128 + number;
}

/** Runs a command and resolves `{ code, stderr }`; stdout still goes to the terminal. */
export function runCapturingStderr(command, args, options = {}) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ['ignore', 'inherit', 'pipe'], ...options });
    let stderr = '';
    child.stderr.on('data', (chunk) => {
      stderr += chunk.toString('utf8');
    });
    child.once('error', (error) => resolve({ code: 127, stderr: error.message }));
    child.once('close', (code, signal) => resolve({ code: exitCodeOf(code, signal), stderr }));
  });
}

/** The absolute path of an executable on PATH, or undefined. */
export function which(command) {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, command);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

/** npm as started by the current npm, when there is one, so `npm test` and `npm start` use the same npm. */
export function npm(args, options = {}, runner = run) {
  const npmCli = process.env.npm_execpath;
  if (npmCli && /npm-cli\.js$/.test(npmCli)) return runner(process.execPath, [npmCli, ...args], options);
  return runner(process.platform === 'win32' ? 'npm.cmd' : 'npm', args, { shell: process.platform === 'win32', ...options });
}
