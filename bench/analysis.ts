/**
 * Canary verdicts on simulated traffic: the project's default judge (absolute checks plus the
 * per-period bets valid under error bursts, called once per interval exactly as the controller
 * calls it), the judge for independent errors (per-error mixture) and the reference per-error
 * mixture (uniform over φ), against a Flagger-style fixed threshold, on the same seeded traces,
 * with Wald's SPRT knowing the true ratio as the lower bound.
 *
 * Grid: total 2, 20, 200, 2000 requests/s; stable 5xx 0.1% and 1%; canary 5xx ×1 (healthy),
 * ×1.5, ×2, ×5, ×20 with independent errors, and ×1 and ×20 with errors in bursts of mean size
 * 3 and 10; constant 10% canary weight, or 5→10→25→50% for 5 minutes each; 60 s
 * intervals; a 20-minute horizon. The judge runs with the analysis settings a request gets by
 * default (max 5xx 5%, failure limit 3, 50 canary requests per window, α = 0.01).
 *
 *   node bench/analysis.ts [--runs N] [--quick] [--seed S] [--json] [--check] [--prior JSON]
 *     --runs N     simulated rollouts per cell (default 10000; at least 1000 for the targets)
 *     --quick      200 runs per cell, a smoke run (targets are then only indicative)
 *     --json       machine-readable results instead of tables
 *     --check      exit 1 when a target is missed (otherwise the exit code is 0)
 *     --prior JSON another grid prior for the judge for independent errors, e.g. '{"minRatio":1.2,"maxRatio":100,
 *                  "points":24,"decay":0}' (how the default was chosen; see docs/analysis.md)
 */
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { DEFAULT_BETS } from '../functions/core/analysis/bursts.ts';
import { DEFAULT_PRIOR, type GridPriorOptions, gridPrior } from '../functions/core/analysis/sequential.ts';
import {
  type Cell,
  cellLabel,
  cells,
  defaultAnalysisPlan,
  HORIZON_INTERVALS,
  INTERVAL_SECONDS,
  SCHEDULES,
} from './analysis/cells.ts';
import { detectTimeTarget, runDetectTime } from './analysis/detect-time.ts';
import { FLAGGER_RULE } from './analysis/flagger.ts';
import { type LatencyCellResult, latencyTargets, runLatencyCells } from './analysis/latency-cells.ts';
import { REFERENCE_MIXTURE } from './analysis/reference.ts';
import { runCells } from './analysis/run.ts';
import type { CellResult, RuleOutcome } from './analysis/simulate.ts';
import { compact, formatTable, percent } from './analysis/table.ts';
import { evaluateTargets, type TargetReport } from './analysis/targets.ts';

const DEFAULT_RUNS = 10_000;
const QUICK_RUNS = 200;
const DEFAULT_SEED = 20_260_523;
const MIN_RUNS_FOR_TARGETS = 1000;
/** Latency cells run on the main thread; this many runs per cell bound their time. */
const LATENCY_RUNS = 2000;

interface Options {
  readonly runs: number;
  readonly seed: number;
  readonly json: boolean;
  readonly check: boolean;
  readonly prior: GridPriorOptions | null;
}

function options(): Options {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string' },
      quick: { type: 'boolean', default: false },
      seed: { type: 'string' },
      json: { type: 'boolean', default: false },
      check: { type: 'boolean', default: false },
      prior: { type: 'string' },
    },
  });
  const runs = values.runs !== undefined ? Number(values.runs) : values.quick ? QUICK_RUNS : DEFAULT_RUNS;
  if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs must be a positive whole number');
  const seed = values.seed !== undefined ? Number(values.seed) : DEFAULT_SEED;
  if (!Number.isInteger(seed)) throw new Error('--seed must be a whole number');
  let prior: GridPriorOptions | null = null;
  if (values.prior !== undefined) {
    prior = JSON.parse(values.prior) as GridPriorOptions;
    gridPrior(prior); // fail early on a bad prior, before the workers start
  }
  return { runs, seed, json: values.json, check: values.check, prior };
}

const minutes = (x: number): string => (Number.isFinite(x) ? `${x.toFixed(0)}m` : '—');
const base = (r: CellResult): string => `${r.scenario.baseline * 100}%`;

const bursts = (r: CellResult): string => String(r.scenario.burstMean ?? 1);

