/**
 * The environment, as one zod schema, loaded once at start-up (every variable is listed in `.env.example`,
 * which a test checks against this schema).
 * Nothing else in the project reads `process.env`.
 */
import { isIP } from 'node:net';
import { z } from 'zod';
import { GHL_ED25519_PUBLIC_KEY_PEM, GHL_RSA_PUBLIC_KEY_PEM } from './ghl-published-keys.js';
import { BridgeError } from '../observability/errors.js';

const DURATION_UNITS_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** `15m`, `6h`, `30s`, `250ms`, `2d` or a bare number of seconds; `0` means off. */
export function parseDuration(text: string): number | undefined {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(text);
  if (!match) return undefined;
  const unit = (match[2] ?? 's') as keyof typeof DURATION_UNITS_MS;
  return Math.round(Number(match[1]) * DURATION_UNITS_MS[unit]);
}

const duration = (example: string) =>
  z.string().transform((text, ctx) => {
    const ms = parseDuration(text);
    if (ms === undefined) {
      ctx.addIssue({ code: 'custom', message: `expected a duration such as ${example}` });
      return z.NEVER;
    }
    return ms;
  });

export interface RateLimit {
  max: number;
  windowMs: number;
}

const rateLimit = z.string().transform((text, ctx): RateLimit => {
  const match = /^\s*(\d+)\s*\/\s*(\d+(?:\.\d+)?)\s*$/.exec(text);
  const max = Number(match?.[1]);
  const seconds = Number(match?.[2]);
  if (!match || max < 1 || seconds <= 0) {
    ctx.addIssue({ code: 'custom', message: 'expected N/seconds, for example 100/10' });
    return z.NEVER;
  }
  return { max, windowMs: Math.round(seconds * 1000) };
});

const booleanText = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((text) => text === 'true' || text === '1' || text === 'yes');

const optionalText = z
  .string()
  .optional()
  .transform((text) => (text === undefined || text.trim() === '' ? undefined : text.trim()));

/** A secret we check (a webhook token, an HMAC key, an admin token): guessable when short. */
const secretText = optionalText.pipe(z.string().min(16, 'must be at least 16 characters').optional());

const optionalUrl = optionalText.pipe(z.url({ protocol: /^https?$/ }).optional());

const commaList = z
  .string()
  .optional()
  .transform((text) => (text ?? '').split(',').map((part) => part.trim()).filter((part) => part.length > 0));

export interface RedisNode {
  host: string;
  port: number;
}

