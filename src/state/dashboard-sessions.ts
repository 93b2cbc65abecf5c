/**
 * Dashboard sign-in sessions and one-time sign-in codes, kept in Redis with a TTL.
 *
 * The browser holds a random id; Redis holds only its SHA-256, so a copy of the database is no
 * live session. Each session stores the role and a fingerprint of the tokens it was granted under;
 * the caller compares that fingerprint with the current tokens', so changing a token ends every
 * session made with the old one. A sign-in code is the same kind of random value, good once
 * (GETDEL) and for a short time.
 */
import { createHash, randomBytes } from 'node:crypto';
import { z } from 'zod';
import { stateKey, type RedisClient } from './keys.js';
import { storedJson } from './stored-text.js';

export const SESSION_TTL_MS = 12 * 3_600_000;
export const SIGN_IN_CODE_TTL_MS = 15 * 60_000;

const SessionSchema = z.object({ role: z.enum(['admin', 'viewer']), fingerprint: z.string(), createdAt: z.number() });
export type DashboardSession = z.infer<typeof SessionSchema>;

export interface DashboardSessions {
  /** Stores a new session and returns its id (the cookie's value). */
  create(session: Omit<DashboardSession, 'createdAt'>): Promise<string>;
  /** The session behind an id, or undefined (unknown, expired or revoked). */
  find(id: string): Promise<DashboardSession | undefined>;
  revoke(id: string): Promise<void>;
  /** A single-use code that `redeemCode` exchanges for the session it stands for. */
  createCode(session: Omit<DashboardSession, 'createdAt'>): Promise<string>;
  /** The session a code stands for, once; the code is gone afterwards. */
  redeemCode(code: string): Promise<Omit<DashboardSession, 'createdAt'> | undefined>;
}

/** 32 random bytes, base64url: what the cookie and a sign-in link carry. */
function randomId(): string {
  return randomBytes(32).toString('base64url');
}

function hashed(id: string): string {
  return createHash('sha256').update(id, 'utf8').digest('base64url');
}

/** Ids are our own base64url values; anything else is not looked up at all. */
const ID_PATTERN = /^[\w-]{43}$/;

function parse(raw: string | null): DashboardSession | undefined {
  const parsed = SessionSchema.safeParse(storedJson(raw));
  return parsed.success ? parsed.data : undefined;
}

export function createDashboardSessions(redis: RedisClient, prefix: string, now: () => number = Date.now): DashboardSessions {
  const sessionKey = (id: string) => stateKey(prefix, 'dashboard-session', '-', hashed(id));
  const codeKey = (code: string) => stateKey(prefix, 'dashboard-sign-in-code', '-', hashed(code));
  return {
    async create(session) {
      const id = randomId();
      await redis.set(sessionKey(id), JSON.stringify({ ...session, createdAt: now() }), 'PX', SESSION_TTL_MS);
      return id;
    },
    async find(id) {
      return ID_PATTERN.test(id) ? parse(await redis.get(sessionKey(id))) : undefined;
    },
    async revoke(id) {
      if (ID_PATTERN.test(id)) await redis.del(sessionKey(id));
    },
    async createCode(session) {
      const code = randomId();
      await redis.set(codeKey(code), JSON.stringify({ ...session, createdAt: now() }), 'PX', SIGN_IN_CODE_TTL_MS);
      return code;
    },
    async redeemCode(code) {
      if (!ID_PATTERN.test(code)) return undefined;
      const session = parse(await redis.getdel(codeKey(code)));
      return session ? { role: session.role, fingerprint: session.fingerprint } : undefined;
    },
  };
}