function healthyTable(list: readonly Cell[], results: readonly CellResult[]): string {
  const rows: string[][] = [];
  results.forEach((r, i) => {
    if (r.scenario.multiplier !== 1) return;
    rows.push([
      list[i]?.schedule ?? '',
      String(r.scenario.rps),
      base(r),
      bursts(r),
      percent(r.judge.rollbackRate, 2),
      percent(r.independent.rollbackRate, 2),
      percent(r.reference.rollbackRate, 2),
      percent(r.flagger.rollbackRate, 1),
      minutes(r.flagger.minutesP50),
    ]);
  });
  return formatTable(
    ['schedule', 'rps', 'base', 'burst', 'judge false', 'indep false', 'ref false', 'Flagger false', 'F t50'],
    rows,
  );
}

function ruleCells(o: RuleOutcome): string[] {
  return [percent(o.rollbackRate, 1), minutes(o.minutesP50), compact(o.canaryErrorsP50AllRuns)];
}

function regressionTable(list: readonly Cell[], results: readonly CellResult[]): string {
  const rows: string[][] = [];
  results.forEach((r, i) => {
    if (r.scenario.multiplier === 1) return;
    rows.push([
      list[i]?.schedule ?? '',
      String(r.scenario.rps),
      base(r),
      `×${r.scenario.multiplier}`,
      bursts(r),
      ...ruleCells(r.judge),
      ...ruleCells(r.independent),
      ...ruleCells(r.reference),
      percent(r.flagger.rollbackRate, 1),
      compact(r.flagger.canaryErrorsP50),
      r.wald ? compact(r.wald.intervals * (INTERVAL_SECONDS / 60), 1) : '—',
      r.oracle ? minutes(r.oracle.minutesP50) : '—',
    ]);
  });
  return formatTable(
    [
      'schedule',
      'rps',
      'base',
      'canary',
      'burst',
      'judge det',
      't50',
      'err50',
      'indep det',
      't50',
      'err50',
      'ref det',
      't50',
      'err50',
      'Flagger det',
      'err50',
      'Wald E[t]m',
      'SPRT t50',
    ],
    rows,
  );
}

/** What validity under bursts costs: the default judge against the reference mixture, per regression cell. */
function costTable(list: readonly Cell[], results: readonly CellResult[]): string {
  const rows: string[][] = [];
  results.forEach((r, i) => {
    if (r.scenario.multiplier === 1 || r.scenario.burstMean !== undefined) return;
    const ours = r.judge;
    const ref = r.reference;
    const ratio = ours.canaryErrorsP50AllRuns / ref.canaryErrorsP50AllRuns;
    rows.push([
      list[i]?.schedule ?? '',
      String(r.scenario.rps),
      base(r),
      `×${r.scenario.multiplier}`,
      `${((ours.rollbackRate - ref.rollbackRate) * 100).toFixed(1)} pts`,
      Number.isFinite(ratio) ? `${ratio.toFixed(2)}×` : '—',
      Number.isFinite(ours.minutesP50 - ref.minutesP50)
        ? `${ours.minutesP50 >= ref.minutesP50 ? '+' : ''}${(ours.minutesP50 - ref.minutesP50).toFixed(0)}m`
        : '—',
    ]);
  });
  return formatTable(
    ['schedule', 'rps', 'base', 'canary', 'detection', 'median errors', 'median time'],
    rows,
  );
}

function latencyTable(results: readonly LatencyCellResult[]): string {
  return formatTable(
    ['rps', 'latency', 'rolled back', 'within 10m', 't50'],
    results.map((r) => [
      String(r.rps),
      `×${r.factor}`,
      percent(r.rollbackRate, 2),
      percent(r.within10, 1),
      minutes(r.minutesP50),
    ]),
  );
}

function targetLines(targets: readonly TargetReport[]): string {
  const lines: string[] = [];
  for (const t of targets) {
    lines.push(`${t.met ? 'PASS' : 'FAIL'}  ${t.id} ${t.title}: ${t.line}`);
    for (const c of t.checks) {
      if (c.status === 'pass') continue;
      lines.push(`        ${c.status.padEnd(13)} ${c.cell}: ${c.detail}`);
    }
  }
  return lines.join('\n');
}

/** JSON cannot hold Infinity or NaN: never-detected medians become null. */
function jsonSafe(value: unknown): unknown {
  return JSON.parse(
    JSON.stringify(value, (_key, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v)),
  );
}

