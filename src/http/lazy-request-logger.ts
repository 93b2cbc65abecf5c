/**
 * A request logger made only when the request logs something. Fastify gives every request a child
 * logger bound to its request id; on webhook routes, which log only their rare outcomes (ignored,
 * refused, not queued), making one per request is most of what logging costs at webhook rates.
 * Set as a route's `childLoggerFactory`: lines are the same as from the usual child, `reqId` included.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { Bindings, ChildLoggerOptions, LevelWithSilentOrString } from 'pino';

type LogMethod = (...args: unknown[]) => void;

export function lazyRequestLogger(parent: FastifyBaseLogger, bindings: Bindings, options: ChildLoggerOptions): FastifyBaseLogger {
  let made: FastifyBaseLogger | undefined;
  const child = (): FastifyBaseLogger => (made ??= parent.child(bindings, options));
  const forward =
    (level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent'): LogMethod =>
    (...args) => {
      const logger = child();
      // Below the level nothing is written: the child is made but no line is formatted.
      Reflect.apply(logger[level], logger, args);
    };
  return {
    get level(): LevelWithSilentOrString {
      return made?.level ?? options.level ?? parent.level;
    },
    set level(level: LevelWithSilentOrString) {
      child().level = level;
    },
    fatal: forward('fatal'),
    error: forward('error'),
    warn: forward('warn'),
    info: forward('info'),
    debug: forward('debug'),
    trace: forward('trace'),
    silent: forward('silent'),
    child: (childBindings, childOptions) => child().child(childBindings, childOptions),
  };
}
