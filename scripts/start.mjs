/**
 * `npm start` (CONTRACT.md "Commands"): dependencies, build, Redis, then `node dist/main.js all`.
 * Signals go to the service once; when it has exited, the Redis we started is shut down (AOF
 * flushed) and we exit with the service's code.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import process from 'node:process';
import { ensureBuild } from './lib/ensure-build.mjs';
import { ensureDeps } from './lib/ensure-deps.mjs';
import { ensureRedis } from './lib/ensure-redis.mjs';
import { log } from './lib/log.mjs';
import { projectRoot } from './lib/paths.mjs';
import { exitCodeOf } from './lib/run.mjs';
import { serviceNodeFlags } from './lib/service-flags.mjs';

const root = projectRoot;
// npm and the terminal may both deliver one Ctrl-C; the service treats a second signal as "exit now".
const DUPLICATE_SIGNAL_MS = 1000;

// Until the service runs, a signal just ends us; exiting (not dying) lets a started Redis be stopped.
const exitEarly = (signal) => process.exit(signal === 'SIGINT' ? 130 : 143);
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, exitEarly);

await ensureDeps(root);
await ensureBuild(root);
const redis = await ensureRedis(root);

const nodeFlags = serviceNodeFlags();
log(`starting the service: node ${[...nodeFlags, 'dist/main.js', 'all'].join(' ')}`);
// Own process group, so a terminal Ctrl-C reaches the service once, through us.
const child = spawn(process.execPath, [...nodeFlags, join(root, 'dist', 'main.js'), 'all'], {
  cwd: root,
  // No url: REDIS_CLUSTER_NODES is set and the service runs on that cluster.
  env: { ...process.env, ...(redis.url ? { REDIS_URL: redis.url } : {}) },
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
