/**
 * Redis key names, in one place: `<prefix>:<purpose>:<locationId>:<id>`.
 *
 * On a Redis Cluster every key that one command, transaction or Lua script touches must live in one
 * hash slot. There the location part is a hash tag (`<prefix>:<purpose>:{<locationId>}:<id>`), so a
 * location's budget, ledger, fingerprints and snapshots share a slot while locations spread over the
 * masters. A single Redis keeps the untagged names, so its existing data needs no migration.
 */
import type { Cluster, Redis } from 'ioredis';

/** A connection to a single Redis or to a Redis Cluster; both speak the same commands. */
export type RedisClient = Redis | Cluster;

export function stateKey(prefix: string, purpose: string, locationId: string, id: string, cluster = false): string {
  return cluster ? `${prefix}:${purpose}:{${locationId}}:${id}` : `${prefix}:${purpose}:${locationId}:${id}`;
}

/** `stateKey` bound to a connection: tagged when it is a cluster client. */
export function stateKeys(redis: RedisClient, prefix: string): (purpose: string, locationId: string, id: string) => string {
  const cluster = redis.isCluster;
  return (purpose, locationId, id) => stateKey(prefix, purpose, locationId, id, cluster);
}
