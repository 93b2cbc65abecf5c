/**
 * WEB_PROCESSES > 1: the primary forks that many bridge processes sharing one listening port
 * (node:cluster hands connections out round-robin) and does nothing else, so signature checks and
 * request handling use every core. In `web` mode every process serves HTTP; in `all` mode the first
 * also runs the workers and the others serve HTTP only. SIGTERM/SIGINT reach every process; the
 * primary exits once they have all exited (0 when each exited cleanly).
 */
import cluster, { type Worker as ClusterWorker } from 'node:cluster';
import { serveHostMetrics } from '../observability/host-metrics.js';
import type { Logger } from '../observability/logger.js';
import type { ProcessMode } from './container.js';

/** A process that dies this soon after it started is failing at start-up: stop, do not respawn. */
const MIN_UPTIME_MS = 10_000;
/** Beyond the processes' own shutdown deadline, before the primary kills what is left. */
const KILL_GRACE_MS = 5_000;

export interface WebClusterOptions {
  mode: Extract<ProcessMode, 'web' | 'all'>;
  processes: number;
  /** The processes' own SHUTDOWN_TIMEOUT. */
  shutdownTimeoutMs: number;
  logger: Logger;
}

/** Whether this process is one forked by the cluster primary (it then runs as a plain `web` or `all`). */
export function isClusterProcess(): boolean {
  return cluster.isWorker;
}

/** Runs the primary until every process has exited; resolves with the exit code for the primary. */
export function runWebCluster(options: WebClusterOptions): Promise<number> {
  const { logger } = options;
  const roles = new Map<ClusterWorker, ProcessMode>();
  const startedAt = new Map<ClusterWorker, number>();
  let stopping = false;
  /** A process failed at start-up, or did not exit cleanly when asked to stop. */
  let failed = false;
  let killTimer: NodeJS.Timeout | undefined;

  const fork = (role: ProcessMode): void => {
    // The forked process reads its mode from argv like any other start.
    cluster.setupPrimary({ args: [role] });
    const worker = cluster.fork();
    roles.set(worker, role);
    startedAt.set(worker, Date.now());
  };

  serveHostMetrics();
  return new Promise<number>((resolve) => {
    const stopAll = (signal: NodeJS.Signals | 'start-up failure'): void => {
      if (stopping) return;
      stopping = true;
      logger.info({ reason: signal, processes: roles.size }, 'stopping web processes');
      // Forwarded as SIGTERM: the processes leave SIGINT to the primary (see installShutdown).
      for (const worker of roles.keys()) worker.process.kill('SIGTERM');
      killTimer = setTimeout(() => {
        for (const worker of roles.keys()) worker.process.kill('SIGKILL');
      }, options.shutdownTimeoutMs + KILL_GRACE_MS);
    };
    const onSignal = (signal: NodeJS.Signals) => stopAll(signal);
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);

    cluster.on('exit', (worker, code, signal) => {
      const role = roles.get(worker) ?? 'web';
      const uptime = Date.now() - (startedAt.get(worker) ?? 0);
      roles.delete(worker);
      startedAt.delete(worker);
      if (stopping) {
        if (code !== 0) failed = true;
      } else {
        logger.error({ pid: worker.process.pid, role, code, signal, uptimeMs: uptime }, 'web process exited');
        if (uptime < MIN_UPTIME_MS) {
          // Failing at start-up (bad config, Redis refused): respawning would only loop.
          failed = true;
          stopAll('start-up failure');
        } else {
          fork(role);
        }
      }
      if (roles.size === 0) {
        clearTimeout(killTimer);
        process.off('SIGTERM', onSignal);
        process.off('SIGINT', onSignal);
        logger.info({ failed }, 'all web processes exited');
        resolve(failed ? 1 : 0);
      }
    });

    for (let index = 0; index < options.processes; index++) fork(options.mode === 'all' && index === 0 ? 'all' : 'web');
    logger.info({ mode: options.mode, processes: options.processes }, 'web processes started');
  });
}
