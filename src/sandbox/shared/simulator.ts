/** What every simulator offers its tests, beside its own seeding and switches. */
import type { FaultRule } from './faults.js';

export interface SimulatorBase<Call, Delivery> {
  /** Origin, `http://<host>:<port>`. */
  readonly url: string;
  /** Every API call it received, in order. */
  readonly calls: Call[];
  /** Every webhook delivery it made, in order. */
  readonly deliveries: Delivery[];
  /** Adds a fault rule; the returned function removes it. */
  injectFault(rule: FaultRule): () => void;
  clearFaults(): void;
  /** Where webhooks go from now on; undefined sends none. */
  setWebhookUrl(url: string | undefined): void;
  /** Resolves when every webhook delivery has succeeded or used up its attempts. */
  idle(): Promise<void>;
  close(): Promise<void>;
}
