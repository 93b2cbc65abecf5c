/**
 * The simulator's Opinion Stage accounts: the default one and any others, each an API key with its
 * own webhook URL and token, and the items each owns (an item belongs to the default account unless
 * added for another).
 */
import { osErrors } from './errors.js';
import { createWebhookEmitter, type WebhookEmitter } from './webhook-emitter.js';

/** Another Opinion Stage account: its API key and where (and with which token) its webhooks go. */
export interface OpinionStageAccountOptions {
  apiKey: string;
  webhookUrl?: string;
  webhookToken?: string;
}

export interface OsAccounts {
  readonly defaultKey: string;
  readonly defaultEmitter: WebhookEmitter;
  readonly apiKeys: ReadonlySet<string>;
  /** The account's emitter, or a JSON:API 404 for an unknown key. */
  emitterOf(apiKey: string): WebhookEmitter;
  own(itemId: string, apiKey: string): void;
  /** The API key of the item's account. */
  ownerOf(itemId: string): string;
  setWebhook(apiKey: string, settings: { url: string | undefined; token?: string | undefined }): void;
  idle(): Promise<void>;
  close(): Promise<void>;
}

export function createOsAccounts(main: OpinionStageAccountOptions, others: readonly OpinionStageAccountOptions[], retry: { attempts: number; baseDelayMs: number }): OsAccounts {
  const defaultEmitter = createWebhookEmitter({ url: main.webhookUrl, token: main.webhookToken, retry });
  const emitters = new Map<string, WebhookEmitter>([[main.apiKey, defaultEmitter]]);
  for (const account of others) {
    if (emitters.has(account.apiKey)) throw new Error(`Opinion Stage account ${account.apiKey} given twice`);
    emitters.set(account.apiKey, createWebhookEmitter({ url: account.webhookUrl, token: account.webhookToken, retry }));
  }
  const owners = new Map<string, string>();
  const emitterOf = (apiKey: string): WebhookEmitter => {
    const found = emitters.get(apiKey);
    if (!found) throw osErrors.notFound(`Account ${apiKey} not found`);
    return found;
  };
  const all = [...emitters.values()];
  return {
    defaultKey: main.apiKey,
    defaultEmitter,
    apiKeys: new Set(emitters.keys()),
    emitterOf,
    own(itemId, apiKey) {
      emitterOf(apiKey);
      owners.set(itemId, apiKey);
    },
    ownerOf: (itemId) => owners.get(itemId) ?? main.apiKey,
    setWebhook(apiKey, settings) {
      const target = emitterOf(apiKey);
      target.setUrl(settings.url);
      if ('token' in settings) target.setToken(settings.token);
    },
    idle: async () => {
      await Promise.all(all.map((each) => each.idle()));
    },
    close: async () => {
      await Promise.all(all.map((each) => each.close()));
    },
  };
}
