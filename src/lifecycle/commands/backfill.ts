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
import type { Queue } from 'bullmq';
import { GhlClientError } from '../../clients/ghl/ghl-client-error.js';
import type { ContactListCursor, ContactPage, GhlClient } from '../../clients/ghl/ghl-client.js';
import { RateBudgetExceededError } from '../../clients/http/rate-budget-types.js';
import { UpstreamError } from '../../clients/http/upstream-error.js';
import type { Config } from '../../config/env.js';
import type { Logger } from '../../observability/logger.js';
import { createAlerts } from '../../queue/alerts.js';
import { QUEUE_NAMES } from '../../queue/catalog.js';
import { createBackfillProgress, type BackfillCursor, type BackfillProgress } from '../../state/backfill-progress.js';
import { CircuitOpenError } from '../../state/circuit-breaker.js';
import { commandRedis, withResources, type CommandIo } from '../wiring/commands.js';
import { createGhlAccess } from '../wiring/ghl.js';
import { createBreaker, createGhlGuard } from '../wiring/guards.js';
import { openQueue, scheduleContactSync } from '../wiring/queues.js';
import type { Resources } from '../wiring/resources.js';
import { createStores } from '../wiring/state.js';

export { backfillCursorKey, BackfillCursorSchema, type BackfillCursor } from '../../state/backfill-progress.js';

export const BACKFILL_USAGE = 'usage: ghl-bridge backfill --location LOCATION_ID [--restart]';
/** GET /contacts/ allows at most 100 a page. */
export const BACKFILL_PAGE_LIMIT = 100;
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
  if (!(config.GHL_PRIVATE_TOKEN && config.GHL_LOCATION_ID) && !(config.GHL_CLIENT_ID && config.GHL_CLIENT_SECRET)) {
    io.err('ghl-bridge backfill: no GHL credentials configured: set GHL_PRIVATE_TOKEN and GHL_LOCATION_ID, or GHL_CLIENT_ID and GHL_CLIENT_SECRET');
    return 1;
  }
  return withResources(config, logger, async (resources) => {
    const wired = await wireBackfill(resources, config, logger, io);
    if (!wired) return 1;
    if (!(await wired.served()).includes(locationId)) {
      const privateOne = config.GHL_LOCATION_ID ? ` (GHL_LOCATION_ID is ${config.GHL_LOCATION_ID})` : '';
      io.err(`ghl-bridge backfill: location ${locationId} is not served by this bridge${privateOne}: no private token for it and no app install`);
      return 1;
    }
    const progress = createBackfillProgress(wired.redis, config.REDIS_PREFIX, locationId);
    if (options.restart) await progress.clear();
    return queueEveryContact({ ...wired, config, io, locationId, progress });
  });
}

/**
 * The workers' way to GHL: the location's shared call budget (listing calls and sync calls share its
 * limit) behind the shared circuit, and the private token or the location's OAuth install.
 */
async function wireBackfill(resources: Resources, config: Config, logger: Logger, io: CommandIo) {
  const redis = await commandRedis(resources, config, 'backfill', io);
  if (!redis) return undefined;
  const stores = createStores(redis, config);
  const alerts = createAlerts({ queue: openQueue(resources, QUEUE_NAMES.alerts, redis, stores.prefix, logger), redis, prefix: stores.prefix, logger });
  const breaker = createBreaker(stores, config, logger, alerts, resources);
  const guard = createGhlGuard(stores, config, breaker, alerts);
  const access = createGhlAccess({ config, logger, stores, guard, alerts, observe: (info) => breaker.recordExchange(info.system, info.status), resources });
  return { redis, ghl: access.ghl, served: access.served.list, syncQueue: openQueue(resources, QUEUE_NAMES.contactSync, redis, stores.prefix, logger) };
}

interface BackfillRun {
  config: Config;
  io: BackfillIo;
  locationId: string;
  ghl: GhlClient;
  syncQueue: Queue;
  progress: BackfillProgress;
}

/** Lists the location's contacts page by page from the saved cursor, queueing a sync for each. */
async function queueEveryContact({ config, io, locationId, ghl, syncQueue, progress }: BackfillRun): Promise<number> {
  const saved = await progress.read();
  if (saved === 'corrupt') io.err(`ghl-bridge backfill: the saved cursor of ${locationId} is unreadable; starting over`);
  let cursor: BackfillCursor | undefined = saved === 'corrupt' ? undefined : saved;
  const resumedAfter = cursor?.queued;
  const bar = createProgress(io, locationId);
  let queuedNow = 0;
  let total: number | undefined;
  for (;;) {
    let page: ContactPage;
    try {
      page = await listPage(ghl, locationId, cursor, (ms, why) => bar.waiting(ms, why));
    } catch (error) {
      bar.end();
      io.err(`ghl-bridge backfill: ${describeFailure(error)}; ${queuedNow} contacts queued in this run, run again to resume`);
      if (error instanceof UpstreamError || error instanceof GhlClientError) return 1;
      throw error;
    }
    total = page.total ?? total;
    const triggeredAt = Date.now();
    await Promise.all(
      page.items.map((contact) => scheduleContactSync(syncQueue, { locationId, contactId: contact.id, reason: 'backfill', triggeredAt }, config.COALESCE_WINDOW_MS, config.RETRY_HORIZON)),
    );
    queuedNow += page.items.length;
    const next = resumeAfter(page);
    if (next !== undefined) {
      cursor = { ...next, queued: (cursor?.queued ?? 0) + page.items.length };
      await progress.save(cursor);
    }
    bar.page(cursor?.queued ?? 0, total);
    if (page.nextCursor === undefined) break;
  }
  bar.end();
  const resumed = resumedAfter === undefined ? '' : ` (resumed after ${resumedAfter} queued before; --restart queues every contact again)`;
  io.out(`backfill ${locationId}: done: ${queuedNow} contact${queuedNow === 1 ? '' : 's'} queued${resumed}`);
  return 0;
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
      } else if (error instanceof CircuitOpenError) {
        waitMs = error.retryAfterMs;
        why = 'the GHL circuit (open after repeated failures)';
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

