/**
 * Server-rendered SVG line charts (no script, no library: the dashboard's CSP allows neither). Each
 * point is a `<circle>` carrying its time and value in data attributes, so tests and tools can read
 * the numbers the chart draws; colours are SVG attributes, not inline styles.
 */
import { latencyPercentile, type SeriesPoint, type SeriesRange } from '../../state/flow-series.js';
import { escapeHtml } from './html.js';

export interface ChartLine {
  name: string;
  values: (number | undefined)[];
}

export interface Chart {
  id: string;
  title: string;
  unit: string;
  at: number[];
  lines: ChartLine[];
}

const WIDTH = 640;
const HEIGHT = 160;
const PAD = { left: 44, right: 8, top: 8, bottom: 20 };
const COLOURS = ['#1b5e20', '#b71c1c', '#0d47a1', '#e65100', '#4a148c', '#006064', '#3e2723'];

const clock = (ms: number) => new Date(ms).toISOString().slice(11, 16);
/** Outcomes keep their colour whatever else is drawn: a failure is never green. */
const OUTCOME_COLOURS: Record<string, string> = { synced: '#1b5e20', accepted: '#1b5e20', failed: '#b71c1c', unavailable: '#b71c1c', skipped: '#757575', duplicate: '#757575' };
const colourOf = (name: string, index: number) => OUTCOME_COLOURS[name] ?? COLOURS[index % COLOURS.length] ?? '#000';

export function renderChart(chart: Chart): string {
  const max = Math.max(1, ...chart.lines.flatMap((line) => line.values.filter((value): value is number => value !== undefined)));
  const steps = Math.max(1, chart.at.length - 1);
  const x = (index: number) => PAD.left + ((WIDTH - PAD.left - PAD.right) * index) / steps;
  const y = (value: number) => HEIGHT - PAD.bottom - ((HEIGHT - PAD.top - PAD.bottom) * value) / max;
  const lines = chart.lines.map((line, lineIndex) => {
    const colour = colourOf(line.name, lineIndex);
    const points = line.values.flatMap((value, index) => (value === undefined ? [] : [{ index, value }]));
    const path = points.map((point) => `${x(point.index).toFixed(1)},${y(point.value).toFixed(1)}`).join(' ');
    const dots = points
      .filter((point) => point.value > 0)
      .map((point) => `<circle cx="${x(point.index).toFixed(1)}" cy="${y(point.value).toFixed(1)}" r="2.5" fill="${colour}" data-at="${chart.at[point.index] ?? 0}" data-value="${point.value}"><title>${escapeHtml(`${line.name} ${clock(chart.at[point.index] ?? 0)}: ${point.value}${chart.unit}`)}</title></circle>`)
      .join('');
    return `<g class="line" data-series="${escapeHtml(line.name)}"><polyline fill="none" stroke="${colour}" stroke-width="1.5" points="${path}"/>${dots}</g>`;
  });
  const legend = chart.lines
    .map((line, index) => `<li><svg width="10" height="10" aria-hidden="true"><rect width="10" height="10" fill="${colourOf(line.name, index)}"/></svg> ${escapeHtml(line.name)}</li>`)
    .join('');
  const first = chart.at[0];
  const last = chart.at.at(-1);
  const axis =
    `<line x1="${PAD.left}" y1="${HEIGHT - PAD.bottom}" x2="${WIDTH - PAD.right}" y2="${HEIGHT - PAD.bottom}" stroke="#888"/>` +
    `<text x="2" y="${PAD.top + 10}" font-size="10">${max}${escapeHtml(chart.unit)}</text><text x="2" y="${HEIGHT - PAD.bottom}" font-size="10">0</text>` +
    (first !== undefined ? `<text x="${PAD.left}" y="${HEIGHT - 4}" font-size="10">${clock(first)}</text>` : '') +
    (last !== undefined ? `<text x="${WIDTH - PAD.right - 30}" y="${HEIGHT - 4}" font-size="10">${clock(last)}</text>` : '');
  return (
    `<figure class="chart" id="chart-${chart.id}"><figcaption>${escapeHtml(chart.title)}</figcaption>` +
    `<svg viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" aria-label="${escapeHtml(chart.title)}">${axis}${lines.join('')}</svg>` +
    `<ul class="legend">${legend}</ul></figure>`
  );
}

/** The fields of the points whose name starts with `prefix`, as lines named by the rest. */
function linesByPrefix(points: SeriesPoint[], prefix: string, always: string[] = []): ChartLine[] {
  const names = new Set(always);
  for (const point of points) for (const field of Object.keys(point.counts)) if (field.startsWith(prefix)) names.add(field.slice(prefix.length));
  return [...names].sort().map((name) => ({ name, values: points.map((point) => point.counts[`${prefix}${name}`] ?? 0) }));
}

/** The dashboard's charts from the per-minute (or per-hour) series. */
export function flowCharts(points: SeriesPoint[], range: SeriesRange): Chart[] {
  const at = points.map((point) => point.at);
  const per = range === 'hour' ? 'minute' : 'hour';
  return [
    { id: 'webhooks', title: `Webhooks received per ${per}, by outcome`, unit: '', at, lines: linesByPrefix(points, 'webhook:', ['accepted']) },
    { id: 'syncs', title: `Contact syncs per ${per}, by outcome`, unit: '', at, lines: linesByPrefix(points, 'sync:', ['synced', 'failed']) },
    {
      id: 'latency',
      title: 'End-to-end latency, event received to contact synced (bucket upper bound)',
      unit: ' ms',
      at,
      lines: [
        { name: 'p50', values: points.map((point) => latencyPercentile(point.counts, 0.5)) },
        { name: 'p99', values: points.map((point) => latencyPercentile(point.counts, 0.99)) },
      ],
    },
    { id: 'ghl-calls', title: `GHL calls per ${per}, by location (their budget use)`, unit: '', at, lines: linesByPrefix(points, 'ghl-calls:') },
    { id: 'dead-letters', title: `Jobs dead-lettered per ${per}, by queue`, unit: '', at, lines: linesByPrefix(points, 'dead-letter:', ['contact-sync']) },
    { id: 'trustpilot-calls', title: `Trustpilot calls per ${per} (its budget use)`, unit: '', at, lines: [{ name: 'calls', values: points.map((point) => point.counts['trustpilot-calls'] ?? 0) }] },
  ];
}
