/**
 * WEB_PROCESSES > 1: a scrape reaches whichever process node:cluster handed the connection to, but
 * must answer for the whole host. That process asks the primary, which collects every process's
 * registry over the cluster's IPC channel (prom-client's AggregatorRegistry: counters and histograms
 * summed) and sends the text back.
 */
import cluster from 'node:cluster';
import { AggregatorRegistry, type Registry } from 'prom-client';
import { z } from 'zod';

const REQUEST = 'ghl-bridge:host-metrics-request';
const REPLY = 'ghl-bridge:host-metrics-reply';

const RequestSchema = z.object({ type: z.literal(REQUEST), id: z.number() });
const ReplySchema = z.object({ type: z.literal(REPLY), id: z.number(), text: z.string().optional(), error: z.string().optional() });

/** In the primary, before it forks: answers the processes' requests for the host's metrics. */
export function serveHostMetrics(): void {
  const aggregator = new AggregatorRegistry();
  cluster.on('message', (worker, message: unknown) => {
    const request = RequestSchema.safeParse(message);
    if (!request.success) return;
    const { id } = request.data;
    aggregator.clusterMetrics().then(
      (text) => worker.send({ type: REPLY, id, text }),
      (error: unknown) => worker.send({ type: REPLY, id, error: error instanceof Error ? error.message : String(error) }),
    );
  });
}

/**
 * In a forked process: lets the primary collect `registry`, and returns how this process reads the
 * host's metrics. A primary that does not answer within `timeoutMs` is an error (the caller decides).
 */
export function joinHostMetrics(registry: Registry, timeoutMs = 5_000): () => Promise<string> {
  AggregatorRegistry.setRegistries([registry]);
  // Constructing one installs prom-client's listener that answers the primary's collection.
  new AggregatorRegistry();
  const pending = new Map<number, { resolve: (text: string) => void; reject: (error: Error) => void }>();
  let nextId = 0;
  process.on('message', (message: unknown) => {
    const reply = ReplySchema.safeParse(message);
    if (!reply.success) return;
    const waiter = pending.get(reply.data.id);
    pending.delete(reply.data.id);
    if (reply.data.text !== undefined) waiter?.resolve(reply.data.text);
    else waiter?.reject(new Error(reply.data.error ?? 'no host metrics'));
  });
  return () =>
    new Promise<string>((resolve, reject) => {
      const id = nextId++;
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new Error('the primary did not answer with the host metrics in time'));
      }, timeoutMs);
      const settle = { resolve: (text: string) => (clearTimeout(timer), resolve(text)), reject: (error: Error) => (clearTimeout(timer), reject(error)) };
      pending.set(id, settle);
      process.send?.({ type: REQUEST, id });
    });
}
