/**
 * Cold import time of each built function next to an eager import of every Google client.
 *
 * Each case runs in several fresh `node` processes (the same Node binary that runs this script),
 * interleaved, and reports the median. "Cold" means a new process with an empty module cache;
 * the operating system's file cache is warm after the first run, as on a warm Cloud Run host.
 *
 *   entry point  import of dist/functions/<name>/index.js (the bundle functions-framework loads;
 *                it creates the runtime, including the Firestore client, and registers the handler)
 *   eager        import of @google-cloud/firestore, @google-cloud/pubsub, @google-cloud/monitoring
 *                and the whole googleapis package, one after the other
 *
 * Target: onAlert at most 0.3 × eager (the alert handler must roll back fast after a cold start).
 *
 *   node bench/cold-start.ts [--runs N] [--json] [--check] [--build]
 *     --runs   fresh processes per case (default 7)
 *     --json   machine-readable report
 *     --check  exit 1 when the target is missed
 *     --build  rebuild dist/functions first (it is built anyway when missing)
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { ENTRY_POINTS } from '../functions/manifest.ts';
import { buildFunctions, FUNCTIONS_DIST, isBuilt, ROOT } from '../scripts/build.ts';

const run = promisify(execFile);

export const EAGER_CLIENTS = [
  '@google-cloud/firestore',
  '@google-cloud/pubsub',
  '@google-cloud/monitoring',
  'googleapis',
] as const;

const TARGET = { entry: 'onAlert', maxRatio: 0.3 } as const;

/** Module code for one measurement: import the specifiers in order, print the elapsed ms. */
function probe(specifiers: readonly string[]): string {
  const imports = specifiers.map((s) => `await import(${JSON.stringify(s)});`).join(' ');
  return [
    'const t0 = performance.now();',
    imports,
    'const ms = performance.now() - t0;',
    'process.stdout.write(JSON.stringify({ ms }));',
    'process.exit(0);',
  ].join(' ');
}

const CHILD_ENV: Record<string, string> = {
  PATH: process.env['PATH'] ?? '',
  HOME: process.env['HOME'] ?? '',
  // What runtimeFromEnvironment() needs to start; nothing is called.
  GOOGLE_CLOUD_PROJECT: 'cold-start-bench',
  ALLOWED_ROUTES: 'projects/cold-start-bench/locations/global/httpRoutes/bench',
  METADATA_SERVER_DETECTION: 'none',
  NODE_ENV: 'production',
};

async function measure(specifiers: readonly string[]): Promise<number> {
  const { stdout } = await run(process.execPath, ['--input-type=module', '--eval', probe(specifiers)], {
    cwd: ROOT,
    env: CHILD_ENV,
    maxBuffer: 1024 * 1024,
  });
  const parsed = JSON.parse(stdout.trim().split('\n').at(-1) ?? '') as { ms?: unknown };
  if (typeof parsed.ms !== 'number') throw new Error(`unexpected probe output: ${stdout}`);
  return parsed.ms;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  if (sorted.length === 0) return Number.NaN;
  return sorted.length % 2 === 1
    ? (sorted[mid] ?? Number.NaN)
    : ((sorted[mid - 1] ?? Number.NaN) + (sorted[mid] ?? Number.NaN)) / 2;
}

interface CaseResult {
  readonly name: string;
  readonly samplesMs: readonly number[];
  readonly medianMs: number;
  readonly minMs: number;
  readonly maxMs: number;
  readonly ratio: number;
}

interface Report {
  readonly node: string;
  readonly runs: number;
  readonly eager: CaseResult;
  readonly entries: readonly CaseResult[];
  readonly target: {
    readonly entry: string;
    readonly maxRatio: number;
    readonly ratio: number;
    readonly met: boolean;
  };
}

async function bench(runs: number): Promise<Report> {
  const cases: { name: string; specifiers: readonly string[] }[] = [
    { name: 'eager clients', specifiers: EAGER_CLIENTS },
    ...ENTRY_POINTS.map((ep) => ({
      name: ep.name,
      specifiers: [pathToFileURL(join(FUNCTIONS_DIST, ep.name, 'index.js')).href],
    })),
  ];
  const samples = new Map<string, number[]>(cases.map((c) => [c.name, []]));
  // Interleave the cases so drift (thermal, other load) spreads over all of them.
  for (let i = 0; i < runs; i += 1) {
    for (const c of cases) samples.get(c.name)?.push(await measure(c.specifiers));
  }
  const summarize = (name: string, eagerMedian: number): CaseResult => {
    const s = samples.get(name) ?? [];
    const m = median(s);
    return {
      name,
      samplesMs: s,
      medianMs: m,
      minMs: Math.min(...s),
      maxMs: Math.max(...s),
      ratio: m / eagerMedian,
    };
  };
  const eagerMedian = median(samples.get('eager clients') ?? []);
  const eager = summarize('eager clients', eagerMedian);
  const entries = ENTRY_POINTS.map((ep) => summarize(ep.name, eagerMedian));
  const targetRatio = entries.find((e) => e.name === TARGET.entry)?.ratio ?? Number.NaN;
  return {
    node: process.version,
    runs,
    eager,
    entries,
    target: { ...TARGET, ratio: targetRatio, met: targetRatio <= TARGET.maxRatio },
  };
}

function table(report: Report): string {
  const header = ['case', 'median ms', 'min–max ms', '× eager'];
  const row = (r: CaseResult) => [
    r.name,
    r.medianMs.toFixed(1),
    `${r.minMs.toFixed(0)}–${r.maxMs.toFixed(0)}`,
    r.ratio.toFixed(2),
  ];
  const rows = [row(report.eager), ...report.entries.map(row)];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ');
  const t = report.target;
  return [
    `cold import, median of ${report.runs} fresh node processes per case (Node ${report.node})`,
    `eager = ${EAGER_CLIENTS.join(' + ')}`,
    '',
    line(header),
    ...rows.map(line),
    '',
    `target: ${t.entry} ≤ ${t.maxRatio.toFixed(2)} × eager — ${t.ratio.toFixed(2)} × eager: ${t.met ? 'met' : 'MISSED'}`,
  ].join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string', default: '7' },
      json: { type: 'boolean', default: false },
      check: { type: 'boolean', default: false },
      build: { type: 'boolean', default: false },
    },
    strict: true,
  });
  const runs = Number.parseInt(values.runs, 10);
  if (!Number.isInteger(runs) || runs < 1 || runs > 100) throw new Error('--runs must be an integer 1–100');
  if (values.build || !(await isBuilt())) {
    console.error('building dist/functions first (scripts/build.ts)');
    await buildFunctions();
  }
  const report = await bench(runs);
  console.log(values.json ? JSON.stringify(report, null, 2) : table(report));
  if (values.check && !report.target.met) process.exitCode = 1;
}

main().catch((error: unknown) => {
  console.error(`cold-start bench failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
