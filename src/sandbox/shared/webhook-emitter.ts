/**
 * What the three simulators' webhook emitters have in common: the list of deliveries, a target URL
 * that tests may change or unset, and a delivery queue. Nothing is built or sent while no URL is set
 * or after close; each simulator decides the bytes and headers of its own deliveries.
 */
import { createDeliveryQueue, type DeliveryRecord } from './delivery-queue.js';

export interface OutgoingDelivery<D extends DeliveryRecord> {
  delivery: D;
  headers: Record<string, string>;
  /** Deliveries with the same key go out one after another. */
  orderingKey?: string;
}

export interface EmitterCore<D extends DeliveryRecord> {
  readonly deliveries: D[];
  url(): string | undefined;
  setUrl(url: string | undefined): void;
  /** `build` runs only when a delivery will be sent, so ids and timestamps are made for sent events only. */
  send(build: () => OutgoingDelivery<D>): void;
  idle(): Promise<void>;
  close(): Promise<void>;
}

export interface EmitterCoreOptions {
  url: string | undefined;
  retry: { attempts: number; baseDelayMs: number };
  timeoutMs: number;
}

export function createEmitterCore<D extends DeliveryRecord>(options: EmitterCoreOptions): EmitterCore<D> {
  const deliveries: D[] = [];
  const queue = createDeliveryQueue({ retry: options.retry, timeoutMs: options.timeoutMs });
  let url = options.url;
  return {
    deliveries,
    url: () => url,
    setUrl(next) {
      url = next;
    },
    send(build) {
      const target = url;
      if (target === undefined || queue.closed) return;
      const { delivery, headers, orderingKey } = build();
      deliveries.push(delivery);
      queue.send(target, delivery, headers, orderingKey);
    },
    idle: () => queue.idle(),
    close: () => queue.close(),
  };
}

/** A simulator's emitter: the core, plus `emit`, which turns one event into one delivery when it is sent. */
export interface EventEmitter<E, D extends DeliveryRecord> extends EmitterCore<D> {
  emit(event: E): void;
}

export function createEventEmitter<E, D extends DeliveryRecord>(options: EmitterCoreOptions, build: (event: E) => OutgoingDelivery<D>): EventEmitter<E, D> {
  const core = createEmitterCore<D>(options);
  return { ...core, emit: (event) => core.send(() => build(event)) };
}
