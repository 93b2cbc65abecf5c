/**
 * `ghl-bridge backfill --location ID [--restart]`: queues a contact sync (reason `backfill`) for every
 * contact of a served location. Contacts are read page by page (GET /contacts/, oldest first, 100 a
 * page) through a GHL client that takes from the location's shared call budget, so the listing
 * stays within GHL_RATE_LIMIT together with the running workers; a spent budget or a 429 is waited
 * out, never a failure. Syncs go through scheduleContactSync, so coalescing and deduplication apply.
 *
 * The cursor is saved in Redis after each page: a second run resumes where the last one stopped
 * (after a finished run, it queues only contacts added since); `--restart` starts over.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { Queue } from 'bullmq';
import type { RedisClient } from '../../state/keys.js';
import { z } from 'zod';
import { createGhlBudget } from '../../clients/ghl/ghl-budget.js';
import { GhlClientError } from '../../clients/ghl/ghl-client-error.js';
import { createGhlClient, type ContactListCursor, type ContactPage, type GhlClient } from '../../clients/ghl/ghl-client.js';
import { createStaticTokenProvider } from '../../clients/ghl/token-provider.js';
import { UpstreamError } from '../../clients/http/upstream-error.js';
import type { Config } from '../../config/env.js';
import type { Logger } from '../../observability/logger.js';
import { QUEUE_NAMES } from '../../queue/catalog.js';
import { createRedisConnection, queuePrefix } from '../../queue/connections.js';
import { stateKey } from '../../state/keys.js';
import { createRateBudget } from '../../state/rate-budget.js';
import { RateBudgetExceededError } from '../../clients/http/rate-budget-types.js';
import { scheduleContactSync } from '../container.js';
import { safeRedisUrl, type CommandIo } from './replay.js';
import { redisReadyWithin } from '../redis-policy.js';

export const BACKFILL_USAGE = 'usage: ghl-bridge backfill --location LOCATION_ID [--restart]';
/** GET /contacts/ allows at most 100 a page. */
export const BACKFILL_PAGE_LIMIT = 100;
const REDIS_READY_TIMEOUT_MS = 5_000;
/** Network errors, timeouts and 5xx on one page are retried this often before the run stops. */
const MAX_TRANSIENT_RETRIES = 5;
/** Waits shorter than this are not announced on a non-TTY: a tight budget would print one per page. */
const ANNOUNCE_WAIT_MS = 2_000;
const BAR_WIDTH = 30;

export interface BackfillIo extends CommandIo {
  /** stdout is a terminal: one updating bar instead of a line per page. */
  tty: boolean;
  /** Writes without a newline (the bar redraws itself with `\r`). */
  write(text: string): void;
}

/** Saved after every page; `queued` counts the contacts queued since this backfill started (all runs). */
export const BackfillCursorSchema = z.object({
  startAfterId: z.string().min(1),
  startAfter: z.number().int().nonnegative().optional(),
  queued: z.number().int().nonnegative(),
});
export type BackfillCursor = z.infer<typeof BackfillCursorSchema>;

export function backfillCursorKey(prefix: string, locationId: string): string {
  return stateKey(prefix, 'backfill', locationId, 'cursor');
}

