/**
 * How a benchmark reports: one JSON line per figure (collected by scripts/bench.mjs into
 * BENCHMARKS.md) and one human line beside it. A figure is a ratio against a baseline measured in
 * the same run wherever the issue defines one: the machine is shared, absolute numbers drift.
 */
export interface Figure {
  bench: string;
  figure: string;
  value: number;
  unit: string;
  baseline?: number;
  /** value ÷ baseline */
  ratio?: number;
  /** The target in words, e.g. `≥ 0.5× bare`. */
  target?: string;
  met?: boolean;
  /** Missed by how much, or met with how much room, in words. */
  margin?: string;
}

const round = (value: number, digits = 3) => Number(value.toFixed(digits));

export function emit(figure: Figure): void {
  const tidy: Figure = { ...figure, value: round(figure.value) };
  if (figure.baseline !== undefined) tidy.baseline = round(figure.baseline);
  if (figure.ratio !== undefined) tidy.ratio = round(figure.ratio);
  process.stdout.write(`${JSON.stringify(tidy)}\n`);
  const parts = [`[${figure.bench}] ${figure.figure}: ${tidy.value} ${figure.unit}`];
  if (tidy.baseline !== undefined) parts.push(`baseline ${tidy.baseline} ${figure.unit}`);
  if (tidy.ratio !== undefined) parts.push(`ratio ${tidy.ratio}×`);
  if (figure.target) parts.push(`target ${figure.target}: ${figure.met ? 'MET' : 'MISSED'}${figure.margin ? ` (${figure.margin})` : ''}`);
  process.stdout.write(`# ${parts.join(' | ')}\n`);
}

/** Free text for BENCHMARKS.md (markdown), under the benchmark's table. */
export function detail(bench: string, markdown: string): void {
  process.stdout.write(`${JSON.stringify({ bench, detail: markdown })}\n`);
  for (const line of markdown.split('\n')) process.stdout.write(`# [${bench}] ${line}\n`);
}

export function log(bench: string, message: string): void {
  process.stderr.write(`[${bench}] ${message}\n`);
}

/** "met with 40 % room" / "missed by 12 %": how far `value` is from `limit` on the side that counts. */
export function marginOf(value: number, limit: number, better: 'higher' | 'lower'): { met: boolean; margin: string } {
  const met = better === 'higher' ? value >= limit : value <= limit;
  if (limit === 0) return { met, margin: met ? 'exactly at the limit' : `missed by ${round(value, 3)}` };
  const share = Math.abs(value - limit) / Math.abs(limit);
  return { met, margin: met ? `${Math.round(share * 100)} % room` : `missed by ${Math.round(share * 100)} %` };
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] ?? Number.NaN;
}

/** The middle value (the upper of the two middle ones for an even count); NaN for none. */
export function median(values: number[]): number {
  return [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;
}
