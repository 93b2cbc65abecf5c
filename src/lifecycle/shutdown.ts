/**
 * One shutdown path: on SIGINT/SIGTERM (or an uncaught error) close everything in reverse order,
 * within a deadline, so in-flight jobs finish and nothing accepted is lost.
 */
import closeWithGrace from 'close-with-grace';
import type { Logger } from '../observability/logger.js';

/**
 * `close` is given the deadline less a margin, so a shutdown that keeps to it ends on its own
 * (exit code 0) before close-with-grace's timer stops the process with exit code 1.
 *
 * `ignoreSigint`: for processes forked by the web cluster primary, which forwards SIGINT as one
 * SIGTERM; a terminal's Ctrl-C also reaches them directly and would count as a second signal.
 */
export function installShutdown(logger: Logger, deadlineMs: number, close: (budgetMs: number) => Promise<void>, options: { ignoreSigint?: boolean } = {}): void {
  if (options.ignoreSigint) process.on('SIGINT', () => logger.debug('SIGINT left to the cluster primary'));
  closeWithGrace({ delay: deadlineMs, logger: false, ...(options.ignoreSigint ? { skip: ['SIGINT'] } : {}) }, async ({ signal, err }) => {
    if (err) logger.error({ err: { name: err.name, message: err.message, stack: err.stack } }, 'shutting down after an error');
    else logger.info({ signal, deadlineMs }, 'shutting down');
    await close(closeBudget(deadlineMs));
    logger.info('shutdown complete');
  });
}

/** The deadline less a margin of a tenth, at most 1 s. */
export function closeBudget(deadlineMs: number): number {
  return deadlineMs - Math.min(1_000, deadlineMs / 10);
}
