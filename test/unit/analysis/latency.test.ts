/**
 * The latency comparison: the threshold and slow counts from bucketed histograms, validity under
 * optional stopping for a healthy canary, one-sidedness for a faster one, power against p99
 * regressions, and the judge failing a slower canary within one α with 5xx.
 */
import { describe, expect, it } from 'vitest';
import { defaultAnalysisPlan } from '../../../bench/analysis/cells.ts';
import {
  bucketProbabilities,
  drawHistogram,
  LATENCY_BOUNDS,
  STABLE_LATENCY,
} from '../../../bench/analysis/latency-traces.ts';
import { rngFor } from '../../../bench/analysis/prng.ts';
import { burstJudge } from '../../../functions/core/analysis/default-judge.ts';
import { latencyComparison, slowCount, thresholdFrom } from '../../../functions/core/analysis/latency.ts';
import type { JudgeState, LatencyHistogram, Measurement } from '../../../functions/core/analysis/verdict.ts';
import { canaryAt } from '../../../functions/core/weights.ts';
import { ALPHA, SEED, tolerance } from '../../support/simulation.ts';

describe('threshold and slow counts', () => {
  it('places the threshold on the bucket bound nearest to stable p99, once stable has 500 requests', () => {
    const h = { bounds: [10, 100, 1000], counts: [0, 980, 15, 5] };
    expect(thresholdFrom(h)).toBe(1000);
    expect(thresholdFrom({ bounds: [10, 100, 1000], counts: [0, 400, 50, 5] })).toBeNull();
  });

  it('counts the requests above a bound exactly, and refuses a threshold that is not a bound', () => {
    const h = { bounds: [10, 100, 1000], counts: [1, 2, 3, 4] };
    expect(slowCount(h, 100)).toEqual({ total: 10, slow: 7 });
    expect(slowCount(h, 1000)).toEqual({ total: 10, slow: 4 });
    expect(slowCount(h, 500)).toBeNull();
  });
});

/** Fraction of `runs` simulated rollouts (200 rps, 10% canary) whose latency comparison ever reaches 1/α. */
function latencyRollbacks(factor: number, windows: number, runs: number, stream: number): number {
  const stable = bucketProbabilities(STABLE_LATENCY);
  const canary = bucketProbabilities(STABLE_LATENCY, factor);
  let rollbacks = 0;
  for (let run = 0; run < runs; run += 1) {
    const rng = rngFor(SEED, stream, run);
    let state: JudgeState | null = null;
    for (let i = 0; i < windows; i += 1) {
      const c = drawHistogram(rng, 1200, canary);
      const s = drawHistogram(rng, 10_800, stable);
      const m = measurement(i, c, s);
      const step = latencyComparison(m, state, ALPHA);
      state = step.state;
      if (step.step.rejected) {
        rollbacks += 1;
        break;
      }
    }
  }
  return rollbacks / runs;
}

function measurement(
  i: number,
  canary: LatencyHistogram,
  stable: LatencyHistogram,
  errors = { canary: 1, stable: 10 },
): Measurement {
  const total = (h: { counts: readonly number[] }) => h.counts.reduce((a, b) => a + b, 0);
  return {
    window: { index: i + 1, start: i * 60_000, end: (i + 1) * 60_000 },
    weights: canaryAt(10),
    canary: { kind: 'data', requests: total(canary), errors: errors.canary, latency: canary },
    stable: { kind: 'data', requests: total(stable), errors: errors.stable, latency: stable },
  };
}

describe('latency comparison on simulated traffic (200 rps, 10% canary)', () => {
  it('a canary as fast as stable, checked every minute for an hour: false rollbacks ≤ α', () => {
    const runs = 1000;
    expect(latencyRollbacks(1, 60, runs, 1200)).toBeLessThanOrEqual(tolerance(runs));
  });

  it('one-sided: a canary 30% faster is never rolled back', () => {
    expect(latencyRollbacks(0.7, 60, 300, 1201)).toBe(0);
  });

  it('a canary with p99 1.5× stable’s is detected within 10 minutes', () => {
    expect(latencyRollbacks(1.5, 10, 300, 1202)).toBeGreaterThan(0.9);
  });

  it('uses bounds of the shared bucket layout only', () => {
    const rng = rngFor(SEED, 1203, 0);
    const h = drawHistogram(rng, 10_000, bucketProbabilities(STABLE_LATENCY));
    expect(LATENCY_BOUNDS).toContain(thresholdFrom(h));
  });
});

describe('the judge with latency in the comparison', () => {
  it('a canary 2× slower with healthy 5xx fails as "canary slower than stable"', () => {
    const plan = defaultAnalysisPlan(ALPHA);
    expect(plan.sequential.latency).toBe(true);
    const rng = rngFor(SEED, 1204, 0);
    const stable = bucketProbabilities(STABLE_LATENCY);
    const slow = bucketProbabilities(STABLE_LATENCY, 2);
    let state: JudgeState | null = null;
    let verdict = '';
    let summary = '';
    for (let i = 0; i < 10 && verdict !== 'fail'; i += 1) {
      const m = measurement(i, drawHistogram(rng, 1200, slow), drawHistogram(rng, 10_800, stable));
      const j = burstJudge.judge(m, state, plan);
      state = j.state;
      verdict = j.verdict;
      summary = j.summary;
    }
    expect(verdict).toBe('fail');
    expect(summary).toMatch(/^canary slower than stable: e-value .* requests slower than \d+(\.\d+)? ms/);
  });
});
