/**
 * One shutdown path: on SIGINT/SIGTERM (or an uncaught error) close everything in reverse order,
 * within a deadline, so in-flight jobs finish and nothing accepted is lost.
 */
import closeWithGrace from 'close-with-grace';
import type { Logger } from '../observability/logger.js';

/**
 * `ignoreSigint`: for processes forked by the web cluster primary, which forwards SIGINT as one
 * SIGTERM; a terminal's Ctrl-C also reaches them directly and would count as a second signal.
 */
export function installShutdown(logger: Logger, deadlineMs: number, close: () => Promise<void>, options: { ignoreSigint?: boolean } = {}): void {
  if (options.ignoreSigint) process.on('SIGINT', () => logger.debug('SIGINT left to the cluster primary'));
  closeWithGrace({ delay: deadlineMs, logger: false, ...(options.ignoreSigint ? { skip: ['SIGINT'] } : {}) }, async ({ signal, err }) => {
    if (err) logger.error({ err: { name: err.name, message: err.message, stack: err.stack } }, 'shutting down after an error');
    else logger.info({ signal, deadlineMs }, 'shutting down');
    await close();
    logger.info('shutdown complete');
  });
}
