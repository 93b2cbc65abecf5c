/**
 * A request logger made only when the request logs something. Fastify gives every request a child
 * logger bound to its request id; webhook routes log only their rare outcomes (ignored, refused, not
 * queued), so making one per request would be most of what logging costs at webhook rates. Lines are
 * the same as from the usual child, `reqId` included.
 * A class rather than closures: one small object per request, its methods shared on the prototype.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { Bindings, ChildLoggerOptions, LevelWithSilentOrString } from 'pino';

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
type Level = (typeof LEVELS)[number];

/** The level methods (`info(...)` and the rest) are added to its prototype below, one per level. */
class LazyRequestLogger {
  private made: FastifyBaseLogger | undefined;

  constructor(
    private readonly parent: FastifyBaseLogger,
    private readonly bindings: Bindings,
    private readonly options: ChildLoggerOptions,
  ) {}

  get level(): LevelWithSilentOrString {
    return this.made?.level ?? this.options.level ?? this.parent.level;
  }

  set level(level: LevelWithSilentOrString) {
    this.logger().level = level;
  }

  child(bindings: Bindings, options?: ChildLoggerOptions): FastifyBaseLogger {
    return this.logger().child(bindings, options);
  }

  logger(): FastifyBaseLogger {
    return (this.made ??= this.parent.child(this.bindings, this.options));
  }
}

const levelMethods = LazyRequestLogger.prototype as LazyRequestLogger & Record<Level, (...args: unknown[]) => void>;
for (const level of LEVELS) {
  levelMethods[level] = function (this: LazyRequestLogger, ...args: unknown[]): void {
    const logger = this.logger();
    // Below the level nothing is written: the child is made but no line is formatted.
    Reflect.apply(logger[level], logger, args);
  };
}

export function lazyRequestLogger(parent: FastifyBaseLogger, bindings: Bindings, options: ChildLoggerOptions): FastifyBaseLogger {
  return new LazyRequestLogger(parent, bindings, options) as unknown as FastifyBaseLogger;
}

/**
 * The app's `childLoggerFactory`: every request's logger is a lazy child of `root`, whatever logger
 * Fastify itself holds. src/http/app.ts gives Fastify none, and so spares each request the listeners
 * Fastify adds only to time its "request completed" line.
 */
export function lazyChildrenOf(root: FastifyBaseLogger): (fastifyLogger: FastifyBaseLogger, bindings: Bindings, options: ChildLoggerOptions) => FastifyBaseLogger {
  return (_fastifyLogger, bindings, options) => lazyRequestLogger(root, bindings, options);
}
