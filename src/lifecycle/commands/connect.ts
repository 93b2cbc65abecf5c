/**
 * `ghl-bridge connect trustpilot|opinionstage --location ID …`: sets (or with `--remove`, deletes) a
 * location's own connection, exactly as the admin API's PUT and DELETE do, through the same store.
 * Secrets are read from standard input as `name=value` lines (`--stdin`), so they stay out of shell
 * history and the process list; they may also be given as flags, which is simpler and less private.
 */
import { parseArgs } from 'node:util';
import type { Config } from '../../config/env.js';
import type { Logger } from '../../observability/logger.js';
import {
  ConnectionLocationIdSchema,
  CONNECTION_KINDS,
  createLocationConnectionStore,
  maskOpinionStageConnection,
  maskTrustpilotConnection,
  OpinionStageConnectionSchema,
  TrustpilotConnectionSchema,
  type ConnectionKind,
} from '../../state/location-connections.js';
import { commandRedis, withResources, type CommandIo } from '../wiring/commands.js';

export const CONNECT_USAGE = `usage: ghl-bridge connect trustpilot --location ID --business-unit BU --username USER [--api-key K --api-secret S --password P --webhook-secret W] [--stdin]
       ghl-bridge connect opinionstage --location ID --items ITEM[,ITEM…] [--api-key K --webhook-secret W] [--stdin]
       ghl-bridge connect trustpilot|opinionstage --location ID --remove
  --stdin reads secrets as name=value lines from standard input (names: api-key, api-secret, password, webhook-secret)`;

export interface ConnectIo extends CommandIo {
  /** All of standard input, read once. */
  readStdin(): Promise<string>;
}

const OPTIONS = {
  location: { type: 'string' },
  'business-unit': { type: 'string' },
  username: { type: 'string' },
  'api-key': { type: 'string' },
  'api-secret': { type: 'string' },
  password: { type: 'string' },
  'webhook-secret': { type: 'string' },
  items: { type: 'string' },
  stdin: { type: 'boolean' },
  remove: { type: 'boolean' },
} as const;
const SECRET_NAMES = new Set(['api-key', 'api-secret', 'password', 'webhook-secret']);

type Values = Partial<Record<Exclude<keyof typeof OPTIONS, 'stdin' | 'remove'>, string>> & { stdin?: boolean; remove?: boolean };

/** Returns the process exit code: 0 done, 1 no ENCRYPTION_KEY / Redis unreachable / nothing to remove, 2 bad usage or invalid fields. */
export async function runConnect(args: string[], config: Config, logger: Logger, io: ConnectIo): Promise<number> {
  const fail = (message: string) => {
    io.err(`ghl-bridge connect: ${message}`);
    io.err(CONNECT_USAGE);
    return 2;
  };
  let kind: ConnectionKind;
  let values: Values;
  try {
    const parsed = parseArgs({ args, options: OPTIONS, allowPositionals: true, strict: true });
    const [first, ...rest] = parsed.positionals;
    if (!CONNECTION_KINDS.some((name) => name === first)) return fail('say which connection: trustpilot or opinionstage');
    if (rest.length > 0) return fail(`unexpected argument "${rest[0]}"`);
    kind = first === 'trustpilot' ? 'trustpilot' : 'opinionstage';
    values = parsed.values;
  } catch (error) {
    return fail(error instanceof Error ? error.message : String(error));
  }
  const location = ConnectionLocationIdSchema.safeParse(values.location);
  if (!location.success) return fail('--location must be a GHL location id');
  if (values.stdin === true) {
    const secrets = readSecretLines(await io.readStdin());
    if (typeof secrets === 'string') return fail(secrets);
    Object.assign(values, secrets);
  }
  if (config.ENCRYPTION_KEY.length === 0) {
    io.err('ghl-bridge connect: ENCRYPTION_KEY is not set: connections are stored encrypted');
    return 1;
  }
  const locationId = location.data;
  const candidate = values.remove === true ? undefined : connectionFrom(kind, values);
  if (candidate !== undefined && !candidate.success) {
    for (const issue of candidate.issues) io.err(`ghl-bridge connect: ${issue}`);
    return 2;
  }

  return withResources(config, logger, async (resources) => {
    const redis = await commandRedis(resources, config, 'connect', io);
    if (!redis) return 1;
    const store = createLocationConnectionStore(redis, config.REDIS_PREFIX, config.ENCRYPTION_KEY);
    if (candidate === undefined) {
      if (!(await store.delete(kind, locationId))) {
        io.err(`ghl-bridge connect: location ${locationId} has no ${kind} connection of its own`);
        return 1;
      }
      io.out(`removed the ${kind} connection of ${locationId}; it uses the environment's settings again`);
      return 0;
    }
    if (candidate.kind === 'trustpilot') await store.set('trustpilot', locationId, candidate.connection);
    else await store.set('opinionstage', locationId, candidate.connection);
    io.out(`connected ${locationId} to its own ${kind === 'trustpilot' ? 'Trustpilot business unit' : 'Opinion Stage account'} (every process sees it within a few seconds)`);
    const masked = candidate.kind === 'trustpilot' ? maskTrustpilotConnection(candidate.connection) : maskOpinionStageConnection(candidate.connection);
    for (const [name, value] of Object.entries(masked)) io.out(`  ${name}: ${Array.isArray(value) ? value.join(',') : String(value)}`);
    io.out(`  webhook URL: /webhooks/${kind}?location=${locationId}`);
    return 0;
  });
}

