/**
 * Echo and no-op detection. After a sync, the bridge remembers a fingerprint of the contact inputs
 * its flows depend on (email, names, website, the mapped fields it writes, its managed tags) as they stand
 * after its own writes. A ContactUpdate whose payload has the same fingerprint is either GHL echoing
 * the bridge's write or a save that changed nothing relevant: it costs no call at all.
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { stateKey } from './keys.js';

const FINGERPRINT_TTL_SECONDS = 30 * 86_400;

export interface FingerprintInput {
  email?: string | null;
  firstName?: string | null;
  lastName?: string | null;
  name?: string | null;
  website?: string | null;
  tags?: readonly string[] | null;
  customFields?: readonly { id: string; value?: unknown }[] | null;
}

export interface FingerprintScope {
  /** Ids of the custom fields the flows read or write. */
  fieldIds: readonly string[];
  /** Tags the flows manage (lower case). */
  managedTags: readonly string[];
}

export function contactFingerprint(contact: FingerprintInput, scope: FingerprintScope): string {
  const fields = new Map((contact.customFields ?? []).map((field) => [field.id, normalise(field.value)]));
  const tags = new Set((contact.tags ?? []).map((tag) => tag.toLowerCase()));
  const material = {
    email: (contact.email ?? '').trim().toLowerCase(),
    // Names go into the personal survey link.
    name: [contact.firstName, contact.lastName, contact.name].map((part) => (part ?? '').trim()).join('\u0000'),
    website: (contact.website ?? '').trim().toLowerCase(),
    fields: [...scope.fieldIds].sort().map((id) => [id, fields.get(id) ?? '']),
    tags: [...scope.managedTags].sort().filter((tag) => tags.has(tag)),
  };
  return createHash('sha256').update(JSON.stringify(material)).digest('hex').slice(0, 32);
}

function normalise(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (Array.isArray(value)) return value.map(String).sort().join('\u0000');
  return String(value);
}

/** Echoes of the bridge's own writes arrive within seconds; intermediate states need not be kept longer. */
const ECHO_TTL_SECONDS = 600;

export interface ContactFingerprints {
  /**
   * After a sync: `current` is the contact as it stands after the bridge's writes; `intermediate` are
   * the states between those writes (GHL sends one event per write, each with the state of its moment).
   */
  remember(locationId: string, contactId: string, current: string, intermediate: readonly string[]): Promise<void>;
  /** Whether an event's fingerprint is the last synced state or one of the bridge's own intermediate states. */
  isKnown(locationId: string, contactId: string, fingerprint: string): Promise<boolean>;
}

export function createContactFingerprints(redis: Redis, prefix: string): ContactFingerprints {
  const currentKey = (locationId: string, contactId: string) => stateKey(prefix, 'fingerprint', locationId, contactId);
  const echoKey = (locationId: string, contactId: string) => stateKey(prefix, 'fingerprint-echo', locationId, contactId);
  return {
    async remember(locationId, contactId, current, intermediate) {
      const multi = redis.multi().set(currentKey(locationId, contactId), current, 'EX', FINGERPRINT_TTL_SECONDS);
      if (intermediate.length > 0) multi.sadd(echoKey(locationId, contactId), ...intermediate).expire(echoKey(locationId, contactId), ECHO_TTL_SECONDS);
      await multi.exec();
    },
    async isKnown(locationId, contactId, fingerprint) {
      const [current, echo] = await Promise.all([redis.get(currentKey(locationId, contactId)), redis.sismember(echoKey(locationId, contactId), fingerprint)]);
      return current === fingerprint || echo === 1;
    },
  };
}
