/**
 * Lua scripts sent inside a MULTI (BullMQ's add script, in the ingest transaction).
 *
 * ioredis sends a defined script as EVAL the first time it writes it on a connection and as EVALSHA
 * after that; it forgets that a server lacks the script only when a NOSCRIPT error reaches the command
 * itself, which an error inside EXEC's replies does not. So when a transaction that carried the first
 * EVAL was aborted before it ran (e.g. CLUSTERDOWN while a master restarted; ioredis then resends the
 * commands, now as EVALSHA), every later transaction on that connection fails with NOSCRIPT, forever.
 * Loading the scripts onto the servers again (SCRIPT LOAD) heals it: those EVALSHAs then succeed.
 */
import type { RedisClient as QueueClient } from 'bullmq';
import { Cluster, Redis } from 'ioredis';

/** True for the error a server answers when it does not have the script an EVALSHA names. */
export function isMissingScript(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('NOSCRIPT');
}

/** Loads every script defined on `client` onto its server (every master of a cluster). */
export async function reloadScripts(client: QueueClient): Promise<void> {
  // The queues' clients are always ioredis connections (src/queue/connections.ts).
  if (!(client instanceof Redis || client instanceof Cluster)) return;
  // ioredis keeps each defined script, with its source, in `scriptsSet` (not in its typings).
  const scripts = Object.values((client as unknown as { scriptsSet?: Record<string, { lua: string }> }).scriptsSet ?? {});
  const servers = client instanceof Cluster ? client.nodes('master') : [client];
  await Promise.all(servers.flatMap((server) => scripts.map((script) => server.script('LOAD', script.lua))));
}
