/**
 * An Opinion Stage Public Result API simulator on loopback: items, responses (newest first) and
 * questions as paged JSON:API collections behind HTTP Basic auth, injected faults, and "new response"
 * webhooks in an assumed shape (webhook-payload.ts). Built from Opinion Stage's public documents and the Airbyte schemas,
 * not from the bridge's client. Besides the default account (`apiKey`, `webhookUrl`, `webhookToken`),
 * `accounts` adds others: each key owns the items added for it, sees only those, and has its own
 * webhook URL and token.
 */
import { createOsAccounts, type OpinionStageAccountOptions } from './accounts.js';
import { buildSimulatorApp } from './app.js';
import { osErrors } from './errors.js';
import { createFaultRegistry, faultControls } from '../shared/faults.js';
import { closeOnce, listenOnLoopback } from '../shared/serve.js';
import type { SimulatorBase } from '../shared/simulator.js';
import type { Item, ItemInput, ItemResponse, ResponseInput } from './model.js';
import { API_PREFIX } from './resources.js';
import type { RecordedCall } from './request-pipeline.js';
import { createOsStore } from './store.js';
import type { ResponseOrder } from './routes-api.js';
import type { WebhookDelivery } from './webhook-emitter.js';
import { buildWebhookPayload, type WebhookShape } from './webhook-payload.js';

export type { OpinionStageAccountOptions } from './accounts.js';
export type { Answer, Item, ItemInput, ItemResponse, ItemType, Question, ResponseInput } from './model.js';
export type { ItemResource, QuestionResource, ResponseResource } from './resources.js';
export type { Fault, FaultRule } from '../shared/faults.js';
export type { RecordedCall } from './request-pipeline.js';
export type { WebhookDelivery } from './webhook-emitter.js';
export type { WebhookShape } from './webhook-payload.js';
export type { ResponseOrder } from './routes-api.js';
export { JsonApiError } from './errors.js';
export { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from './pagination.js';
/** The contract's name for a stored response. */
export type Response = ItemResponse;

export const DEFAULT_OPINIONSTAGE_API_KEY = 'os-sandbox-key';

export interface OpinionStageSimulatorOptions {
  host?: string;
  port?: number;
  /** HTTP Basic username; the password must be empty. */
  apiKey?: string;
  webhookUrl?: string;
  /** Sent as `x-webhook-token` on every webhook. */
  webhookToken?: string;
  /** 'wrapped' = `{ data: <response>, ...flat }`; default 'wrapped'. */
  webhookShape?: WebhookShape;
  /** Total attempts per webhook and the first backoff; default 4 attempts from 100 ms, doubling. */
  webhookRetry?: { attempts: number; baseDelayMs: number };
  /** Fastify's logger; off unless asked for. */
  logger?: boolean;
  /** The order `GET /items/{id}/responses` lists responses in; no source documents it. Default newest first. */
  responseOrder?: ResponseOrder;
  /** Other accounts beside the default one. */
  accounts?: OpinionStageAccountOptions[];
}

/** The API is at `${url}/api/v2`. */
export interface OpinionStageSimulator extends SimulatorBase<RecordedCall, WebhookDelivery> {
  readonly apiBaseUrl: string;
  setResponseOrder(order: ResponseOrder): void;
  /** From now on (or, with false, no longer) `GET /items/{itemId}/questions` answers 404; the item's responses are still served. */
  hideQuestions(itemId: string, hidden?: boolean): void;
  /** Seeds an item with its questions (owned by the account with `apiKey`, default the default account); lead-form questions default to `lead: true` for kinds email, name, phone, first_name, last_name, full_name. */
  addItem(input: ItemInput, owner?: { apiKey: string }): Item;
  /** Where the webhooks of the account with this API key go from now on, and with which token. */
  setAccountWebhook(apiKey: string, settings: { url: string | undefined; token?: string | undefined }): void;
  /** Every webhook delivery made for the account with this API key (the default account's are `deliveries`). */
  accountDeliveries(apiKey: string): WebhookDelivery[];
  /** A respondent answers (answers keyed by question id or title); stored and, unless `sendWebhook: false`, POSTed to the webhook URL. */
  addResponse(itemId: string, input: ResponseInput): ItemResponse;
}

export async function startOpinionStageSimulator(options: OpinionStageSimulatorOptions = {}): Promise<OpinionStageSimulator> {
  let baseUrl = '';
  let shape: WebhookShape = options.webhookShape ?? 'wrapped';
  let responseOrder: ResponseOrder = options.responseOrder ?? 'newest-first';
  const hiddenQuestions = new Set<string>();
  const store = createOsStore({ baseUrl: () => baseUrl });
  const faults = createFaultRegistry(['status', 'latency', 'timeout', 'rate-limit', 'token-expired', 'malformed-body']);
  const calls: RecordedCall[] = [];
  const shutdown = new AbortController();
  const retry = options.webhookRetry ?? { attempts: 4, baseDelayMs: 100 };
  const accounts = createOsAccounts({ apiKey: options.apiKey ?? DEFAULT_OPINIONSTAGE_API_KEY, webhookUrl: options.webhookUrl, webhookToken: options.webhookToken }, options.accounts ?? [], retry);
  const emitter = accounts.defaultEmitter;

  const addItem = (input: unknown, owner?: { apiKey: string }): Item => {
    const apiKey = owner?.apiKey ?? accounts.defaultKey;
    accounts.emitterOf(apiKey);
    const item = store.addItem(input);
    accounts.own(item.id, apiKey);
    return item;
  };
  const addResponse = (itemId: string, input: unknown): ItemResponse => {
    const { response, sendWebhook } = store.addResponse(itemId, input);
    const item = store.getItem(itemId);
    if (!item) throw osErrors.notFound(`Item ${itemId} not found`);
    if (sendWebhook) {
      accounts.emitterOf(accounts.ownerOf(itemId)).emit({ responseId: response.id, itemId, payload: buildWebhookPayload(item, response, shape, baseUrl) });
    }
    return response;
  };
  const app = buildSimulatorApp({
    logger: options.logger ?? false,
    store,
    pipeline: { apiKeys: accounts.apiKeys, faults, calls, shutdown: shutdown.signal },
    control: {
      calls,
      deliveries: emitter.deliveries,
      faults,
      addItem,
      addResponse,
      setWebhook(settings) {
        accounts.setWebhook(settings.apiKey ?? accounts.defaultKey, settings);
        if (settings.shape !== undefined) shape = settings.shape;
      },
    },
    baseUrl: () => baseUrl,
    responseOrder: () => responseOrder,
    questionsHidden: (itemId) => hiddenQuestions.has(itemId),
    ownerOf: (itemId) => accounts.ownerOf(itemId),
  });

  baseUrl = await listenOnLoopback(app, options.host, options.port);

  return {
    url: baseUrl,
    apiBaseUrl: `${baseUrl}${API_PREFIX}`,
    calls,
    deliveries: emitter.deliveries,
    ...faultControls(faults),
    setWebhookUrl: (url) => emitter.setUrl(url),
    setAccountWebhook: (apiKey, settings) => accounts.setWebhook(apiKey, settings),
    accountDeliveries: (apiKey) => accounts.emitterOf(apiKey).deliveries,
    setResponseOrder(order) {
      responseOrder = order;
    },
    hideQuestions(itemId, hidden = true) {
      if (hidden) hiddenQuestions.add(itemId);
      else hiddenQuestions.delete(itemId);
    },
    addItem,
    addResponse,
    idle: () => accounts.idle(),
    close: closeOnce(shutdown, app, accounts),
  };
}
