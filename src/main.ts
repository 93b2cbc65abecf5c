#!/usr/bin/env node
/**
 * CLI entry: `ghl-bridge <command>`; see src/lifecycle/cli.ts for the commands.
 */
import { runCli } from './lifecycle/cli.js';

runCli(process.argv.slice(2)).then(
  (code) => {
    // -1: a long-running service; it ends through the shutdown handler.
    if (code >= 0) process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`ghl-bridge: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