/** `host:port` seed nodes of a Redis Cluster; `[v6]:port` for IPv6 hosts. */
const redisNodeList = commaList.transform((parts, ctx): RedisNode[] | undefined => {
  if (parts.length === 0) return undefined;
  const nodes: RedisNode[] = [];
  for (const part of parts) {
    const match = /^(?:\[([0-9a-fA-F:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/.exec(part);
    const port = Number(match?.[3]);
    const host = match?.[1] ?? match?.[2];
    if (!host || !Number.isInteger(port) || port < 1 || port > 65_535) {
      ctx.addIssue({ code: 'custom', message: `expected comma-separated host:port seed nodes, got "${part}"` });
      return z.NEVER;
    }
    nodes.push({ host, port });
  }
  return nodes;
});

/** PEM text; env files often carry it on one line with literal `\n`. */
const pem = (fallback: string) =>
  z
    .string()
    .optional()
    .transform((text) => (text === undefined || text.trim() === '' ? fallback : text.replace(/\\n/g, '\n').trim() + '\n'))
    .refine((text) => /-----BEGIN PUBLIC KEY-----[\s\S]+-----END PUBLIC KEY-----/.test(text), 'expected a PEM public key');

const encryptionKeys = commaList.pipe(
  z.array(
    z
      .string()
      .refine((key) => Buffer.from(key, 'base64').length === 32, 'each key must be 32 bytes, base64-encoded')
      .transform((key) => Buffer.from(key, 'base64')),
  ),
);

/** `10.0.0.0/8`, `2001:db8::/32` or a bare address: checked exactly, since a typo in a trust list must stop the start. */
function isIpRange(text: string): boolean {
  const [address = '', prefix, ...rest] = text.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  return prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128));
}

const ipRangeList = commaList.pipe(
  z.array(z.string().refine(isIpRange, 'each entry must be an IP address or CIDR, e.g. 10.0.0.1 or 10.0.0.0/8 or 2001:db8::/32')),
);

/** A GHL location id: letters, digits, `_` and `-` (it ends up in URL paths and Redis keys). */
const LOCATION_ID = /^[A-Za-z0-9_-]{1,128}$/;

const locationList = commaList.pipe(z.array(z.string().regex(LOCATION_ID, 'each entry must be a GHL location id (letters, digits, _ and -)')));

/** `itemId=locationId,itemId=locationId`: a pair that is not one, or an item mapped twice, stops the start (one line). */
const itemLocations = commaList.transform((pairs, ctx): Record<string, string> => {
  const map: Record<string, string> = {};
  const bad: number[] = [];
  pairs.forEach((pair, index) => {
    const [itemId = '', locationId = '', ...rest] = pair.split('=').map((part) => part.trim());
    const valid = itemId !== '' && itemId.length <= 256 && LOCATION_ID.test(locationId) && rest.length === 0;
    if (!valid || (Object.hasOwn(map, itemId) && map[itemId] !== locationId)) bad.push(index + 1);
    else map[itemId] = locationId;
  });
  if (bad.length > 0) {
    ctx.addIssue({ code: 'custom', message: `pair ${bad.join(', ')} must be itemId=locationId, each item once (a GHL location id: letters, digits, _ and -)` });
  }
  return map;
});

export const EnvSchema = z
  .object({
    PORT: z.coerce.number().int().min(0).max(65535).default(3000).describe('HTTP listen port (default 3000).'),
    HOST: z.string().min(1).default('0.0.0.0').describe('HTTP listen address (default 0.0.0.0: all interfaces).'),
    REDIS_URL: optionalText.pipe(z.url({ protocol: /^rediss?$/ }).optional()).describe('Redis for queues, state and rate limits, redis:// or rediss:// (default: npm start finds or starts a local one).'),
    REDIS_PREFIX: z.string().regex(/^[A-Za-z0-9_.:-]+$/).default('ghl-bridge').describe('Prefix of every Redis key and queue, letters, digits and `_.:-` (default ghl-bridge).'),
    REDIS_CLUSTER_NODES: redisNodeList.describe('Comma-separated host:port seed nodes of a Redis Cluster; when set the bridge runs on the cluster and REDIS_URL is ignored (default: none, a single Redis).'),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info').describe('pino log level: fatal, error, warn, info, debug, trace or silent (default info).'),

    GHL_API_BASE_URL: z.url({ protocol: /^https?$/ }).default('https://services.leadconnectorhq.com').describe('GHL API base URL (default https://services.leadconnectorhq.com).'),
    GHL_API_VERSION: z.string().min(1).default('2021-07-28').describe('Value of the Version header sent to GHL (default 2021-07-28).'),
    GHL_PRIVATE_TOKEN: optionalText.describe('Single-location mode: private integration token of one location (default none; secret).'),
    GHL_LOCATION_ID: optionalText.describe('Single-location mode: the location the private token belongs to (required with GHL_PRIVATE_TOKEN).'),
    GHL_CLIENT_ID: optionalText.describe('Marketplace-app mode: OAuth client id (default none; needs GHL_CLIENT_SECRET and ENCRYPTION_KEY).'),
    GHL_CLIENT_SECRET: optionalText.describe('Marketplace-app mode: OAuth client secret (default none; secret).'),
    GHL_OAUTH_REDIRECT_URI: optionalUrl.describe('Marketplace-app mode: OAuth redirect URI, `https://<host>/oauth/callback` (default none).'),
    GHL_MARKETPLACE_URL: z.url({ protocol: /^https?$/ }).default('https://marketplace.gohighlevel.com').describe("Marketplace-app mode: where GHL's install page is; https://marketplace.leadconnectorhq.com for white-labeled installs (default https://marketplace.gohighlevel.com)."),
    GHL_APP_VERSION_ID: optionalText.describe("Marketplace-app mode: the app version's id, sent as `version_id` on the install redirect (GHL refuses installs without it; default none)."),
    GHL_ALLOWED_COMPANY_IDS: commaList.describe('Marketplace-app mode: GHL company (agency) ids allowed to install, comma-separated; an install from any other is refused and nothing is stored. Required for installs started from the GHL marketplace (default empty: any company, and only installs started at /oauth/install).'),
    GHL_APP_ID: optionalText.describe('Marketplace-app mode: this app\'s id; install, uninstall and any other GHL event naming another `appId` is answered `200 ignored` and changes nothing (default the part of GHL_CLIENT_ID before its first `-`).'),
    GHL_WEBHOOK_PUBLIC_KEY: pem(GHL_RSA_PUBLIC_KEY_PEM).describe('PEM public key verifying x-wh-signature (RSA-SHA256), one line with `\\n` allowed (default GHL\'s published key).'),
    GHL_WEBHOOK_ED25519_PUBLIC_KEY: pem(GHL_ED25519_PUBLIC_KEY_PEM).describe('PEM public key verifying x-ghl-signature (Ed25519), one line with `\\n` allowed (default GHL\'s published key).'),
    GHL_WEBHOOK_SECRET: secretText.describe('Shared secret of GHL workflow webhooks, header x-webhook-token or query token, at least 16 characters (default none; secret).'),

    TRUSTPILOT_API_BASE_URL: z.url({ protocol: /^https?$/ }).default('https://api.trustpilot.com').describe('Trustpilot API base URL (default https://api.trustpilot.com).'),
    TRUSTPILOT_API_KEY: optionalText.describe('Trustpilot app API key (default none; secret).'),
    TRUSTPILOT_API_SECRET: optionalText.describe('Trustpilot app API secret (default none; secret).'),
    TRUSTPILOT_USERNAME: optionalText.describe('Trustpilot business user for the OAuth token that reads private reviews (default none).'),
    TRUSTPILOT_PASSWORD: optionalText.describe('Password of that business user (default none; secret).'),
    TRUSTPILOT_BUSINESS_UNIT_ID: optionalText.describe('Our own Trustpilot business unit id: reviews of us (default none).'),
    TRUSTPILOT_LOCATIONS: locationList.describe('Locations our business unit\'s reviews are matched in, comma-separated; a location not served is never written to (default empty: every served location without a Trustpilot connection of its own).'),
    TRUSTPILOT_WEBHOOK_SECRET: secretText.describe('Secret on incoming Trustpilot notifications, header x-webhook-token or query token, at least 16 characters (default none; secret).'),
    TRUSTPILOT_RATE_LIMIT: rateLimit.default({ max: 833, windowMs: 300_000 }).describe('Trustpilot call budget, as N/seconds (default 833/300).'),
    TRUSTPILOT_CACHE_TTL: duration('6h').default(6 * 3_600_000).describe('How long a Trustpilot lookup is reused, e.g. 6h, 30m (default 6h).'),
    TRUSTPILOT_INDEX_REFRESH: duration('5m').default(5 * 60_000).describe('Turns on the shared listing of our business unit\'s reviews that answers contact lookups without a Trustpilot call per contact; it is refreshed (newest first, down to the last high-water mark, one refresh shared by all workers) whenever a contact\'s event is newer than the last listing, so a "no review" is never older than the event. Any duration turns it on; 0 turns it off: each contact is looked up on its own (default 5m).'),
    TRUSTPILOT_POLL_INTERVAL: duration('5m').default(5 * 60_000).describe('How often our business unit\'s reviews are polled and new or edited ones routed to their contacts, so reviews reach GHL without Trustpilot notifications (one listing call per poll, shared by all workers), e.g. 5m; 0 turns polling off (default 5m).'),
    TRUSTPILOT_INDEX_MAX_PAGES: z.coerce.number().int().min(1).max(1000).default(10).describe('Pages of 100 reviews one index refresh reads at most; a unit with more stays incomplete and unmatched contacts fall back to per-contact lookups, 1-1000 (default 10).'),

    OPINIONSTAGE_API_BASE_URL: z.url({ protocol: /^https?$/ }).default('https://api.opinionstage.com/api/v2').describe('Opinion Stage API base URL (default https://api.opinionstage.com/api/v2).'),
    OPINIONSTAGE_API_KEY: optionalText.describe('Opinion Stage API key, read-only use (default none; secret).'),
    OPINIONSTAGE_WEBHOOK_SECRET: secretText.describe('Secret on incoming Opinion Stage webhooks, header x-webhook-token or query token, at least 16 characters (default none; secret).'),
    OPINIONSTAGE_POLL_INTERVAL: optionalText.pipe(duration('15m').optional()).describe('How often Opinion Stage responses are polled, e.g. 15m; 0 turns polling off (default RECONCILE_INTERVAL).'),
    OPINIONSTAGE_ITEM_IDS: commaList.describe('Items whose responses are polled, comma-separated (default empty: every item of the account).'),
    OPINIONSTAGE_ITEM_LOCATIONS: itemLocations.describe('Where each item\'s responses go, comma-separated `itemId=locationId` pairs; with several served locations a response of an item not listed (and without a personal link or connection naming its location) is not imported (default none).'),
    OPINIONSTAGE_SURVEY_URL: optionalUrl.describe('Item link that personal survey links are built from (default none: no links).'),
    OPINIONSTAGE_PUSH_URL: optionalUrl.describe('Where contact, task and note changes are forwarded as signed JSON (default none: forwarding off).'),
    OPINIONSTAGE_PUSH_SECRET: secretText.describe('HMAC secret signing those forwarded changes, at least 16 characters (default none; secret).'),

    ALERT_WEBHOOK_URL: optionalUrl.describe('Failure alerts are POSTed here as JSON with a Slack-compatible text (default none: alerts only logged).'),
    ALERT_WEBHOOK_SECRET: secretText.describe('When set, alerts carry `x-bridge-signature: sha256=<hex HMAC of the body>`, at least 16 characters (default none; secret).'),
    ADMIN_TOKEN: secretText.describe('Bearer token of the admin API and dashboard actions, at least 16 characters (default none: admin API off; secret).'),
    VIEWER_TOKEN: secretText.describe('Bearer token that may only read the admin API and dashboard, at least 16 characters (default none; secret).'),
    ENCRYPTION_KEY: encryptionKeys.describe('32 random bytes, base64 (`openssl rand -base64 32`), encrypting stored OAuth tokens; comma-separated rotates keys (required in OAuth mode; secret).'),
    DRY_RUN: booleanText.default(false).describe('true: read everything, write nothing to GHL or Opinion Stage, record each planned write (default false).'),
    MAPPING_FILE: optionalText.describe('Field mapping and rules, a JSON file; its JSON Schema is generated into openapi/ (default built-in mapping).'),
    WEBHOOK_IP_ALLOWLIST: ipRangeList.describe('Comma-separated IPs or CIDRs allowed to call `/webhooks/*` (default empty: all).'),
    TRUSTED_PROXIES: ipRangeList.describe('Comma-separated IPs or CIDRs of reverse proxies whose X-Forwarded-For/-Proto are believed (default empty: none, the socket address is the client).'),
    WEBHOOK_AUTH_FAILURE_LIMIT: rateLimit.default({ max: 20, windowMs: 60_000 }).describe('Failed webhook authentications (401) per client IP, as N/seconds, per process: past it, that IP\'s webhook requests get 429 with Retry-After until the window ends; successful requests never count (default 20/60).'),
    PUBLIC_RATE_LIMIT: rateLimit.default({ max: 600, windowMs: 60_000 }).describe('Requests per client IP to the non-webhook routes (/health, /ready, /metrics, /docs, /admin), as N/seconds, per process (default 600/60).'),
    RECONCILE_INTERVAL: duration('15m').default(15 * 60_000).describe('How often each location is polled for changes webhooks missed, e.g. 15m; 0 turns it off (default 15m).'),
    GHL_RATE_LIMIT: rateLimit.default({ max: 100, windowMs: 10_000 }).describe('GHL requests per window per location, as N/seconds (default 100/10).'),
    GHL_DAILY_LIMIT: z.coerce.number().int().positive().default(200_000).describe('GHL requests per day per location (default 200000).'),
    COALESCE_WINDOW_MS: z.coerce.number().int().min(0).default(2000).describe('Events for one contact within this many milliseconds run once (default 2000).'),

    WEB_PROCESSES: z.coerce
      .number()
      .int()
      .min(1)
      .max(64)
      .default(1)
      .describe(
        'HTTP processes `web` and `all` run on one port with node:cluster, 1-64 (default 1). Signature checks are CPU-bound, so set it to the number of cores a web host has for webhooks; with `all` the first process also runs the workers. Ignored in sandbox mode. /metrics answers for the whole host, whichever process takes the scrape (counters and histograms summed over the processes).',
      ),
    WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(500).default(10).describe('Workers per queue in this process, 1-500 (default 10).'),
    WORKER_LOCK_DURATION: duration('30s').pipe(z.number().min(1_000, 'must be at least 1s')).default(30_000).describe('How long a worker holds a job\'s lock before another worker may take the job over, at least 1s (default 30s).'),
    SHUTDOWN_TIMEOUT: duration('30s').default(30_000).describe('How long a graceful shutdown may take before the process is stopped, e.g. 30s (default 30s).'),
    RETRY_HORIZON: duration('24h').pipe(z.number().min(60_000, 'must be at least 1m')).default(86_400_000).describe('How long retryable failures (network errors, 5xx, timeouts) keep retrying, with exponential backoff and full jitter, before the dead-letter queue (default 24h).'),
    UPSTREAM_TIMEOUT: duration('10s').default(10_000).describe('Timeout of one call to GHL, Trustpilot or Opinion Stage, e.g. 10s (default 10s).'),
    SANDBOX: z.enum(['auto', 'true', 'false']).default('auto').describe('auto: simulators when no GHL credentials are set; true or false forces it (default auto).'),
  })
  .superRefine((env, ctx) => {
    if (env.GHL_PRIVATE_TOKEN && !env.GHL_LOCATION_ID) {
      ctx.addIssue({ code: 'custom', path: ['GHL_LOCATION_ID'], message: 'is required when GHL_PRIVATE_TOKEN is set' });
    }
    if (env.GHL_CLIENT_ID && !env.GHL_CLIENT_SECRET) {
      ctx.addIssue({ code: 'custom', path: ['GHL_CLIENT_SECRET'], message: 'is required when GHL_CLIENT_ID is set' });
    }
    if (env.GHL_CLIENT_ID && env.ENCRYPTION_KEY.length === 0) {
      ctx.addIssue({ code: 'custom', path: ['ENCRYPTION_KEY'], message: 'is required in OAuth mode (GHL_CLIENT_ID set)' });
    }
  });

export type Env = z.infer<typeof EnvSchema>;

export interface Config extends Env {
  /** No GHL credentials: run against the built-in simulators. */
  sandbox: boolean;
  /** Opinion Stage poll interval, falling back to RECONCILE_INTERVAL. */
  opinionStagePollMs: number;
}

export class ConfigError extends BridgeError<'CONFIG_INVALID'> {
  constructor(readonly problems: string[]) {
    super('CONFIG_INVALID', problems.join('\n'));
  }
}

/** Parses the environment; throws ConfigError with one line per bad variable and never the value. */
export function loadConfig(source: NodeJS.ProcessEnv = process.env): Config {
  const relevant: Record<string, string | undefined> = {};
  for (const key of Object.keys(EnvSchema.shape)) {
    // `VAR=` (as compose's `${VAR}` produces) means "not set": the default applies.
    const value = source[key];
    relevant[key] = value === undefined || value.trim() === '' ? undefined : value;
  }
  const parsed = EnvSchema.safeParse(relevant);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const name = String(issue.path[0] ?? 'environment');
      return `${name}: ${describeIssue(issue)}`;
    });
    throw new ConfigError([...new Set(problems)]);
  }
  const env = parsed.data;
  const hasCredentials = Boolean(env.GHL_PRIVATE_TOKEN || env.GHL_CLIENT_ID);
  const sandbox = env.SANDBOX === 'true' || (env.SANDBOX === 'auto' && !hasCredentials);
  return { ...env, sandbox, opinionStagePollMs: env.OPINIONSTAGE_POLL_INTERVAL ?? env.RECONCILE_INTERVAL };
}

