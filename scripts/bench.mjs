/**
 * `npm run bench` (CONTRACT.md "Commands"): dependencies, a redis-server binary (each benchmark
 * starts its own Redis on a free port) and the build (the benchmarks run the service as `npm start`
 * does: dist/ with the same node flags), then every benchmark in bench/ with tsx, one after
 * another, each in its own process. A benchmark prints JSON lines (figures) and `# ` lines (for
 * people); the figures are collected into BENCHMARKS.md with the machine, the date and the command.
 * `npm run bench -- ingest latency` runs a subset (BENCHMARKS.md is still rewritten with what ran).
 * `npm run bench -- soak` alone runs the full 10-minute soak; the full run keeps a 120 s one and says so
 * (BENCH_SOAK_SECONDS overrides both). BENCH_NOTE adds a line under the header (e.g. "machine under load").
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
  { file: 'scaling', title: '6. Worker scaling (1, 2, 4 worker processes)' },
];
/** The memory claim needs 10 minutes; a full run would take too long with it, so it keeps 2 (and says so). */
const FULL_SOAK_SECONDS = 600;
const SHORT_SOAK_SECONDS = 120;

const wanted = process.argv.slice(2).filter((arg) => !arg.startsWith('--'));
const unknown = wanted.filter((name) => !BENCHMARKS.some((bench) => bench.file === name));
if (unknown.length > 0) fail(`no benchmark named ${unknown.join(', ')} (have: ${BENCHMARKS.map((bench) => bench.file).join(', ')})`);
const selected = wanted.length === 0 ? BENCHMARKS : BENCHMARKS.filter((bench) => wanted.includes(bench.file));
const soakAlone = wanted.length === 1 && wanted[0] === 'soak';
const soakSeconds = Number(process.env.BENCH_SOAK_SECONDS ?? (soakAlone ? FULL_SOAK_SECONDS : SHORT_SOAK_SECONDS));

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
      env: { ...process.env, REDIS_SERVER_BIN: redisServer, BENCH_SOAK_SECONDS: String(soakSeconds) },
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
    ...(process.env.BENCH_NOTE ? [`**Note on this run:** ${process.env.BENCH_NOTE}`, ''] : []),
    'Each figure is set against a baseline measured in the same run where the issue defines one (the machine is 2 shared cores: read the ratios, not the absolute times). ' +
      `${soakNote()} Other knobs: \`BENCH_INGEST_SECONDS\`, \`BENCH_INGEST_ROUNDS\`, \`BENCH_INGEST_WARMUP\`, \`BENCH_INGEST_RATE\`, \`BENCH_INGEST_REQUESTS\`, \`BENCH_RSA_REQUESTS\`, \`BENCH_DRAIN_EVENTS\`, \`BENCH_DRAIN_WARMUP\`, \`BENCH_LATENCY_RATE\`, \`BENCH_LATENCY_SECONDS\`, \`BENCH_LATENCY_WARMUP_SECONDS\`, \`BENCH_SOAK_RATE\`, \`BENCH_SCALING_EVENTS\`, \`BENCH_SCALING_WORKERS\`, \`BENCH_SCALING_RATE_LIMIT\`; \`BENCH_INGEST_PARTS\` runs some of the ingest parts, \`BENCH_PROFILE_DIR\` keeps its CPU profiles, \`BENCH_NODE_FLAGS\` runs the service with other node flags.`,
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
  lines.push(...summary(runs));
  // Hand-written notes (bench/ANALYSIS.md), dated and labelled as such: they are not produced by this run.
  const analysis = join(root, 'bench', 'ANALYSIS.md');
  if (wanted.length === 0 && existsSync(analysis)) lines.push(readFileSync(analysis, 'utf8').trim(), '');
  return `${lines.join('\n').trimEnd()}\n`;
}

function soakNote() {
  if (!selected.some((bench) => bench.file === 'soak')) return 'The memory soak did not run in this run (`npm run bench -- soak` runs the 10-minute soak).';
  if (soakSeconds >= FULL_SOAK_SECONDS) return `The memory soak ran ${soakSeconds} s (the 10-minute soak the memory claim needs).`;
  return `The memory soak ran only ${soakSeconds} s, shorter than the 10-minute soak the memory claim needs (\`npm run bench -- soak\` runs that; \`BENCH_SOAK_SECONDS\` sets the length).`;
}

/** What this run measured, in words, from its own figures: every judged figure, benchmark by benchmark. */
function summary(runs) {
  const lines = ['## Summary (generated from this run\'s figures)', ''];
  for (const run of runs) {
    const judged = run.figures.filter((figure) => figure.target);
    const failedRun = run.code === 0 ? '' : ` (exited with ${run.code})`;
    if (judged.length === 0) {
      lines.push(`- **${run.title}**${failedRun}: no figure with a target.`);
      continue;
    }
    const met = judged.filter((figure) => figure.met).length;
    const parts = judged.map((figure) => {
      const ratio = figure.ratio === undefined || figure.ratio === null ? '' : ` (${cell(figure.ratio)}× ${cell(figure.baseline)} ${cell(figure.unit)})`;
      return `${figure.figure}: ${cell(figure.value)} ${cell(figure.unit)}${ratio}, target ${cell(figure.target)}, ${figure.met ? 'met' : '**missed**'}`;
    });
    lines.push(`- **${run.title}**${failedRun}: ${met} of ${judged.length} targets met. ${parts.join('; ')}.`);
  }
  lines.push('');
  return lines;
}