async function main(): Promise<void> {
  const o = options();
  const list = cells();
  const plan = defaultAnalysisPlan();
  const prior = o.prior ? gridPrior(o.prior) : DEFAULT_PRIOR;
  const started = performance.now();
  const results = await runCells(
    { runs: o.runs, seed: o.seed, alpha: plan.sequential.alpha, prior: o.prior },
    list,
  );
  const seconds = (performance.now() - started) / 1000;
  const latencyStarted = performance.now();
  const latency = runLatencyCells(Math.min(o.runs, LATENCY_RUNS), o.seed);
  const latencySeconds = (performance.now() - latencyStarted) / 1000;
  const detect = runDetectTime(Math.min(o.runs, LATENCY_RUNS), o.seed);
  const targets = [
    ...evaluateTargets(list, results, plan.sequential.alpha),
    ...latencyTargets(latency, plan.sequential.alpha),
    detectTimeTarget(detect),
  ];
  const settings = {
    runsPerCell: o.runs,
    seed: o.seed,
    intervalSeconds: INTERVAL_SECONDS,
    horizonIntervals: HORIZON_INTERVALS,
    threads: Math.min(availableParallelism(), list.length),
    elapsedSeconds: Number(seconds.toFixed(1)),
    judge: {
      name: 'sequential:clustered',
      bets: DEFAULT_BETS.id,
      independentPrior: prior.id,
      reference: REFERENCE_MIXTURE.id,
      alpha: plan.sequential.alpha,
      maxErrorRatio: plan.maxErrorRatio,
      failureLimit: plan.failureLimit,
      minRequests: plan.minRequests,
    },
    flaggerStyle: FLAGGER_RULE,
    schedules: SCHEDULES,
  };
  if (o.json) {
    const cellsOut = results.map((r, i) => ({
      label: cellLabel(list[i] as Cell),
      schedule: list[i]?.schedule,
      ...r,
    }));
    process.stdout.write(
      `${JSON.stringify(jsonSafe({ settings, cells: cellsOut, latency, detect, targets }), null, 2)}\n`,
    );
  } else {
    const out = [
      `Canary verdicts on simulated traffic: ${o.runs} runs per cell, seed ${o.seed}, ${INTERVAL_SECONDS}s intervals, ${HORIZON_INTERVALS}-interval horizon (${seconds.toFixed(1)}s on ${settings.threads} threads)`,
      `judge: the default, errors "clustered" (per-period bets ${DEFAULT_BETS.id}); indep: errors "independent" (per-error mixture, prior ${prior.id}); ref: the reference per-error mixture (${REFERENCE_MIXTURE.id}); all with α ${plan.sequential.alpha} and the same absolute checks (5xx ≤ ${plan.maxErrorRatio * 100}%, failure limit ${plan.failureLimit}, ≥ ${plan.minRequests} canary requests)`,
      'burst: mean size of error bursts (1: independent errors; bursts land wholly on one backend)',
      `Flagger-style: success ≥ ${FLAGGER_RULE.minSuccessRate * 100}%, roll back after ${FLAGGER_RULE.failureLimit} failed checks, checks need ≥ ${FLAGGER_RULE.minRequests} canary requests`,
      't50: median minutes to roll back; err50: median canary 5xx served before rollback; both count runs never rolled back as never (— when over the horizon); Flagger err50 is over the runs it rolled back',
      'Wald E[t]m: expected minutes of the SPRT that knows θ; SPRT t50: that test run on the same traces',
      '',
      'Healthy canaries (×1): false rollbacks',
      healthyTable(list, results),
      '',
      'Regressions: detection',
      regressionTable(list, results),
      '',
      'What validity under bursts costs (independent errors): the default judge minus the reference mixture',
      costTable(list, results),
      '',
      `Latency: the default judge (5xx and latency averaged in one e-value), 10% canary, 0.1% 5xx on both, every canary latency ×factor; ${Math.min(o.runs, LATENCY_RUNS)} runs per cell (${latencySeconds.toFixed(1)}s)`,
      latencyTable(latency),
      '',
      `Time from canary-turns-bad to rollback, Monitoring lag 30–180 s per point (20× at 200 rps, 10%; ${detect.runs} runs): median ${detect.frontierP50.toFixed(0)} s (p90 ${detect.frontierP90.toFixed(0)} s) at the ingestion frontier, ${detect.fixedP50.toFixed(0)} s (p90 ${detect.fixedP90.toFixed(0)} s) with fixed windows read at now − 180 s`,
      '',
      'Targets',
      ...(o.runs < MIN_RUNS_FOR_TARGETS
        ? [
            `(only ${o.runs} runs per cell: figures are noisy, the targets need at least ${MIN_RUNS_FOR_TARGETS})`,
          ]
        : []),
      targetLines(targets),
    ];
    process.stdout.write(`${out.join('\n')}\n`);
  }
  if (o.check && targets.some((t) => !t.met)) process.exitCode = 1;
}

await main();