/** Returns the process exit code: 0 done, 1 not served / Redis unreachable / GHL refused, 2 bad usage. */
export async function runBackfill(args: string[], config: Config, logger: Logger, io: BackfillIo): Promise<number> {
  let options: { locationId: string; restart: boolean };
  try {
    options = parseBackfillArgs(args);
  } catch (error) {
    io.err(`ghl-bridge backfill: ${error instanceof Error ? error.message : String(error)}`);
    io.err(BACKFILL_USAGE);
    return 2;
  }
  const { locationId } = options;
  // Private-token mode is the one way a location is served without the OAuth token store.
  if (!config.GHL_PRIVATE_TOKEN || !config.GHL_LOCATION_ID) {
    io.err('ghl-bridge backfill: no GHL credentials configured: set GHL_PRIVATE_TOKEN and GHL_LOCATION_ID');
    return 1;
  }
  if (locationId !== config.GHL_LOCATION_ID) {
    io.err(`ghl-bridge backfill: location ${locationId} is not served by this bridge (GHL_LOCATION_ID is ${config.GHL_LOCATION_ID})`);
    return 1;
  }

  const redisUrl = config.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const redis = createRedisConnection(config, 'producer', logger);
  let queue: Queue | undefined;
  let ghl: GhlClient | undefined;
  try {
    if (!(await redisReadyWithin(redis, REDIS_READY_TIMEOUT_MS))) {
      io.err(`ghl-bridge backfill: cannot reach Redis at ${safeRedisUrl(redisUrl)} within ${REDIS_READY_TIMEOUT_MS / 1000} s`);
      return 1;
    }
    const prefix = config.REDIS_PREFIX;
    queue = new Queue(QUEUE_NAMES.contactSync, { connection: redis, prefix: queuePrefix(prefix, QUEUE_NAMES.contactSync, redis) });
    queue.on('error', (error) => logger.warn({ queue: QUEUE_NAMES.contactSync, err: { message: error.message } }, 'queue error'));
    const syncQueue = queue;
    ghl = createGhlClient({
      baseUrl: config.GHL_API_BASE_URL,
      version: config.GHL_API_VERSION,
      timeoutMs: config.UPSTREAM_TIMEOUT,
      tokens: createStaticTokenProvider(config.GHL_LOCATION_ID, config.GHL_PRIVATE_TOKEN),
      // The workers' budget: listing calls and sync calls share the location's limit.
      budget: createGhlBudget({ budget: createRateBudget(redis, prefix), limit: { ...config.GHL_RATE_LIMIT, daily: config.GHL_DAILY_LIMIT } }),
    });

    const key = backfillCursorKey(prefix, locationId);
    if (options.restart) await redis.del(key);
    const saved = await readCursor(redis, key);
    if (saved === 'corrupt') io.err(`ghl-bridge backfill: the saved cursor of ${locationId} is unreadable; starting over`);
    let cursor = saved === 'corrupt' ? undefined : saved;
    const resumedAfter = cursor?.queued;
    const progress = createProgress(io, locationId);
    let queuedNow = 0;
    let total: number | undefined;

    for (;;) {
      let page: ContactPage;
      try {
        page = await listPage(ghl, locationId, cursor, (ms, why) => progress.waiting(ms, why));
      } catch (error) {
        progress.end();
        io.err(`ghl-bridge backfill: ${describeFailure(error)}; ${queuedNow} contacts queued in this run, run again to resume`);
        if (error instanceof UpstreamError || error instanceof GhlClientError) return 1;
        throw error;
      }
      total = page.total ?? total;
      const triggeredAt = Date.now();
      await Promise.all(
        page.items.map((contact) =>
          scheduleContactSync(syncQueue, { locationId, contactId: contact.id, reason: 'backfill', triggeredAt }, config.COALESCE_WINDOW_MS, config.RETRY_HORIZON),
        ),
      );
      queuedNow += page.items.length;
      const next = resumeAfter(page);
      if (next !== undefined) {
        cursor = { ...next, queued: (cursor?.queued ?? 0) + page.items.length };
        await redis.set(key, JSON.stringify(cursor));
      }
      progress.page(cursor?.queued ?? 0, total);
      if (page.nextCursor === undefined) break;
    }
    progress.end();

    const resumed = resumedAfter === undefined ? '' : ` (resumed after ${resumedAfter} queued before; --restart queues every contact again)`;
    io.out(`backfill ${locationId}: done: ${queuedNow} contact${queuedNow === 1 ? '' : 's'} queued${resumed}`);
    return 0;
  } finally {
    await ghl?.close().catch(() => undefined);
    await queue?.close().catch(() => undefined);
    await redis.quit().catch(() => redis.disconnect());
  }
}

export function parseBackfillArgs(args: string[]): { locationId: string; restart: boolean } {
  const { values, positionals } = parseArgs({
    args,
    options: { location: { type: 'string' }, restart: { type: 'boolean' } },
    allowPositionals: true,
    strict: true,
  });
  if (positionals.length > 0) throw new Error(`unexpected argument "${positionals[0]}"`);
  if (!values.location) throw new Error('--location is required');
  return { locationId: values.location, restart: values.restart === true };
}

/**
 * The one place contacts are listed: GET /contacts/ oldest first, by (dateAdded, id) cursor. The
 * budget and GHL's 429 are waited out; network errors, timeouts and 5xx are retried a few times with
 * backoff; any other refusal ends the run (the saved cursor keeps what was done).
 */
