/**
 * One shutdown path: on SIGINT/SIGTERM (or an uncaught error) close everything in reverse order,
 * within a deadline, so in-flight jobs finish and nothing accepted is lost.
 */
import closeWithGrace from 'close-with-grace';
import type { Logger } from '../observability/logger.js';

export function installShutdown(logger: Logger, deadlineMs: number, close: () => Promise<void>): void {
  closeWithGrace({ delay: deadlineMs, logger: false }, async ({ signal, err }) => {
    if (err) logger.error({ err: { name: err.name, message: err.message, stack: err.stack } }, 'shutting down after an error');
    else logger.info({ signal, deadlineMs }, 'shutting down');
    await close();
    logger.info('shutdown complete');
  });
}
