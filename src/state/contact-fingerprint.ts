/**
 * Echo and no-op detection. After a sync, the bridge remembers a fingerprint of the contact inputs
 * its flows depend on (email, names, website, the mapped fields it writes, its managed tags) as they stand
 * after its own writes. A ContactUpdate whose payload has the same fingerprint is either GHL echoing
 * the bridge's write or a save that changed nothing relevant: it costs no call at all. The
 * fingerprint itself is computed in src/domain/contact-fingerprint.ts; this file keeps it in Redis.
 */
import { stateKeys, type RedisClient } from './keys.js';
import { pipelineValues } from './pipeline-replies.js';

const FINGERPRINT_TTL_SECONDS = 30 * 86_400;

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

export function createContactFingerprints(redis: RedisClient, prefix: string): ContactFingerprints {
  // Both keys are written in one MULTI: on a cluster they share the location's hash tag.
  const keyOf = stateKeys(redis, prefix);
  const currentKey = (locationId: string, contactId: string) => keyOf('fingerprint', locationId, contactId);
  const echoKey = (locationId: string, contactId: string) => keyOf('fingerprint-echo', locationId, contactId);
  return {
    async remember(locationId, contactId, current, intermediate) {
      const multi = redis.multi().set(currentKey(locationId, contactId), current, 'EX', FINGERPRINT_TTL_SECONDS);
      if (intermediate.length > 0) multi.sadd(echoKey(locationId, contactId), ...intermediate).expire(echoKey(locationId, contactId), ECHO_TTL_SECONDS);
      await multi.exec();
    },
    async isKnown(locationId, contactId, fingerprint) {
      // Both read in one round trip (one slot on a cluster, as for the MULTI above).
      const [current, echo] = pipelineValues(await redis.pipeline().get(currentKey(locationId, contactId)).sismember(echoKey(locationId, contactId), fingerprint).exec());
      return current === fingerprint || echo === 1;
    },
  };
}
