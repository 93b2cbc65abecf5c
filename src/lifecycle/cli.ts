/**
 * The command line: `ghl-bridge <web|worker|all|sandbox|doctor|replay|backfill|setup-fields|rotate-keys>`.
 * Loads and checks the configuration once, then runs the service or the one-shot command.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig, type Config } from '../config/env.js';
import { loadMapping, MappingError } from '../config/mapping.js';
import { serve } from '../http/server.js';
import { createSignInCode } from '../http/plugins/dashboard-session.js';
import { createLogger, type Logger } from '../observability/logger.js';
import { runBackfill } from './commands/backfill.js';
import { runConnect } from './commands/connect.js';
import { runDoctor } from './commands/doctor.js';
import { runReplay } from './commands/replay.js';
import { runRotateKeys } from './commands/rotate-keys.js';
import { runSetupFields } from './commands/setup-fields.js';
import { connectSandbox, demoInstructions, startSandbox, startSimulators, type Sandbox } from './sandbox.js';
import { installShutdown } from './shutdown.js';
import { isClusterProcess, runWebCluster } from './web-cluster.js';
import { createContainer, type ProcessMode } from './wiring/compose.js';

const USAGE = `usage: ghl-bridge <command>

commands:
  web            HTTP only: receive webhooks, serve health, metrics and docs
  worker         workers only: process queued jobs
  all            web and workers in one process (sandbox mode when no GHL credentials are set)
  sandbox        the built-in GHL simulator only
  doctor         check configuration, credentials, scopes, custom fields and connectivity, one line each
  replay         re-run dead-lettered jobs: --all | --id ID [--id ...] | --queue NAME
  backfill       queue a sync of every contact of a location: --location ID [--restart]
  setup-fields   create the mapped custom fields that are missing: --location ID
  rotate-keys    re-encrypt stored OAuth tokens, location connections and Trustpilot tokens with the first ENCRYPTION_KEY
  connect        connect a location to its own Trustpilot or Opinion Stage: trustpilot|opinionstage --location ID … (without arguments: its usage)`;

/** One-shot commands: they run, print, close what they opened and return an exit code. */
const TASK_COMMANDS = new Set(['replay', 'setup-fields', 'doctor', 'backfill', 'rotate-keys', 'connect']);

function packageVersion(): string {
  try {
    const text = readFileSync(new URL('../../package.json', import.meta.url), 'utf8');
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === 'object' && parsed !== null && 'version' in parsed && typeof parsed.version === 'string' ? parsed.version : '0.0.0';
  } catch {
    return '0.0.0';
  }
}

/** Runs one command; returns the exit code, or -1 for a long-running service (it ends through the shutdown handler). */
export async function runCli(argv: string[]): Promise<number> {
  const { positionals } = parseArgs({ args: argv, allowPositionals: true, strict: false });
  const command = positionals[0] ?? 'all';
  if (command === 'help' || command === '--help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (!['web', 'worker', 'all', 'sandbox', ...TASK_COMMANDS].includes(command)) {
    process.stderr.write(`ghl-bridge: unknown command "${command}"\n\n${USAGE}\n`);
    return 2;
  }

  let config: Config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`ghl-bridge: invalid configuration\n${error.problems.map((line) => `  ${line}`).join('\n')}\n`);
    return 1;
  }
  try {
    loadMapping(config.MAPPING_FILE);
  } catch (error) {
    if (!(error instanceof MappingError)) throw error;
    process.stderr.write(`ghl-bridge: invalid mapping file\n${error.problems.map((line) => `  ${line}`).join('\n')}\n`);
    return 1;
  }
  if (TASK_COMMANDS.has(command)) return runTask(command, argv.slice(argv.indexOf(command) + 1), config);
  const logger = createLogger({ level: config.LOG_LEVEL });

  if (command === 'sandbox') return runSimulatorsOnly(config, logger);
  return runService(command as ProcessMode, config, logger);
}

async function runTask(command: string, args: string[], config: Config): Promise<number> {
  // stdout carries the command's result lines; log lines go to stderr.
  const logger = createLogger({ level: config.LOG_LEVEL, destination: process.stderr });
  const io = { out: (line: string) => process.stdout.write(`${line}\n`), err: (line: string) => process.stderr.write(`${line}\n`) };
  const tty = process.stdout.isTTY === true;
  switch (command) {
    case 'replay':
      return runReplay(args, config, logger, io);
    case 'rotate-keys':
      return runRotateKeys(config, logger, io);
    case 'doctor':
      return runDoctor(args, config, logger, { ...io, tty });
    case 'connect':
      return runConnect(args, config, logger, { ...io, readStdin });
    case 'backfill':
      return runBackfill(args, config, logger, { ...io, tty, write: (text: string) => process.stdout.write(text) });
    default:
      return runSetupFields(args, config, io);
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  return Buffer.concat(chunks).toString('utf8');
}

async function runService(mode: ProcessMode, initial: Config, logger: Logger): Promise<number> {
  let sandbox: Sandbox | undefined;
  let config = initial;
  if (config.sandbox) {
    if (mode !== 'all') {
      process.stderr.write(`ghl-bridge ${mode}: no GHL credentials configured (GHL_PRIVATE_TOKEN + GHL_LOCATION_ID, or GHL_CLIENT_ID + GHL_CLIENT_SECRET); sandbox mode runs only with "all"\n`);
      return 1;
    }
    sandbox = await startSandbox(config, loadMapping(config.MAPPING_FILE), logger);
    config = sandbox.config;
  } else if (config.WEB_PROCESSES > 1 && mode !== 'worker' && !isClusterProcess()) {
    return runWebCluster({ mode, processes: config.WEB_PROCESSES, shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT, logger });
  }
  const container = await createContainer({ mode, config, logger, version: packageVersion(), clusterProcess: isClusterProcess() });
  const activeSandbox = sandbox;
  installShutdown(
    logger,
    config.SHUTDOWN_TIMEOUT,
    async (budgetMs) => {
      await container.close(budgetMs);
      await activeSandbox?.close();
    },
    { ignoreSigint: isClusterProcess() },
  );
  if (container.app) {
    // A single-use link, so the admin token itself is never printed in a URL.
    const signInCode = activeSandbox ? await createSignInCode({ adminToken: config.ADMIN_TOKEN, viewerToken: config.VIEWER_TOKEN, sessions: container.dashboardSessions }, 'admin') : '';
    await serve(container.app, {
      host: config.HOST,
      port: config.PORT,
      logger,
      mode,
      ...(activeSandbox
        ? {
            onListening: (url: string) => {
              connectSandbox(activeSandbox, url);
              return demoInstructions(activeSandbox, url, signInCode);
            },
          }
        : {}),
    });
  }
  logger.info({ mode, workers: container.workers.map((worker) => worker.name), dryRun: config.DRY_RUN }, 'ghl-bridge started');
  return -1;
}

async function runSimulatorsOnly(config: Config, logger: Logger): Promise<number> {
  const simulators = await startSimulators(config.HOST, config.PORT);
  installShutdown(logger, config.SHUTDOWN_TIMEOUT, () => simulators.close());
  process.stdout.write(
    [
      `GHL simulator:           ${simulators.ghl.url}`,
      `Trustpilot simulator:    ${simulators.trustpilot.url}`,
      `Opinion Stage simulator: ${simulators.opinionStage.apiBaseUrl}`,
      'GHL webhook keys (Ed25519, then RSA):',
      simulators.ghl.publicKeys.ed25519.trim(),
      simulators.ghl.publicKeys.rsa.trim(),
      '',
    ].join('\n'),
  );
  return -1;
}
