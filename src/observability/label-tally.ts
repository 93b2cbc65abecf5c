/**
 * Counts for a prom-client counter with three labels, kept as plain numbers until the counter is read.
 * prom-client's `inc(labels)` builds a label key string and a result object on every call; for the
 * webhook counter, which counts every request, that was one of the larger allocations per webhook
 * beyond the ingest floor (bench/ANALYSIS.md, note 1j). Here a count finds its cell through three map
 * lookups and adds one, allocating nothing once the cell exists.
 *
 * The counter adds the tally to itself whenever it is collected (its `collect`, which prom-client
 * runs before every read: `/metrics`, the host-wide aggregate of WEB_PROCESSES, `get()`), so every
 * reader sees the same totals as with `inc`.
 */
import type { Counter } from 'prom-client';

interface Cell<L extends string> {
  labels: Record<L, string>;
  pending: number;
}

export interface LabelTally<L extends string> {
  /** One more for these label values, in the order of the label names given at creation. */
  add(first: string, second: string, third: string): void;
  /** Adds what was counted since the last flush to `counter` (call from its `collect`). */
  flushInto(counter: Counter<L>): void;
}

export function createLabelTally<L extends string>(names: readonly [L, L, L]): LabelTally<L> {
  const cells = new Map<string, Map<string, Map<string, Cell<L>>>>();
  const touched: Cell<L>[] = [];
  return {
    add(first, second, third) {
      let bySecond = cells.get(first);
      if (bySecond === undefined) cells.set(first, (bySecond = new Map()));
      let byThird = bySecond.get(second);
      if (byThird === undefined) bySecond.set(second, (byThird = new Map()));
      let cell = byThird.get(third);
      if (cell === undefined) {
        const labels = { [names[0]]: first, [names[1]]: second, [names[2]]: third } as Record<L, string>;
        byThird.set(third, (cell = { labels, pending: 0 }));
      }
      if (cell.pending === 0) touched.push(cell);
      cell.pending++;
    },
    flushInto(counter) {
      for (const cell of touched.splice(0)) {
        counter.inc(cell.labels, cell.pending);
        cell.pending = 0;
      }
    },
  };
}
