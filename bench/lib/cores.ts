/**
 * Which cores the processes of an ingest run may use. On a box of two cores the server under test,
 * the load generator and Redis otherwise share both, and the scheduler puts them together or apart
 * from one moment to the next: how fast a server ran then depended on where its neighbours were
 * (bench/ANALYSIS.md, note 1g). With `taskset` the server under test gets one core to itself (the
 * last one it may use) and the generator and Redis share the rest, the same for every server measured.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface CorePlan {
  /** For the server under test, as `taskset -c` takes it. */
  server: string;
  /** For the benchmark's process (the generators) and Redis. */
  others: string;
}

/** The plan, or undefined when there is a single core to use or no working `taskset` (nothing is pinned then). */
export function corePlan(): CorePlan | undefined {
  const cores = allowedCores();
  if (cores.length < 2) return undefined;
  if (spawnSync('taskset', ['-p', String(process.pid)]).status !== 0) return undefined;
  return { server: String(cores.at(-1)), others: cores.slice(0, -1).join(',') };
}

/** Pins every thread of a running process; the threads it starts later inherit the pinning. */
export function pinProcess(pid: number, cpus: string): void {
  const result = spawnSync('taskset', ['-a', '-p', '-c', cpus, String(pid)]);
  if (result.status !== 0) throw new Error(`taskset could not pin process ${pid} to cores ${cpus}: ${result.stderr.toString().trim()}`);
}

/** The cores this process may run on (Linux: `Cpus_allowed_list`, e.g. `0-1` or `0,2-3`). */
function allowedCores(): number[] {
  let list: string;
  try {
    list = /Cpus_allowed_list:\s*(\S+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? '';
  } catch {
    return [];
  }
  return list.split(',').flatMap((range) => {
    const [from, to = from] = range.split('-').map(Number);
    if (from === undefined || to === undefined || !Number.isInteger(from) || !Number.isInteger(to)) return [];
    return Array.from({ length: to - from + 1 }, (_, index) => from + index);
  });
}