async function listPage(ghl: GhlClient, locationId: string, cursor: ContactListCursor | undefined, onWait: (ms: number, why: string) => void): Promise<ContactPage> {
  const query = {
    limit: BACKFILL_PAGE_LIMIT,
    ...(cursor === undefined ? {} : { startAfterId: cursor.startAfterId, ...(cursor.startAfter === undefined ? {} : { startAfter: cursor.startAfter }) }),
  };
  let transient = 0;
  for (;;) {
    try {
      return await ghl.listContacts(locationId, query);
    } catch (error) {
      let waitMs: number;
      let why: string;
      if (error instanceof RateBudgetExceededError) {
        waitMs = error.retryAfterMs;
        why = `the GHL rate budget (${error.scope})`;
      } else if (error instanceof UpstreamError && error.status === 429) {
        waitMs = error.retryAfterMs ?? 10_000;
        why = 'GHL (429)';
      } else if (error instanceof UpstreamError && (error.status === undefined || error.status >= 500) && error.code !== 'UPSTREAM_BAD_RESPONSE' && transient < MAX_TRANSIENT_RETRIES) {
        transient += 1;
        waitMs = Math.round(1_000 * 2 ** (transient - 1) * (0.5 + Math.random() / 2));
        why = `a retry after ${error.status === undefined ? error.code : `status ${error.status}`}`;
      } else {
        throw error;
      }
      onWait(waitMs, why);
      await sleep(Math.max(1, waitMs));
    }
  }
}

/** Where the next run continues: GHL's own cursor on a full page, else after the page's last contact; an empty page moves nothing. */
function resumeAfter(page: ContactPage): ContactListCursor | undefined {
  if (page.nextCursor !== undefined) return page.nextCursor;
  const last = page.items.at(-1);
  if (last === undefined) return undefined;
  const added = typeof last.dateAdded === 'string' ? Date.parse(last.dateAdded) : Number.NaN;
  return Number.isNaN(added) ? { startAfterId: last.id } : { startAfterId: last.id, startAfter: added };
}

async function readCursor(redis: RedisClient, key: string): Promise<BackfillCursor | undefined | 'corrupt'> {
  const text = await redis.get(key);
  if (text === null) return undefined;
  try {
    const parsed = BackfillCursorSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : 'corrupt';
  } catch {
    return 'corrupt';
  }
}

interface Progress {
  page(queued: number, total: number | undefined): void;
  waiting(ms: number, why: string): void;
  end(): void;
}

function createProgress(io: BackfillIo, locationId: string): Progress {
  const count = (queued: number, total: number | undefined) => (total === undefined ? `${queued}` : `${queued}/${total}`);
  if (!io.tty) {
    return {
      page: (queued, total) => io.out(`backfill ${locationId}: ${count(queued, total)} contacts queued`),
      waiting: (ms, why) => {
        if (ms >= ANNOUNCE_WAIT_MS) io.out(`backfill ${locationId}: waiting ${formatWait(ms)} for ${why}`);
      },
      end: () => undefined,
    };
  }
  let drawn = false;
  let last = { queued: 0, total: undefined as number | undefined };
  const draw = (suffix: string) => {
    const share = last.total === undefined || last.total === 0 ? 0 : Math.min(1, last.queued / last.total);
    const filled = Math.round(share * BAR_WIDTH);
    // \r returns to the line start, ESC[K clears what a longer previous line left behind.
    io.write(`\rbackfill ${locationId} [${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}] ${count(last.queued, last.total)} contacts queued${suffix}\u001b[K`);
    drawn = true;
  };
  return {
    page: (queued, total) => {
      last = { queued, total };
      draw('');
    },
    waiting: (ms, why) => draw(` (waiting ${formatWait(ms)} for ${why})`),
    end: () => {
      if (drawn) io.write('\n');
      drawn = false;
    },
  };
}

function formatWait(ms: number): string {
  if (ms < 60_000) return `${Math.max(1, Math.ceil(ms / 1000))} s`;
  if (ms < 3_600_000) return `${Math.ceil(ms / 60_000)} min`;
  return `${Math.floor(ms / 3_600_000)} h ${Math.ceil((ms % 3_600_000) / 60_000)} min`;
}

function describeFailure(error: unknown): string {
  if (error instanceof UpstreamError) {
    const why = error.status === undefined ? error.code : `status ${error.status}`;
    const trace = error.requestId ? ` (request id ${error.requestId})` : '';
    return `GHL refused ${error.method} ${error.path}: ${why}${trace}`;
  }
  return error instanceof Error ? error.message : String(error);
}

