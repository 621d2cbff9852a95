/**
 * Latency scenarios: the default judge (5xx and latency compared together, as a request gets it
 * by default) on seeded histograms at 10% canary weight: canaries as fast as stable, and with
 * every latency 1.2×, 1.5× and 2× stable's (so p99 1.2–2×); 5xx at 0.1% on both backends.
 */
import { burstJudge } from '../../functions/core/analysis/default-judge.ts';
import type { JudgeState, LatencyHistogram, Measurement } from '../../functions/core/analysis/verdict.ts';
import { canaryAt } from '../../functions/core/weights.ts';
import { defaultAnalysisPlan, HORIZON_INTERVALS, INTERVAL_SECONDS } from './cells.ts';
import { bucketProbabilities, drawHistogram, STABLE_LATENCY } from './latency-traces.ts';
import { poisson } from './poisson.ts';
import { rngFor } from './prng.ts';
import type { CellCheck, TargetReport } from './targets.ts';

export const LATENCY_RPS = [20, 200, 2000] as const;
export const LATENCY_FACTORS = [1, 1.2, 1.5, 2] as const;
const WEIGHT = 0.1;
const BASELINE = 0.001;

export interface LatencyCellResult {
  readonly rps: number;
  readonly factor: number;
  readonly runs: number;
  /** Share of runs rolled back within the horizon, and within 10 minutes. */
  readonly rollbackRate: number;
  readonly within10: number;
  readonly minutesP50: number;
}

const total = (h: LatencyHistogram): number => h.counts.reduce((a, b) => a + b, 0);

function rolledBackAt(rps: number, factor: number, seed: number, stream: number, run: number): number {
  const plan = defaultAnalysisPlan();
  const rng = rngFor(seed, stream, run);
  const perWindow = rps * INTERVAL_SECONDS;
  const stableP = bucketProbabilities(STABLE_LATENCY);
  const canaryP = bucketProbabilities(STABLE_LATENCY, factor);
  let state: JudgeState | null = null;
  for (let i = 0; i < HORIZON_INTERVALS; i += 1) {
    const c = drawHistogram(rng, perWindow * WEIGHT, canaryP);
    const s = drawHistogram(rng, perWindow * (1 - WEIGHT), stableP);
    const m: Measurement = {
      window: { index: i + 1, start: i * 60_000, end: (i + 1) * 60_000 },
      weights: canaryAt(WEIGHT * 100),
      canary: { kind: 'data', requests: total(c), errors: poisson(rng, total(c) * BASELINE), latency: c },
      stable: { kind: 'data', requests: total(s), errors: poisson(rng, total(s) * BASELINE), latency: s },
    };
    const j = burstJudge.judge(m, state, plan);
    if (j.verdict === 'fail') return i + 1;
    state = j.state;
  }
  return 0;
}

export function runLatencyCells(runs: number, seed: number): LatencyCellResult[] {
  const out: LatencyCellResult[] = [];
  let stream = 10_000;
  for (const rps of LATENCY_RPS) {
    for (const factor of LATENCY_FACTORS) {
      stream += 1;
      const at: number[] = [];
      for (let run = 0; run < runs; run += 1) at.push(rolledBackAt(rps, factor, seed, stream, run));
      const minutes = at.map((a) => (a === 0 ? Number.POSITIVE_INFINITY : a)).sort((a, b) => a - b);
      out.push({
        rps,
        factor,
        runs,
        rollbackRate: at.filter((a) => a > 0).length / runs,
        within10: at.filter((a) => a > 0 && a <= 10).length / runs,
        minutesP50: minutes[Math.floor(runs / 2)] ?? Number.POSITIVE_INFINITY,
      });
    }
  }
  return out;
}

/** L1: healthy latency never costs more than α in false rollbacks; L2: p99 1.5× at 200 rps is caught within 10 minutes 90% of the time. */
export function latencyTargets(results: readonly LatencyCellResult[], alpha: number): TargetReport[] {
  const healthy = results.filter((r) => r.factor === 1);
  const worst = Math.max(...healthy.map((r) => r.rollbackRate));
  const l1: CellCheck[] = healthy.map((r) => ({
    cell: `latency ×1, ${r.rps} rps`,
    status: r.rollbackRate <= alpha ? 'pass' : 'fail',
    detail: `${(r.rollbackRate * 100).toFixed(2)}% rolled back`,
  }));
  const target = results.find((r) => r.rps === 200 && r.factor === 1.5);
  const l2: CellCheck[] = target
    ? [
        {
          cell: 'latency ×1.5, 200 rps',
          status: target.within10 >= 0.9 ? 'pass' : 'fail',
          detail: `${(target.within10 * 100).toFixed(1)}% detected within 10 minutes`,
        },
      ]
    : [];
  return [
    {
      id: 'L1',
      title: `latency-only: false rollbacks ≤ α (${alpha}) for canaries as fast as stable`,
      met: l1.every((c) => c.status === 'pass'),
      line: `${l1.filter((c) => c.status === 'pass').length}/${l1.length} cells; worst ${(worst * 100).toFixed(2)}%`,
      checks: l1,
    },
    {
      id: 'L2',
      title: 'p99 1.5× at 200 rps detected with probability ≥ 0.9 within 10 minutes',
      met: l2.length === 1 && l2[0]?.status === 'pass',
      line: l2[0]?.detail ?? 'no such cell',
      checks: l2,
    },
  ];
}
