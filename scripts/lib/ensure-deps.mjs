import { existsSync } from 'node:fs';
import { join } from 'node:path';
import process from 'node:process';
import { fail, log, warn } from './log.mjs';
import { mtimeOf } from './paths.mjs';
import { npm, runCapturingStderr } from './run.mjs';

const QUIET = ['--no-audit', '--no-fund'];

/**
 * Installs dependencies when node_modules is missing or older than package.json / package-lock.json.
 * npm writes node_modules/.package-lock.json at the end of every install, so its time is "installed at".
 */
export async function ensureDeps(root) {
  // Set by tests that run these scripts, so a test never reinstalls the project it runs in.
  if (process.env.GHL_BRIDGE_SKIP_INSTALL === '1') return;
  const lockfile = join(root, 'package-lock.json');
  const installedAt = mtimeOf(join(root, 'node_modules', '.package-lock.json')) ?? mtimeOf(join(root, 'node_modules'));
  const changedAt = Math.max(mtimeOf(join(root, 'package.json')) ?? 0, mtimeOf(lockfile) ?? 0);
  if (installedAt !== undefined && installedAt >= changedAt) return;

  log(installedAt === undefined ? 'installing dependencies' : 'package.json or package-lock.json changed: reinstalling dependencies');
  if (existsSync(lockfile)) {
    log('npm ci');
    const ci = await npm(['ci', ...QUIET], { cwd: root }, runCapturingStderr);
    if (ci.code === 0) {
      process.stderr.write(ci.stderr);
      return;
    }
    // npm ci refuses a lockfile that lacks optional platform packages the registry in use does not
    // serve (seen with msgpackr-extract's darwin/win32 builds); npm install resolves the same tree.
    const reasons = ci.stderr.split('\n').filter((line) => /npm error (code|Missing|Invalid|`npm ci`)/.test(line));
    for (const line of reasons.slice(0, 8)) console.error(line);
    warn(`npm ci failed (exit ${ci.code}); falling back to npm install (it may update package-lock.json)`);
  }
  log('npm install');
  const code = await npm(['install', ...QUIET], { cwd: root });
  if (code !== 0) fail(`npm install failed (exit ${code})`, code);
}
