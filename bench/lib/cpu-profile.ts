/**
 * Summarises a V8 `.cpuprofile` (node --cpu-prof): self time per function, and per area of the
 * code (the bridge's own src/, fastify, bullmq, ioredis, zod, pino, node internals, GC, idle).
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';

const ProfileSchema = z.object({
  nodes: z.array(
    z.object({
      id: z.number(),
      callFrame: z.object({ functionName: z.string(), url: z.string(), lineNumber: z.number() }),
    }),
  ),
  samples: z.array(z.number()),
  timeDeltas: z.array(z.number()),
});

export interface SelfTime {
  name: string;
  where: string;
  ms: number;
  share: number;
}

export interface ProfileSummary {
  totalMs: number;
  top: SelfTime[];
  areas: { area: string; ms: number; share: number }[];
}

/** `skipMs`: samples in the first ms of the profile (start-up) are left out. */
export function summariseProfile(path: string, root: string, skipMs = 0, topCount = 15): ProfileSummary {
  const profile = ProfileSchema.parse(JSON.parse(readFileSync(path, 'utf8')));
  const frames = new Map(profile.nodes.map((node) => [node.id, node.callFrame]));
  const selfUs = new Map<number, number>();
  let atUs = 0;
  profile.samples.forEach((id, index) => {
    const delta = profile.timeDeltas[index] ?? 0;
    atUs += delta;
    if (atUs >= skipMs * 1000) selfUs.set(id, (selfUs.get(id) ?? 0) + delta);
  });

  const byFunction = new Map<string, { name: string; where: string; us: number }>();
  const byArea = new Map<string, number>();
  let totalUs = 0;
  for (const [id, us] of selfUs) {
    const frame = frames.get(id);
    if (!frame) continue;
    totalUs += us;
    const where = shorten(frame.url, root, frame.lineNumber);
    const name = frame.functionName || '(anonymous)';
    const key = `${name}@${where}`;
    const entry = byFunction.get(key) ?? { name, where, us: 0 };
    entry.us += us;
    byFunction.set(key, entry);
    const area = areaOf(frame.url, name);
    byArea.set(area, (byArea.get(area) ?? 0) + us);
  }
  const share = (us: number) => (totalUs === 0 ? 0 : us / totalUs);
  return {
    totalMs: totalUs / 1000,
    top: [...byFunction.values()]
      .sort((a, b) => b.us - a.us)
      .slice(0, topCount)
      .map((entry) => ({ name: entry.name, where: entry.where, ms: entry.us / 1000, share: share(entry.us) })),
    areas: [...byArea.entries()].sort((a, b) => b[1] - a[1]).map(([area, us]) => ({ area, ms: us / 1000, share: share(us) })),
  };
}

function shorten(url: string, root: string, line: number): string {
  if (url === '') return '(native)';
  const path = url.replace(/^file:\/\//, '').replace(root, '').replace(/^.*node_modules\//, '');
  return `${path}:${line + 1}`;
}

function areaOf(url: string, name: string): string {
  if (name === '(idle)' || name === '(program)' || name === '(garbage collector)') return name;
  const packageMatch = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (packageMatch?.[1]) return packageMatch[1];
  if (url.includes('/src/') || url.includes('/dist/')) return 'bridge (src/, built to dist/)';
  if (url.startsWith('node:') || url === '') return 'node internals / native';
  return 'other';
}

export function profileMarkdown(summary: ProfileSummary): string {
  const pct = (share: number) => `${(share * 100).toFixed(1)} %`;
  const lines = [
    `CPU profile of the bridge (\`web\`, Ed25519 ingest at 50 connections, start-up left out), ${Math.round(summary.totalMs)} ms sampled.`,
    '',
    '| area | self time | share |',
    '|---|---:|---:|',
    ...summary.areas.slice(0, 12).map((area) => `| ${area.area} | ${Math.round(area.ms)} ms | ${pct(area.share)} |`),
    '',
    '| top self-time function | where | self time | share |',
    '|---|---|---:|---:|',
    ...summary.top.map((entry) => `| \`${entry.name}\` | ${entry.where} | ${Math.round(entry.ms)} ms | ${pct(entry.share)} |`),
  ];
  return lines.join('\n');
}

/**
 * Self time per area in µs per request, floor beside bridge (idle left out): what the bridge spends
 * beyond the least a receiver must do, area by area, from two profiles taken under the same load.
 */
export function comparisonMarkdown(floor: { summary: ProfileSummary; requests: number }, bridge: { summary: ProfileSummary; requests: number }): string {
  const perRequest = (entry: { summary: ProfileSummary; requests: number }) =>
    new Map(entry.summary.areas.filter((area) => area.area !== '(idle)').map((area) => [area.area, (area.ms * 1000) / Math.max(1, entry.requests)]));
  const floorUs = perRequest(floor);
  const bridgeUs = perRequest(bridge);
  const areas = [...new Set([...bridgeUs.keys(), ...floorUs.keys()])].sort((a, b) => (bridgeUs.get(b) ?? 0) - (floorUs.get(b) ?? 0) - ((bridgeUs.get(a) ?? 0) - (floorUs.get(a) ?? 0)));
  const total = (map: Map<string, number>) => [...map.values()].reduce((sum, us) => sum + us, 0);
  const row = (area: string, f: number, b: number) => `| ${area} | ${f.toFixed(0)} | ${b.toFixed(0)} | ${(b - f >= 0 ? '+' : '') + (b - f).toFixed(0)} |`;
  return [
    `Where the bridge spends beyond the floor: CPU profiles of both under the same closed-loop Ed25519 load (${floor.requests} and ${bridge.requests} requests sent), self time per area in µs per request sent, idle left out, largest difference first. ` +
      'The floor\'s own code and its signature verifier show as "other" and "bridge (src/…)" (it imports the bridge\'s verifier).',
    '',
    '| area | floor µs/req | bridge µs/req | bridge − floor |',
    '|---|---:|---:|---:|',
    ...areas.filter((area) => Math.max(floorUs.get(area) ?? 0, bridgeUs.get(area) ?? 0) >= 1).map((area) => row(area, floorUs.get(area) ?? 0, bridgeUs.get(area) ?? 0)),
    row('**total (not idle)**', total(floorUs), total(bridgeUs)),
  ].join('\n');
}
