/**
 * Per-location connections: a location's own Trustpilot business unit and credentials, or its own
 * Opinion Stage account. Each is one Redis key holding the whole connection as JSON, sealed with
 * AES-256-GCM under ENCRYPTION_KEY (aes-gcm.ts; the key name is the authenticated data), plus one set
 * per kind listing the locations that have one, so reading every connection never SCANs. Secrets
 * leave this module only to the clients and the webhook check; every view for people is masked.
 */
import { z } from 'zod';
import { createSealer } from './aes-gcm.js';
import { stateKey, type RedisClient } from './keys.js';

export const CONNECTION_KINDS = ['trustpilot', 'opinionstage'] as const;
export type ConnectionKind = (typeof CONNECTION_KINDS)[number];

/** Webhook secrets arrive in URLs and headers: short ones can be guessed. */
export const MIN_WEBHOOK_SECRET_LENGTH = 16;

export const ConnectionLocationIdSchema = z.string().regex(/^[A-Za-z0-9_-]{1,128}$/, 'expected a GHL location id');

const Text = (max: number) => z.string().trim().min(1).max(max);

export const TrustpilotConnectionSchema = z
  .object({
    businessUnitId: Text(128).describe('The Trustpilot business unit of this location'),
    apiKey: Text(256),
    apiSecret: Text(256),
    username: Text(256).describe('The Trustpilot business user (for private reviews)'),
    password: Text(256),
    webhookSecret: z
      .string()
      .min(MIN_WEBHOOK_SECRET_LENGTH)
      .max(256)
      .optional()
      .describe('Authenticates `POST /webhooks/trustpilot?location=<id>`; without it the connection\'s `apiSecret` does'),
  })
  .strict()
  .meta({ id: 'TrustpilotConnection' });
export type TrustpilotConnection = z.infer<typeof TrustpilotConnectionSchema>;

export const OpinionStageConnectionSchema = z
  .object({
    apiKey: Text(256),
    itemIds: z
      .array(Text(256))
      .min(1)
      .max(200)
      .refine((ids) => new Set(ids).size === ids.length, 'item ids must be unique')
      .describe('The Opinion Stage items (forms, surveys) whose responses belong to this location'),
    webhookSecret: z.string().min(MIN_WEBHOOK_SECRET_LENGTH).max(256).describe('Authenticates `POST /webhooks/opinionstage?location=<id>`'),
  })
  .strict()
  .meta({ id: 'OpinionStageConnection' });
export type OpinionStageConnection = z.infer<typeof OpinionStageConnectionSchema>;

export interface ConnectionOf {
  trustpilot: TrustpilotConnection;
  opinionstage: OpinionStageConnection;
}

const SCHEMAS: { [K in ConnectionKind]: z.ZodType<ConnectionOf[K]> } = { trustpilot: TrustpilotConnectionSchema, opinionstage: OpinionStageConnectionSchema };

/** Every connection, by location; what the read paths use. */
export interface ConnectionsSnapshot {
  trustpilot: ReadonlyMap<string, TrustpilotConnection>;
  opinionstage: ReadonlyMap<string, OpinionStageConnection>;
}

export interface LocationConnectionStore {
  set<K extends ConnectionKind>(kind: K, locationId: string, connection: ConnectionOf[K]): Promise<void>;
  /** True when there was one to delete. */
  delete(kind: ConnectionKind, locationId: string): Promise<boolean>;
  get<K extends ConnectionKind>(kind: K, locationId: string): Promise<ConnectionOf[K] | undefined>;
  /** Read from Redis every time; see `createCachedConnections` for the read paths. */
  readAll(): Promise<ConnectionsSnapshot>;
  /** Seals every connection again with the first key (`rotate-keys`); returns how many. */
  reencryptAll(): Promise<number>;
  /**
   * Connections stored but opened by no key (sealed under a key since dropped, or damaged). The read
   * paths skip them, so such a location uses the environment's settings until it is set again.
   */
  unreadable(): Promise<{ kind: ConnectionKind; locationId: string }[]>;
}

const PURPOSE = 'location-connection';

