/**
 * Time from the moment a canary turns bad to its rollback, including Monitoring's ingestion lag:
 * the default judge on one-minute windows, its 5xx 20× stable's from a random moment in the third
 * minute (200 rps, 10% canary, 0.1% base), each backend's point of each minute visible after a
 * lag drawn uniformly from 30–180 s. The same verdicts, timed two ways: at the ingestion frontier
 * (a window is judged at the first 15 s look after both its points are visible, windows in order)
 * and with fixed windows read once they are 180 s old.
 */
import { burstJudge } from '../../functions/core/analysis/default-judge.ts';
import type { JudgeState, Measurement } from '../../functions/core/analysis/verdict.ts';
import { POLL_SECONDS } from '../../functions/core/plan.ts';
import { canaryAt } from '../../functions/core/weights.ts';
import { defaultAnalysisPlan } from './cells.ts';
import { poisson } from './poisson.ts';
import { rngFor } from './prng.ts';
import { quantile } from './table.ts';
import type { CellCheck, TargetReport } from './targets.ts';

const RPS = 200;
const WEIGHT = 0.1;
const BASE = 0.001;
const FACTOR = 20;
const LAG = { min: 30, max: 180 } as const;
const FIXED_DELAY = 180;
const MINUTES = 30;
const TARGET_RATIO = 0.5;

export interface DetectTimeResult {
  readonly runs: number;
  /** Median seconds from the canary turning bad to the verdict that rolls it back. */
  readonly frontierP50: number;
  readonly fixedP50: number;
  readonly frontierP90: number;
  readonly fixedP90: number;
}

function oneRun(seed: number, run: number): { frontier: number; fixed: number } | null {
  const rng = rngFor(seed, 20_000, run);
  const plan = defaultAnalysisPlan();
  const badAt = 120 + 60 * rng.next();
  let state: JudgeState | null = null;
  let frontierClock = 0;
  for (let i = 0; i < MINUTES; i += 1) {
    const start = i * 60;
    const end = start + 60;
    const badShare = Math.min(1, Math.max(0, (end - badAt) / 60));
    const nc = RPS * 60 * WEIGHT;
    const ns = RPS * 60 - nc;
    const canaryErrors = poisson(rng, nc * BASE * (1 - badShare + FACTOR * badShare));
    const stableErrors = poisson(rng, ns * BASE);
    const lag = Math.max(...[0, 1].map(() => LAG.min + (LAG.max - LAG.min) * rng.next()));
    const visibleAt = end + POLL_SECONDS * Math.ceil(lag / POLL_SECONDS);
    frontierClock = Math.max(frontierClock, Math.min(visibleAt, end + FIXED_DELAY));
    const m: Measurement = {
      window: { index: i + 1, start: start * 1000, end: end * 1000 },
      weights: canaryAt(WEIGHT * 100),
      canary: {
        kind: 'data',
        requests: poisson(rng, nc) + canaryErrors,
        errors: canaryErrors,
        latency: null,
      },
      stable: {
        kind: 'data',
        requests: poisson(rng, ns) + stableErrors,
        errors: stableErrors,
        latency: null,
      },
    };
    const j = burstJudge.judge(m, state, plan);
    if (j.verdict === 'fail') return { frontier: frontierClock - badAt, fixed: end + FIXED_DELAY - badAt };
    state = j.state;
  }
  return null;
}

export function runDetectTime(runs: number, seed: number): DetectTimeResult {
  const frontier: number[] = [];
  const fixed: number[] = [];
  for (let run = 0; run < runs; run += 1) {
    const r = oneRun(seed, run);
    frontier.push(r?.frontier ?? Number.POSITIVE_INFINITY);
    fixed.push(r?.fixed ?? Number.POSITIVE_INFINITY);
  }
  frontier.sort((a, b) => a - b);
  fixed.sort((a, b) => a - b);
  return {
    runs,
    frontierP50: quantile(frontier, 0.5),
    fixedP50: quantile(fixed, 0.5),
    frontierP90: quantile(frontier, 0.9),
    fixedP90: quantile(fixed, 0.9),
  };
}

export function detectTimeTarget(r: DetectTimeResult): TargetReport {
  const ratio = r.frontierP50 / r.fixedP50;
  const check: CellCheck = {
    cell: `20× at ${RPS} rps, ${WEIGHT * 100}% canary, lag ${LAG.min}–${LAG.max} s`,
    status: ratio <= TARGET_RATIO ? 'pass' : 'fail',
    detail: `median ${r.frontierP50.toFixed(0)} s at the frontier vs ${r.fixedP50.toFixed(0)} s with fixed windows at now − ${FIXED_DELAY} s (${ratio.toFixed(2)}×)`,
  };
  return {
    id: 'D1',
    title: `median time from canary-turns-bad to rollback ≤ ${TARGET_RATIO} × that of fixed windows`,
    met: check.status === 'pass',
    line: check.detail,
    checks: [check],
  };
}
