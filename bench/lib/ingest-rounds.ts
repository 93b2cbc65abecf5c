/**
 * What one round of bench/ingest.ts measures (the floor, then the bridge, back to back), and the
 * table of the rounds (the figures are their medians, bench/lib/report.ts).
 */
import type { LoadResult, OpenLoopResult } from './load.js';

export interface Measured {
  result: LoadResult;
  /** Over the measured part, after the warm-up. */
  cpuUsPerRequest: number;
  /** Over the warm-up: a fresh process compiling its path. */
  warmupCpuUsPerRequest: number;
  /** performance.now() when the measured part started. */
  measuringAt: number;
  peakRssMb: number;
}

/** The floor's run in one round: closed loop, then (Ed25519) the fixed offered load, on a fresh Redis. */
export interface FloorRun {
  closed: Measured;
  open?: OpenLoopResult;
  /** The server's CPU per request sent during the open loop. */
  openCpuUsPerRequest?: number;
  /** Answered 200 but not in the floor's list. */
  lost: number;
}

/** The bridge's run: closed loop, then (one Ed25519 process) the fixed offered load, on a fresh Redis. */
export interface BridgeRun {
  closed: Measured;
  open?: OpenLoopResult;
  openCpuUsPerRequest?: number;
  accepted: number;
  lost: number;
  refused: number;
}

/** One round: the floor, then the single-process bridge right after it. */
export interface Round {
  floor: FloorRun;
  bridge: BridgeRun;
}

/** The rounds side by side, for BENCHMARKS.md. */
export function roundsMarkdown(name: string, rounds: Round[], openRate: number): string {
  const fixed = (value: number | undefined, digits = 0) => (value === undefined ? '' : value.toFixed(digits));
  const rows = rounds.map(({ floor, bridge }, index) => {
    const [f, b] = [floor.closed, bridge.closed];
    return `| ${index + 1} | ${fixed(f.result.throughput)} | ${fixed(b.result.throughput)} | ${fixed(b.result.throughput / f.result.throughput, 2)}× | ${fixed(f.cpuUsPerRequest)} | ${fixed(b.cpuUsPerRequest)} | ${fixed(b.cpuUsPerRequest / f.cpuUsPerRequest, 2)}× | ${fixed(floor.open?.p99, 1)} | ${fixed(bridge.open?.p99, 1)} | ${fixed(floor.openCpuUsPerRequest)} | ${fixed(bridge.openCpuUsPerRequest)} |`;
  });
  return [
    `${name}: each round, the floor then the bridge (one \`web\` process), back to back; the figures above are the medians of these rounds' ratios.`,
    '',
    `| round | floor req/s | bridge req/s | ratio | floor µs/req | bridge µs/req | ratio | floor p99 at ${openRate}/s (ms) | bridge p99 at ${openRate}/s (ms) | floor µs/req at ${openRate}/s | bridge µs/req at ${openRate}/s |`,
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows,
  ].join('\n');
}

