/**
 * Each contact's own sync timeline (the last 50 runs, kept 30 days after the last one) and a small
 * directory of the contacts the bridge has synced (name, email, phone; the 10,000 most recent), so an
 * operator can find "jane@acme.com" without a GHL call.
 */
import { z } from 'zod';
import { stateKey, type RedisClient } from './keys.js';

const SYNCS_KEPT = 50;
const HISTORY_TTL_SECONDS = 30 * 86_400;
const DIRECTORY_MAX = 10_000;

export const ContactIdentitySchema = z.object({
  name: z.string().optional(),
  email: z.string().optional(),
  phone: z.string().optional(),
});
export type ContactIdentity = z.infer<typeof ContactIdentitySchema>;

export const SyncEntrySchema = z.object({
  locationId: z.string(),
  contactId: z.string(),
  at: z.number(),
  durationMs: z.number(),
  outcome: z.enum(['synced', 'skipped', 'failed']),
  reason: z.string().optional(),
  trigger: z.string().optional(),
  upstreamCalls: z.number(),
  writes: z.number().optional(),
  read: z.array(z.string()).optional(),
  wrote: z.array(z.string()).optional(),
  /** What the run could not do and went on without (a mapped custom field missing in GHL). */
  warnings: z.array(z.string()).optional(),
  latencyMs: z.number().optional(),
  dryRun: z.boolean().optional(),
  contact: ContactIdentitySchema.optional(),
});
export type SyncEntry = z.infer<typeof SyncEntrySchema>;

const DirectoryEntrySchema = ContactIdentitySchema.extend({ locationId: z.string(), contactId: z.string(), lastSyncAt: z.number() });
export type DirectoryEntry = z.infer<typeof DirectoryEntrySchema>;

export interface ContactHistory {
  record(entry: SyncEntry): Promise<void>;
  /** The contact's runs, newest first. */
  syncs(locationId: string, contactId: string, limit?: number): Promise<SyncEntry[]>;
  /** Contacts whose id, email, phone or name contains `text` (case-insensitive), most recent first. */
  search(text: string, limit?: number): Promise<DirectoryEntry[]>;
  /** What the directory knows of one contact. */
  identity(locationId: string, contactId: string): Promise<DirectoryEntry | undefined>;
}

function parseJson<T>(schema: z.ZodType<T>, text: string | null | undefined): T | undefined {
  if (!text) return undefined;
  try {
    const parsed = schema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

const digits = (text: string) => text.replace(/\D/g, '');

/** True when the entry matches the search text (ids and emails by substring, phones by digits). */
export function matchesContact(entry: DirectoryEntry, text: string): boolean {
  const needle = text.trim().toLowerCase();
  if (needle.length === 0) return false;
  const haystack = [entry.contactId, entry.email, entry.name].filter((value): value is string => value !== undefined).map((value) => value.toLowerCase());
  if (haystack.some((value) => value.includes(needle))) return true;
  const phoneDigits = digits(needle);
  return phoneDigits.length >= 4 && entry.phone !== undefined && digits(entry.phone).includes(phoneDigits);
}

export function createContactHistory(redis: RedisClient, prefix: string): ContactHistory {
  const syncsKey = (locationId: string, contactId: string) => stateKey(prefix, 'contact-syncs', locationId, contactId);
  // The directory and its recency index change together: on a cluster they share a hash tag.
  const directoryKey = redis.isCluster ? `{${prefix}:contact-directory}` : `${prefix}:contact-directory`;
  const recencyKey = `${directoryKey}:recent`;
  const member = (locationId: string, contactId: string) => `${locationId}/${contactId}`;

  async function trimDirectory(size: number): Promise<void> {
    if (size <= DIRECTORY_MAX) return;
    const popped = await redis.zpopmin(recencyKey, size - DIRECTORY_MAX);
    // zpopmin answers member, score, member, score...
    const members = popped.filter((_, index) => index % 2 === 0);
    if (members.length > 0) await redis.hdel(directoryKey, ...members);
  }

  return {
    async record(entry) {
      const key = syncsKey(entry.locationId, entry.contactId);
      const multi = redis.multi().lpush(key, JSON.stringify(entry)).ltrim(key, 0, SYNCS_KEPT - 1).expire(key, HISTORY_TTL_SECONDS);
      const name = member(entry.locationId, entry.contactId);
      const known = entry.contact;
      const listed = known !== undefined && Boolean(known.email || known.name || known.phone);
      // One transaction on a single Redis; on a cluster the contact's list lives in another slot than
      // the directory, so the directory gets its own transaction, sent alongside.
      const directory = redis.isCluster && listed ? redis.multi() : multi;
      if (known && listed) {
        const row: DirectoryEntry = { ...known, locationId: entry.locationId, contactId: entry.contactId, lastSyncAt: entry.at };
        directory.hset(directoryKey, name, JSON.stringify(row)).zadd(recencyKey, entry.at, name).zcard(recencyKey);
      }
      const [answers, directoryAnswers] = await Promise.all([multi.exec(), directory === multi ? undefined : directory.exec()]);
      const size = (directoryAnswers ?? answers ?? []).at(-1)?.[1];
      if (listed && typeof size === 'number') await trimDirectory(size);
    },
    async syncs(locationId, contactId, limit = SYNCS_KEPT) {
      const rows = await redis.lrange(syncsKey(locationId, contactId), 0, limit - 1);
      return rows.flatMap((row) => parseJson(SyncEntrySchema, row) ?? []);
    },
    async search(text, limit = 20) {
      const found: DirectoryEntry[] = [];
      let cursor = '0';
      // At most DIRECTORY_MAX entries: a scan of a bounded hash, in pages.
      do {
        const [next, flat] = await redis.hscan(directoryKey, cursor, 'COUNT', 1_000);
        cursor = next;
        for (let index = 1; index < flat.length; index += 2) {
          const entry = parseJson(DirectoryEntrySchema, flat[index]);
          if (entry && matchesContact(entry, text)) found.push(entry);
        }
      } while (cursor !== '0');
      return found.sort((a, b) => b.lastSyncAt - a.lastSyncAt).slice(0, limit);
    },
    async identity(locationId, contactId) {
      return parseJson(DirectoryEntrySchema, await redis.hget(directoryKey, member(locationId, contactId)));
    },
  };
}