type Candidate =
  | { success: true; kind: 'trustpilot'; connection: ReturnType<typeof TrustpilotConnectionSchema.parse> }
  | { success: true; kind: 'opinionstage'; connection: ReturnType<typeof OpinionStageConnectionSchema.parse> }
  | { success: false; issues: string[] };

/** The connection the flags describe, validated by the same schema as the admin API's body. */
function connectionFrom(kind: ConnectionKind, values: Values): Candidate {
  const optional = (name: string, value: string | undefined) => (value === undefined ? {} : { [name]: value });
  if (kind === 'trustpilot') {
    const parsed = TrustpilotConnectionSchema.safeParse({
      businessUnitId: values['business-unit'],
      apiKey: values['api-key'],
      apiSecret: values['api-secret'],
      username: values.username,
      password: values.password,
      ...optional('webhookSecret', values['webhook-secret']),
    });
    return parsed.success ? { success: true, kind, connection: parsed.data } : { success: false, issues: issuesOf(parsed.error.issues, TRUSTPILOT_FLAGS) };
  }
  const parsed = OpinionStageConnectionSchema.safeParse({
    apiKey: values['api-key'],
    itemIds: values.items?.split(',').map((item) => item.trim()).filter((item) => item !== ''),
    webhookSecret: values['webhook-secret'],
  });
  return parsed.success ? { success: true, kind, connection: parsed.data } : { success: false, issues: issuesOf(parsed.error.issues, OPINIONSTAGE_FLAGS) };
}

const TRUSTPILOT_FLAGS: Record<string, string> = { businessUnitId: '--business-unit', apiKey: 'api-key', apiSecret: 'api-secret', username: '--username', password: 'password', webhookSecret: 'webhook-secret' };
const OPINIONSTAGE_FLAGS: Record<string, string> = { apiKey: 'api-key', itemIds: '--items', webhookSecret: 'webhook-secret' };

/** One line per field, named as the user gives it; never the value. */
function issuesOf(issues: readonly { path: readonly PropertyKey[]; message: string }[], names: Record<string, string>): string[] {
  return issues.map((issue) => {
    const field = String(issue.path[0] ?? '');
    return `${names[field] ?? field}: ${issue.message}`;
  });
}

/** `name=value` lines (blank lines and `#` comments skipped); an error line for anything else. */
export function readSecretLines(text: string): Partial<Record<'api-key' | 'api-secret' | 'password' | 'webhook-secret', string>> | string {
  const secrets: Record<string, string> = {};
  for (const [index, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const at = line.indexOf('=');
    const name = at > 0 ? line.slice(0, at).trim() : '';
    if (!SECRET_NAMES.has(name)) return `standard input line ${index + 1}: expected name=value with name one of ${[...SECRET_NAMES].join(', ')}`;
    secrets[name] = line.slice(at + 1).trim();
  }
  return secrets;
}
