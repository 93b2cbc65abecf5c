/**
 * `npm start` (CONTRACT.md "Commands"): dependencies, build, Redis, then `node dist/main.js all`.
 * Signals go to the service once; when it has exited, the Redis we started is shut down (AOF
 * flushed) and we exit with the service's code.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import process from 'node:process';
import { ensureDeps } from './lib/ensure-deps.mjs';
import { ensureRedis } from './lib/ensure-redis.mjs';
import { fail, log } from './lib/log.mjs';
import { listFiles, mtimeOf, projectRoot } from './lib/paths.mjs';
import { exitCodeOf, npm } from './lib/run.mjs';

const root = projectRoot;
// npm and the terminal may both deliver one Ctrl-C; the service treats a second signal as "exit now".
const DUPLICATE_SIGNAL_MS = 1000;

// Until the service runs, a signal just ends us; exiting (not dying) lets a started Redis be stopped.
const exitEarly = (signal) => process.exit(signal === 'SIGINT' ? 130 : 143);
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, exitEarly);

await ensureDeps(root);
await ensureBuild();
const redis = await ensureRedis(root);

log('starting the service: node dist/main.js all');
// Own process group, so a terminal Ctrl-C reaches the service once, through us.
const child = spawn(process.execPath, [join(root, 'dist', 'main.js'), 'all'], {
  cwd: root,
  env: { ...process.env, REDIS_URL: redis.url },
  stdio: ['ignore', 'inherit', 'inherit'],
  detached: true,
});

let lastForwardedAt = 0;
function forward(signal) {
  const now = Date.now();
  if (now - lastForwardedAt < DUPLICATE_SIGNAL_MS) return;
  lastForwardedAt = now;
  if (child.exitCode === null && child.signalCode === null) child.kill(signal === 'SIGHUP' ? 'SIGTERM' : signal);
}
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.removeListener(signal, exitEarly);
  process.on(signal, forward);
}

const code = await new Promise((resolveExit) => {
  child.once('error', (error) => {
    console.error(`[ghl-bridge] could not start the service: ${error.message}`);
    resolveExit(1);
  });
  child.once('exit', (status, signal) => resolveExit(exitCodeOf(status, signal)));
});

if (redis.started) {
  log('stopping redis-server');
  await redis.stop();
}
process.exit(code);

/** Builds when dist/main.js is missing or older than any file in src/ or a tsconfig. */
async function ensureBuild() {
  const builtAt = mtimeOf(join(root, 'dist', 'main.js'));
  const inputs = [...listFiles(join(root, 'src')), join(root, 'tsconfig.json'), join(root, 'tsconfig.build.json')];
  const newestInput = Math.max(0, ...inputs.map((file) => mtimeOf(file) ?? 0));
  if (builtAt !== undefined && builtAt >= newestInput) return;
  log(builtAt === undefined ? 'building (npm run build)' : 'sources changed: rebuilding (npm run build)');
  const status = await npm(['run', 'build'], { cwd: root });
  if (status !== 0) fail(`build failed (exit ${status})`, status);
}