function describeIssue(issue: z.core.$ZodIssue): string {
  // zod's own messages for enums and numbers name the expectation, never the received value.
  if (issue.code === 'invalid_value') return `must be one of ${issue.values.map(String).join(', ')}`;
  if (issue.code === 'invalid_type' && issue.expected === 'number') return 'must be a number';
  if (issue.code === 'invalid_format' && issue.format === 'url') return 'must be a valid URL';
  return issue.message;
}

/** GHL_APP_ID, else the app id GHL_CLIENT_ID starts with (GHL client ids read `<appId>-<suffix>`); undefined without either. */
export function ghlAppId(config: Pick<Env, 'GHL_APP_ID' | 'GHL_CLIENT_ID'>): string | undefined {
  if (config.GHL_APP_ID !== undefined) return config.GHL_APP_ID;
  const prefix = config.GHL_CLIENT_ID?.split('-')[0];
  return prefix === undefined || prefix === '' ? undefined : prefix;
}

/** Every configured secret value, so tests and the logger can prove none leaks. */
export function secretValues(config: Config): string[] {
  const values = [
    config.GHL_PRIVATE_TOKEN,
    config.GHL_CLIENT_SECRET,
    config.GHL_WEBHOOK_SECRET,
    config.TRUSTPILOT_API_KEY,
    config.TRUSTPILOT_API_SECRET,
    config.TRUSTPILOT_PASSWORD,
    config.TRUSTPILOT_WEBHOOK_SECRET,
    config.OPINIONSTAGE_API_KEY,
    config.OPINIONSTAGE_WEBHOOK_SECRET,
    config.OPINIONSTAGE_PUSH_SECRET,
    config.ALERT_WEBHOOK_SECRET,
    config.ADMIN_TOKEN,
    config.VIEWER_TOKEN,
    ...config.ENCRYPTION_KEY.map((key) => key.toString('base64')),
  ];
  return values.filter((value): value is string => typeof value === 'string' && value.length >= 6);
}
