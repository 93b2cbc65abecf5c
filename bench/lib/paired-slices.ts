/**
 * Two servers measured in turns: short closed-loop slices, A B B A A B B A …, each server's figures
 * pooled over its slices. This box's speed drifts by ±20 % over tens of seconds (the same floor took
 * 145, 190 and 129 µs per request in three back-to-back runs a minute apart): measured one after the
 * other, two servers differ by whatever the drift did between them. In alternating slices a slow
 * stretch falls on both, and the ABBA order gives each the first and the second place equally often.
 */
import type { ChildServer } from './bridge-process.js';
import { runLoad, type ClosedLoopResult, type LoadResult, type PreparedRequest } from './load.js';
import { percentile } from './report.js';

export interface Contender {
  server: ChildServer;
  requests: PreparedRequest[];
  /** Reuse the bodies (a baseline, which neither dedupes nor stores ids) or send each once (the bridge, which answers a repeat as a duplicate). */
  cycle: boolean;
  /** The first body not sent yet (after its warm-up), when not cycling. */
  offset: number;
}

export interface SliceOptions {
  path: string;
  connections: number;
  /** Slices per server. */
  slices: number;
  /** Measured time per slice (a contender that sends each body once may run out first: its bodies are shared out evenly between its slices). */
  sliceMs: number;
  /** The first requests of each slice, untimed: the connections open and the loop fills. */
  settleRequests: number;
  /** Redis's own CPU time so far (ms), to count what each server's requests cost it. */
  redisCpuMs(): Promise<number>;
}

/** One server's figures, pooled over its slices. */
export interface PooledRun {
  result: LoadResult;
  /** The server's CPU (all its threads) per request sent in the measured parts. */
  cpuUsPerRequest: number;
  /** Redis's CPU per request sent in the measured parts (each slice has one server sending). */
  redisCpuUsPerRequest: number;
}

interface Slice {
  result: ClosedLoopResult;
  cpuMs: number;
  redisCpuMs: number;
}

/** Runs `options.slices` slices of each, alternating (ABBA), and pools each server's. */
export async function runPairedSlices(a: Contender, b: Contender, options: SliceOptions): Promise<[PooledRun, PooledRun]> {
  const slices: [Slice[], Slice[]] = [[], []];
  for (let pair = 0; pair < options.slices; pair++) {
    const order = pair % 2 === 0 ? ([0, 1] as const) : ([1, 0] as const);
    for (const index of order) slices[index].push(await runSlice(index === 0 ? a : b, options.slices - pair, options));
  }
  return [pool(slices[0]), pool(slices[1])];
}

async function runSlice(contender: Contender, slicesLeft: number, options: SliceOptions): Promise<Slice> {
  const { server, requests, offset } = contender;
  const share = Math.floor((requests.length - offset) / slicesLeft);
  let cpuAt = Number.NaN;
  let redisAt: Promise<number> = Promise.resolve(Number.NaN);
  const result = await runLoad({
    url: `${server.url}${options.path}`,
    requests: contender.cycle ? requests : requests.slice(offset, offset + share),
    connections: options.connections,
    durationMs: options.sliceMs,
    warmupRequests: options.settleRequests,
    cycle: contender.cycle,
    collectIds: true,
    onMeasuring: () => {
      cpuAt = server.cpuMs();
      redisAt = options.redisCpuMs();
    },
  });
  const cpuMs = server.cpuMs() - cpuAt;
  const redisCpuMs = (await options.redisCpuMs()) - (await redisAt);
  if (!contender.cycle) contender.offset += result.sent;
  return { result, cpuMs, redisCpuMs };
}

function pool(slices: Slice[]): PooledRun {
  const sum = (pick: (slice: Slice) => number) => slices.reduce((total, slice) => total + pick(slice), 0);
  const latencies = slices.flatMap(({ result }) => result.latencies).sort((x, y) => x - y);
  const statuses: Record<string, number> = {};
  for (const { result } of slices) for (const [status, count] of Object.entries(result.statuses)) statuses[status] = (statuses[status] ?? 0) + count;
  const sentMeasured = sum(({ result }) => result.sentMeasured);
  const elapsedMs = sum(({ result }) => result.elapsedMs);
  return {
    result: {
      sent: sum(({ result }) => result.sent),
      sentMeasured,
      elapsedMs,
      throughput: (latencies.length / Math.max(1, elapsedMs)) * 1000,
      statuses,
      p50: percentile(latencies, 50),
      p99: percentile(latencies, 99),
      max: latencies.at(-1) ?? Number.NaN,
      errors: sum(({ result }) => result.errors),
      acceptedIds: slices.flatMap(({ result }) => result.acceptedIds),
      duplicates: sum(({ result }) => result.duplicates),
    },
    cpuUsPerRequest: (sum(({ cpuMs }) => cpuMs) * 1000) / Math.max(1, sentMeasured),
    redisCpuUsPerRequest: (sum(({ redisCpuMs }) => redisCpuMs) * 1000) / Math.max(1, sentMeasured),
  };
}
