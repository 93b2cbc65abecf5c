/**
 * `npm run bench` (CONTRACT.md "Commands"): dependencies, a redis-server binary (each benchmark
 * starts its own Redis on a free port) and the build (the benchmarks run the service as `npm start`
 * does: dist/ with the same node flags), then every benchmark in bench/ with tsx, one after
 * another, each in its own process. A benchmark prints JSON lines (figures) and `# ` lines (for
 * people); the figures are collected into BENCHMARKS.md with the machine, the date and the command.
 * `npm run bench -- ingest latency` runs a subset (BENCHMARKS.md is still rewritten with what ran).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { arch, cpus, platform, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { createInterface } from 'node:readline';
import { ensureBuild } from './lib/ensure-build.mjs';
import { ensureDeps } from './lib/ensure-deps.mjs';
import { ensureRedisBinary } from './lib/ensure-redis.mjs';
import { fail, log, warn } from './lib/log.mjs';
import { projectRoot } from './lib/paths.mjs';

const root = projectRoot;
const BENCHMARKS = [
  { file: 'ingest', title: '1. Ingest (and the `all` half of 5. Memory)' },
  { file: 'upstream', title: '2. Upstream efficiency' },
  { file: 'drain', title: '3. Drain under the rate limit' },
  { file: 'latency', title: '4. End-to-end latency' },
  { file: 'soak', title: '5. Memory soak' },
];

const wanted = process.argv.slice(2).filter((arg) => !arg.startsWith('--'));
const unknown = wanted.filter((name) => !BENCHMARKS.some((bench) => bench.file === name));
if (unknown.length > 0) fail(`no benchmark named ${unknown.join(', ')} (have: ${BENCHMARKS.map((bench) => bench.file).join(', ')})`);
const selected = wanted.length === 0 ? BENCHMARKS : BENCHMARKS.filter((bench) => wanted.includes(bench.file));

await ensureDeps(root);
// The service runs as `npm start` runs it: built, with the same node flags.
await ensureBuild(root);
const redisServer = ensureRedisBinary();
if (!redisServer) fail('the benchmarks need redis-server: install it (Debian/Ubuntu: apt-get install redis-server; macOS: brew install redis) or set REDIS_SERVER_BIN');

const startedAt = new Date();
const results = [];
for (const bench of selected) {
  log(`benchmark ${bench.file}`);
  const started = performance.now();
  const outcome = await runBenchmark(bench.file);
  const seconds = (performance.now() - started) / 1000;
  if (outcome.code !== 0) warn(`benchmark ${bench.file} exited with ${outcome.code}`);
  results.push({ ...bench, ...outcome, seconds });
}

writeFileSync(join(root, 'BENCHMARKS.md'), render(results));
log(`wrote BENCHMARKS.md (${results.length} benchmark${results.length === 1 ? '' : 's'}, ${Math.round((Date.now() - startedAt.getTime()) / 1000)} s)`);
const failedRuns = results.filter((result) => result.code !== 0);
process.exit(failedRuns.length > 0 ? 1 : 0);

function runBenchmark(file) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join('bench', `${file}.ts`)], {
      cwd: root,
      env: { ...process.env, REDIS_SERVER_BIN: redisServer },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const figures = [];
    const details = [];
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (line.startsWith('{')) {
        try {
          const parsed = JSON.parse(line);
          if (typeof parsed.detail === 'string') details.push(parsed);
          else figures.push(parsed);
          return;
        } catch {
          // not ours: print it
        }
      }
      console.log(line);
    });
    child.once('error', (error) => resolve({ code: 127, figures, details, error: error.message }));
    child.once('close', (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), figures, details }));
  });
}

function machine() {
  const cpuList = cpus();
  const redis = spawnSync(redisServer, ['--version'], { encoding: 'utf8' }).stdout?.trim().replace(/^Redis server /, '') ?? 'unknown';
  return [
    `- CPU: ${cpuList.length} × ${cpuList[0]?.model ?? 'unknown'} (shared by the load generator, the simulators, Redis and the bridge)`,
    `- Memory: ${Math.round(totalmem() / 1024 ** 3)} GB`,
    `- OS: ${platform()} ${release()} (${arch()})`,
    `- Node.js ${process.version}; Redis ${redis}`,
  ].join('\n');
}

function cell(value) {
  if (value === undefined || value === null) return '';
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : String(Number(value.toFixed(3)));
  return String(value).replace(/\|/g, '\\|');
}

function render(runs) {
  const lines = [
    '# Benchmarks',
    '',
    `Measured ${startedAt.toISOString()} with \`npm run bench${wanted.length > 0 ? ` -- ${wanted.join(' ')}` : ''}\` (scripts/bench.mjs runs bench/*.ts with tsx, each in its own process).`,
    '',
    machine(),
    '',
    'Each figure is set against a baseline measured in the same run where the issue defines one (the machine is 2 shared cores: read the ratios, not the absolute times). ' +
      'Defaults keep the whole run near 10 minutes: the memory soak runs 120 s (`BENCH_SOAK_SECONDS=600` for the full 10 minutes). Other knobs: `BENCH_INGEST_SECONDS`, `BENCH_INGEST_REQUESTS`, `BENCH_RSA_REQUESTS`, `BENCH_DRAIN_EVENTS`, `BENCH_LATENCY_RATE`, `BENCH_LATENCY_SECONDS`, `BENCH_SOAK_RATE`.',
    '',
  ];
  const all = runs.flatMap((run) => run.figures);
  const judged = all.filter((figure) => figure.target);
  if (judged.length > 0) {
    lines.push('## Targets at a glance', '', '| benchmark | figure | value | target | verdict |', '|---|---|---:|---|---|');
    for (const figure of judged) {
      lines.push(`| ${cell(figure.bench)} | ${cell(figure.figure)} | ${cell(figure.value)} ${cell(figure.unit)} | ${cell(figure.target)} | ${figure.met ? 'met' : '**missed**'}${figure.margin ? ` (${cell(figure.margin)})` : ''} |`);
    }
    lines.push('');
  }
  for (const run of runs) {
    lines.push(`## ${run.title}`, '', `\`bench/${run.file}.ts\`, ${Math.round(run.seconds)} s${run.code === 0 ? '' : `, **exited with ${run.code}** (figures below are what it printed before)`}.`, '');
    if (run.figures.length > 0) {
      lines.push('| figure | value | baseline | ratio | target | verdict |', '|---|---:|---:|---:|---|---|');
      for (const figure of run.figures) {
        const verdict = figure.target ? `${figure.met ? 'met' : '**missed**'}${figure.margin ? ` (${cell(figure.margin)})` : ''}` : '';
        lines.push(`| ${cell(figure.figure)} | ${cell(figure.value)} ${cell(figure.unit)} | ${figure.baseline === undefined ? '' : `${cell(figure.baseline)} ${cell(figure.unit)}`} | ${figure.ratio === undefined || figure.ratio === null ? '' : `${cell(figure.ratio)}×`} | ${cell(figure.target)} | ${verdict} |`);
      }
      lines.push('');
    }
    for (const item of run.details) lines.push(item.detail, '');
  }
  // The analysis is written by hand from a full run (bench/ANALYSIS.md); re-read it after each run.
  const analysis = join(root, 'bench', 'ANALYSIS.md');
  if (wanted.length === 0 && existsSync(analysis)) lines.push(readFileSync(analysis, 'utf8').trim(), '');
  return `${lines.join('\n').trimEnd()}\n`;
}