export function createLocationConnectionStore(redis: RedisClient, prefix: string, encryptionKeys: readonly Buffer[]): LocationConnectionStore {
  const sealer = createSealer(encryptionKeys);
  // A write touches a connection and its kind's index in one transaction: on a Redis Cluster every
  // connection key shares one hash tag so that transaction stays in one slot.
  const key = (locationId: string, kind: ConnectionKind) => (redis.isCluster ? `${prefix}:${PURPOSE}:{${PURPOSE}}:${locationId}:${kind}` : stateKey(prefix, PURPOSE, locationId, kind));
  const indexKey = (kind: ConnectionKind) => key('all', kind);
  const connectionKey = (kind: ConnectionKind, locationId: string) => key(locationId, kind);

  async function read<K extends ConnectionKind>(kind: K, locationId: string): Promise<ConnectionOf[K] | undefined> {
    const key = connectionKey(kind, locationId);
    const sealed = await redis.get(key);
    if (sealed === null) return undefined;
    const opened = sealer.open(sealed, key);
    if (opened === undefined) return undefined;
    const parsed = SCHEMAS[kind].safeParse(parseJson(opened.plain));
    return parsed.success ? parsed.data : undefined;
  }

  async function write<K extends ConnectionKind>(kind: K, locationId: string, connection: ConnectionOf[K]): Promise<void> {
    const valid = SCHEMAS[kind].parse(connection);
    const key = connectionKey(kind, ConnectionLocationIdSchema.parse(locationId));
    await redis.multi().set(key, sealer.seal(JSON.stringify(valid), key)).sadd(indexKey(kind), locationId).exec();
  }

  async function readKind<K extends ConnectionKind>(kind: K): Promise<Map<string, ConnectionOf[K]>> {
    const entries = new Map<string, ConnectionOf[K]>();
    for (const locationId of (await redis.smembers(indexKey(kind))).sort()) {
      const connection = await read(kind, locationId);
      if (connection !== undefined) entries.set(locationId, connection);
    }
    return entries;
  }

  return {
    set: write,
    async delete(kind, locationId) {
      const [deleted] = (await redis.multi().del(connectionKey(kind, locationId)).srem(indexKey(kind), locationId).exec()) ?? [];
      return deleted?.[1] === 1;
    },
    get: read,
    async readAll() {
      return { trustpilot: await readKind('trustpilot'), opinionstage: await readKind('opinionstage') };
    },
    async unreadable() {
      const found: { kind: ConnectionKind; locationId: string }[] = [];
      for (const kind of CONNECTION_KINDS) {
        for (const locationId of (await redis.smembers(indexKey(kind))).sort()) {
          if ((await redis.exists(connectionKey(kind, locationId))) === 1 && (await read(kind, locationId)) === undefined) found.push({ kind, locationId });
        }
      }
      return found;
    },
    async reencryptAll() {
      let count = 0;
      for (const kind of CONNECTION_KINDS) {
        for (const [locationId, connection] of await readKind(kind)) {
          await write(kind, locationId, connection);
          count += 1;
        }
      }
      return count;
    },
  };
}

/** How long the read paths reuse what they read; a change made elsewhere is seen within this. */
export const CONNECTIONS_CACHE_MS = 3_000;

export interface CachedConnections {
  snapshot(): Promise<ConnectionsSnapshot>;
  /** Drops the cached copy, so this process sees its own change at once. */
  forget(): void;
}

/** Every process reads all connections at most once per `ttlMs`; concurrent readers share one read. */
export function createCachedConnections(store: Pick<LocationConnectionStore, 'readAll'>, ttlMs = CONNECTIONS_CACHE_MS, now: () => number = Date.now): CachedConnections {
  let cached: { at: number; value: Promise<ConnectionsSnapshot> } | undefined;
  return {
    snapshot() {
      if (cached && now() - cached.at < ttlMs) return cached.value;
      const value = store.readAll();
      const entry = { at: now(), value };
      cached = entry;
      // A failed read is not kept: the next caller tries again.
      value.catch(() => {
        if (cached === entry) cached = undefined;
      });
      return value;
    },
    forget() {
      cached = undefined;
    },
  };
}

/** What a person may see of a secret: its last 4 characters when it is long enough to spare them. */
export function maskSecret(secret: string): string {
  return secret.length >= 12 ? `****${secret.slice(-4)}` : '****';
}

export interface MaskedTrustpilotConnection {
  businessUnitId: string;
  apiKey: string;
  apiSecret: string;
  username: string;
  password: string;
  webhookSecret: string | null;
}

export interface MaskedOpinionStageConnection {
  apiKey: string;
  itemIds: string[];
  webhookSecret: string;
}

export function maskTrustpilotConnection(connection: TrustpilotConnection): MaskedTrustpilotConnection {
  return {
    businessUnitId: connection.businessUnitId,
    apiKey: maskSecret(connection.apiKey),
    apiSecret: maskSecret(connection.apiSecret),
    username: connection.username,
    password: maskSecret(connection.password),
    webhookSecret: connection.webhookSecret === undefined ? null : maskSecret(connection.webhookSecret),
  };
}

export function maskOpinionStageConnection(connection: OpinionStageConnection): MaskedOpinionStageConnection {
  return { apiKey: maskSecret(connection.apiKey), itemIds: [...connection.itemIds], webhookSecret: maskSecret(connection.webhookSecret) };
}

/** The secret that authenticates a location's own webhook URL, if it has that connection. */
export function webhookSecretOf(snapshot: ConnectionsSnapshot, kind: ConnectionKind, locationId: string): string | undefined {
  if (kind === 'trustpilot') {
    const connection = snapshot.trustpilot.get(locationId);
    return connection === undefined ? undefined : (connection.webhookSecret ?? connection.apiSecret);
  }
  return snapshot.opinionstage.get(locationId)?.webhookSecret;
}

/** Each Opinion Stage item's location, from the per-location connections (an item listed twice maps to both). */
export function connectionItemLocations(snapshot: ConnectionsSnapshot): Map<string, string[]> {
  const items = new Map<string, string[]>();
  for (const [locationId, connection] of snapshot.opinionstage) {
    for (const itemId of connection.itemIds) items.set(itemId, [...(items.get(itemId) ?? []), locationId]);
  }
  return items;
}

/** Each Trustpilot business unit's locations, from the per-location connections. */
export function connectionBusinessUnitLocations(snapshot: ConnectionsSnapshot): Map<string, string[]> {
  const units = new Map<string, string[]>();
  for (const [locationId, connection] of snapshot.trustpilot) units.set(connection.businessUnitId, [...(units.get(connection.businessUnitId) ?? []), locationId]);
  return units;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
