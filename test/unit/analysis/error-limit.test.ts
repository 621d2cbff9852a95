/**
 * The 5xx limit as evidence (errors "clustered"): one burst above the limit is not a failed
 * check, a canary that really is above it fails after a few windows, and the default judge
 * (absolute checks and the comparison together) keeps false rollbacks ≤ α on bursty traffic
 * where counting windows above the limit did not.
 */
import { describe, expect, it } from 'vitest';
import { defaultAnalysisPlan } from '../../../bench/analysis/cells.ts';
import { judgeRollbackAt } from '../../../bench/analysis/simulate.ts';
import { constantWeights, type Scenario } from '../../../bench/analysis/traces.ts';
import { burstJudge, defaultJudge } from '../../../functions/core/analysis/default-judge.ts';
import { errorLimitStep } from '../../../functions/core/analysis/error-limit.ts';
import type { JudgeState } from '../../../functions/core/analysis/verdict.ts';
import { ALPHA, rollbackRate, scenario, tolerance } from '../../support/simulation.ts';

function steps(windows: readonly { requests: number; errors: number }[], limit = 0.05) {
  let state: JudgeState | null = null;
  return windows.map((w) => {
    const step = errorLimitStep(state, w, limit, ALPHA);
    state = JSON.parse(JSON.stringify(step.state)) as JudgeState;
    return step;
  });
}

describe('the 5xx limit as evidence', () => {
  it('a canary failing every request is decided on the second window (three failed checks took three)', () => {
    const decided = steps(Array.from({ length: 5 }, () => ({ requests: 100, errors: 100 }))).map(
      (s) => s.rejected,
    );
    expect(decided).toEqual([false, true, true, true, true]);
  });

  it('one burst that puts a window at 8% is not enough; a canary at 0.5% loses its wealth', () => {
    const burst = steps([{ requests: 120, errors: 10 }]);
    expect(burst[0]?.rejected).toBe(false);
    const healthy = steps(Array.from({ length: 60 }, () => ({ requests: 120, errors: 0 })));
    expect(healthy.at(-1)?.logE).toBeLessThan(0);
  });

  it('a limit of 0: the first 5xx fails the check', () => {
    expect(steps([{ requests: 100, errors: 0 }], 0)[0]?.rejected).toBe(false);
    expect(
      steps(
        [
          { requests: 100, errors: 0 },
          { requests: 100, errors: 1 },
        ],
        0,
      )[1]?.rejected,
    ).toBe(true);
  });

  it('keeps its sums finite for JSON even when a window has no errors', () => {
    const [step] = steps([{ requests: 10_000_000, errors: 0 }]);
    expect(JSON.stringify(step?.state)).not.toContain('null');
  });
});

describe('the default judge on bursty traffic (20 rps, 1%, bursts of 10)', () => {
  const runs = 1000;
  const s: Scenario = scenario({ rps: 20, baseline: 0.01, weights: constantWeights(0.1, 20), burstMean: 10 });
  const rate = (judge: typeof burstJudge, errors: 'clustered' | 'independent', stream: number) => {
    const plan = defaultAnalysisPlan(ALPHA, errors);
    return rollbackRate(
      s,
      runs,
      stream,
      (trace) => judgeRollbackAt(judge, plan, trace, s.weights, 60_000) > 0,
    );
  };

  it('errors "clustered": false rollbacks ≤ α', () => {
    expect(rate(burstJudge, 'clustered', 1100)).toBeLessThanOrEqual(tolerance(runs));
  });

  it('control: errors "independent" (a count of windows above the limit) rolls back far more', () => {
    expect(rate(defaultJudge, 'independent', 1100)).toBeGreaterThan(5 * ALPHA);
  });
});
