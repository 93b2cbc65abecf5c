/**
 * The simulator's Trustpilot accounts: the default one and any others, each an application (API key
 * and secret) with its business users, the business unit they may read privately, and its own
 * webhook subscription. A unit's review events go to the account that owns it; units no account owns
 * (seeded ones) to the default account's.
 */
import { tpErrors } from './errors.js';
import { createWebhookEmitter, type WebhookEmitter } from './webhook-emitter.js';

/** Another Trustpilot account: an application (key and secret) with its business users and unit. */
export interface TrustpilotAccountOptions {
  apiKey: string;
  apiSecret: string;
  users: readonly { username: string; password: string }[];
  /** The unit its business users may read privately; created with `domain`. */
  businessUnitId: string;
  domain: string;
  displayName?: string;
  /** Where review events of its unit are POSTed. */
  webhookUrl?: string;
}

export interface Account {
  apiSecret: string;
  users: readonly { username: string; password: string }[];
  businessUnitId: string;
  emitter: WebhookEmitter;
}

export interface Accounts {
  readonly defaultEmitter: WebhookEmitter;
  get(apiKey: string): Account | undefined;
  /** The account, or Trustpilot's 404 for an unknown key. */
  of(apiKey: string): Account;
  emitterOfUnit(businessUnitId: string): WebhookEmitter;
  /** API key → API secret, for the request pipeline. */
  secrets(): Map<string, string>;
  idle(): Promise<void>;
  close(): Promise<void>;
}

export function createAccounts(
  main: Omit<TrustpilotAccountOptions, 'domain'>,
  others: readonly TrustpilotAccountOptions[],
  retry: { attempts: number; baseDelayMs: number },
): Accounts {
  const defaultEmitter = createWebhookEmitter({ url: main.webhookUrl, retry });
  const accounts = new Map<string, Account>([[main.apiKey, { apiSecret: main.apiSecret, users: main.users, businessUnitId: main.businessUnitId, emitter: defaultEmitter }]]);
  for (const account of others) {
    if (accounts.has(account.apiKey)) throw new Error(`Trustpilot account ${account.apiKey} given twice`);
    accounts.set(account.apiKey, { apiSecret: account.apiSecret, users: account.users, businessUnitId: account.businessUnitId, emitter: createWebhookEmitter({ url: account.webhookUrl, retry }) });
  }
  const emitters = [...accounts.values()].map((account) => account.emitter);
  return {
    defaultEmitter,
    get: (apiKey) => accounts.get(apiKey),
    of(apiKey) {
      const account = accounts.get(apiKey);
      if (!account) throw tpErrors.notFound(`No account with API key ${apiKey}`);
      return account;
    },
    emitterOfUnit: (businessUnitId) => [...accounts.values()].find((account) => account.businessUnitId === businessUnitId)?.emitter ?? defaultEmitter,
    secrets: () => new Map([...accounts].map(([key, account]) => [key, account.apiSecret])),
    idle: async () => {
      await Promise.all(emitters.map((each) => each.idle()));
    },
    close: async () => {
      await Promise.all(emitters.map((each) => each.close()));
    },
  };
}
