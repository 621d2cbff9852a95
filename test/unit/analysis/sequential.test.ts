/**
 * The mixture likelihood ratio itself: the per-interval formula, what is skipped, the prior,
 * one-sidedness as an algebraic fact, numeric stability and JSON-safe accumulators.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  addIntervalInPlace,
  DEFAULT_PRIOR,
  gridPrior,
  initialSequentialState,
  intervalShare,
  logMixture,
  type SequentialState,
  sequentialStep,
} from '../../../functions/core/analysis/sequential.ts';

const ALPHA = 0.01;

function counts(canaryRequests: number, canaryErrors: number, stableRequests: number, stableErrors: number) {
  return { canaryRequests, canaryErrors, stableRequests, stableErrors };
}

/** Folds intervals through sequentialStep, like the judge does, with a JSON round trip in between. */
function fold(intervals: ReturnType<typeof counts>[], prior = DEFAULT_PRIOR) {
  let state: SequentialState | null = null;
  let last = sequentialStep(null, null, ALPHA, prior);
  for (const c of intervals) {
    last = sequentialStep(state, c, ALPHA, prior);
    state = JSON.parse(JSON.stringify(last.state)) as SequentialState;
  }
  return last;
}

function allFinite(value: unknown): boolean {
  if (typeof value === 'number') return Number.isFinite(value);
  if (Array.isArray(value)) return value.every(allFinite);
  if (value !== null && typeof value === 'object') return Object.values(value).every(allFinite);
  return true;
}

describe('sequential: the prior', () => {
  it('puts normalised weights on a grid of θ > 1, increasing in log θ', () => {
    for (const prior of [
      DEFAULT_PRIOR,
      gridPrior({ minRatio: 1.1, maxRatio: 50, points: 17, decay: 0.5 }),
      gridPrior({ minRatio: 1.5, maxRatio: 1.5, points: 1, decay: 0 }),
    ]) {
      const total = prior.logWeight.reduce((s, w) => s + Math.exp(w), 0);
      expect(total).toBeCloseTo(1, 12);
      expect(prior.logTheta.every((l) => l > 0)).toBe(true);
      for (let j = 1; j < prior.logTheta.length; j += 1) {
        expect(prior.logTheta[j]).toBeGreaterThan(prior.logTheta[j - 1] ?? 0);
      }
      prior.thetaMinusOne.forEach((t, j) => {
        expect(t).toBeCloseTo(Math.exp(prior.logTheta[j] ?? 0) - 1, 12);
      });
    }
  });

  it('default: 40 points from 1.2× to 100×, 60% of the mass at 3× or less', () => {
    expect(DEFAULT_PRIOR.logTheta).toHaveLength(40);
    expect(Math.exp(DEFAULT_PRIOR.logTheta[0] ?? 0)).toBeCloseTo(1.2, 10);
    expect(Math.exp(DEFAULT_PRIOR.logTheta[39] ?? 0)).toBeCloseTo(100, 8);
    const below = DEFAULT_PRIOR.logTheta.reduce(
      (s, l, j) => s + (l <= Math.log(3) ? Math.exp(DEFAULT_PRIOR.logWeight[j] ?? 0) : 0),
      0,
    );
    expect(below).toBeCloseTo(0.6, 12);
  });

  it('rejects grids that are not over θ > 1 and knees without points on both sides', () => {
    expect(() => gridPrior({ minRatio: 1, maxRatio: 10, points: 5, decay: 0 })).toThrow(RangeError);
    expect(() => gridPrior({ minRatio: 0.5, maxRatio: 10, points: 5, decay: 0 })).toThrow(RangeError);
    expect(() => gridPrior({ minRatio: 2, maxRatio: 1.5, points: 5, decay: 0 })).toThrow(RangeError);
    expect(() => gridPrior({ minRatio: 1.2, maxRatio: 10, points: 0, decay: 0 })).toThrow(RangeError);
    expect(() =>
      gridPrior({ minRatio: 1.2, maxRatio: 10, points: 5, decay: 0, knee: { ratio: 20, mass: 0.5 } }),
    ).toThrow(RangeError);
    expect(() =>
      gridPrior({ minRatio: 1.2, maxRatio: 10, points: 5, decay: 0, knee: { ratio: 2, mass: 1 } }),
    ).toThrow(RangeError);
  });
});

describe('sequential: one interval', () => {
  it('adds x·log θ − (x+y)·log(θ·p0 + 1 − p0) per grid point, with p0 from the actual counts', () => {
    const prior = gridPrior({ minRatio: 1.5, maxRatio: 8, points: 4, decay: 0 });
    const c = counts(130, 7, 870, 9);
    const share = intervalShare(c);
    expect(share).toEqual({ p0: 0.13 });
    const sums = prior.logTheta.map(() => 0);
    addIntervalInPlace(sums, prior, 0.13, 7, 9);
    prior.logTheta.forEach((l, j) => {
      const theta = Math.exp(l);
      expect(sums[j]).toBeCloseTo(7 * Math.log(theta) - 16 * Math.log(theta * 0.13 + 1 - 0.13), 10);
    });
    // The mixture is the prior-weighted average of the per-θ likelihood ratios.
    const direct = Math.log(prior.logWeight.reduce((s, w, j) => s + Math.exp(w + (sums[j] ?? 0)), 0));
    expect(logMixture(sums, prior)).toBeCloseTo(direct, 12);
  });

  it('skips intervals without errors, with a backend without requests, or with impossible counts', () => {
    expect(intervalShare(counts(100, 0, 900, 0))).toEqual({ skip: 'noErrors' });
    expect(intervalShare(counts(0, 0, 900, 4))).toEqual({ skip: 'noCanaryRequests' });
    expect(intervalShare(counts(100, 3, 0, 0))).toEqual({ skip: 'noStableRequests' });
    expect(intervalShare(counts(10, 11, 900, 4))).toEqual({ skip: 'invalidCounts' });
    expect(intervalShare(counts(Number.NaN, 1, 900, 4))).toEqual({ skip: 'invalidCounts' });
    expect(intervalShare(counts(100, -1, 900, 4))).toEqual({ skip: 'invalidCounts' });
    expect(intervalShare(counts(100, 1, Number.POSITIVE_INFINITY, 4))).toEqual({ skip: 'invalidCounts' });

    const before = fold([counts(100, 2, 900, 5)]);
    for (const c of [counts(100, 0, 900, 0), counts(0, 0, 900, 40), counts(10, 11, 900, 4)]) {
      const after = sequentialStep(before.state, c, ALPHA);
      expect(after.state).toBe(before.state);
      expect(after.logE).toBe(before.logE);
      expect(after.p0).toBeNull();
      expect(after.skip).not.toBeNull();
    }
    // A backend with no metrics at all.
    const missing = sequentialStep(before.state, null, ALPHA);
    expect(missing.state).toBe(before.state);
    expect(missing.skip).toBeNull();
  });

  it('starts at e-value 1 and never reports evidence from nothing', () => {
    const first = sequentialStep(null, null, ALPHA);
    expect(first.logE).toBe(0);
    expect(first.rejected).toBe(false);
    expect(first.state).toEqual(initialSequentialState());
    expect(first.logThreshold).toBeCloseTo(Math.log(100), 12);
  });
});

describe('sequential: one-sided by construction', () => {
  it('never raises the e-value when the canary has no more than its share of the errors', () => {
    // x/(x+y) ≤ p0 ⇒ x·log θ ≤ (x+y)·p0·log θ ≤ (x+y)·log(θ·p0 + 1 − p0) (concavity of log) for every θ.
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1_000_000 }),
        fc.integer({ min: 1, max: 1_000_000 }),
        fc.integer({ min: 1, max: 100_000 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (nc, ns, errors, fraction) => {
          const p0 = nc / (nc + ns);
          const x = Math.min(nc, Math.floor(fraction * p0 * errors));
          const y = errors - x;
          fc.pre(y <= ns);
          const sums = DEFAULT_PRIOR.logTheta.map(() => 0);
          const share = intervalShare(counts(nc, x, ns, y));
          if (!('p0' in share)) return;
          addIntervalInPlace(sums, DEFAULT_PRIOR, share.p0, x, y);
          for (const s of sums) expect(s).toBeLessThanOrEqual(1e-9);
        },
      ),
      { seed: 42, numRuns: 500 },
    );
  });

  it('drives the e-value towards 0 for a canary that only has stable-side errors', () => {
    const step = fold(Array.from({ length: 30 }, () => counts(1000, 0, 9000, 30)));
    expect(step.logE).toBeLessThan(-5);
    expect(step.rejected).toBe(false);
  });
});

describe('sequential: accumulation', () => {
  it('rejects once the mixture reaches 1/α and stays rejected (the running maximum is what Ville bounds)', () => {
    const bad = counts(1000, 40, 9000, 60); // canary 4% vs stable 0.67%
    const first = fold([bad]);
    expect(first.rejected).toBe(true);
    expect(first.logE).toBeGreaterThanOrEqual(Math.log(100));
    // Lots of later evidence the other way lowers the e-value but not the verdict.
    let state = first.state;
    let step = first;
    for (let i = 0; i < 50; i += 1) {
      step = sequentialStep(state, counts(1000, 0, 9000, 100), ALPHA);
      state = step.state;
    }
    expect(step.logE).toBeLessThan(0);
    expect(step.rejected).toBe(true);
    expect(step.state.peakLogE).toBeCloseTo(first.logE, 12);
  });

  it('multiplies per interval inside the mixture: sums per grid point, not pooled counts', () => {
    const a = counts(500, 10, 9500, 20);
    const b = counts(5000, 40, 5000, 60);
    const folded = fold([a, b]);
    const sums = DEFAULT_PRIOR.logTheta.map(() => 0);
    addIntervalInPlace(sums, DEFAULT_PRIOR, 0.05, 10, 20);
    addIntervalInPlace(sums, DEFAULT_PRIOR, 0.5, 40, 60);
    folded.state.logLik.forEach((s, j) => {
      expect(s).toBeCloseTo(sums[j] ?? Number.NaN, 10);
    });
    const pooled = DEFAULT_PRIOR.logTheta.map(() => 0);
    addIntervalInPlace(pooled, DEFAULT_PRIOR, 5500 / 20000, 50, 80);
    expect(folded.logE).not.toBeCloseTo(logMixture(pooled, DEFAULT_PRIOR), 3);
    expect(folded.state.intervals).toBe(2);
    expect(folded.state.canaryErrors).toBe(50);
    expect(folded.state.stableErrors).toBe(80);
  });

  it('starts afresh when the stored sums were made under another prior', () => {
    const other = gridPrior({ minRatio: 1.5, maxRatio: 10, points: 8, decay: 0 });
    const stored = fold([counts(1000, 20, 9000, 60)], other).state;
    const step = sequentialStep(stored, counts(1000, 5, 9000, 45), ALPHA);
    expect(step.restarted).toBe(true);
    expect(step.state.priorId).toBe(DEFAULT_PRIOR.id);
    expect(step.state.logLik).toHaveLength(DEFAULT_PRIOR.logTheta.length);
    expect(step.state.intervals).toBe(1);
  });
});

describe('sequential: numeric stability', () => {
  it('handles 10^9 requests per interval: exact p0 share never builds evidence, a 1.5× regression does at once', () => {
    let state: SequentialState | null = null;
    for (let i = 0; i < 1000; i += 1) {
      // Exactly proportional errors: every grid point's increment is ≤ 0.
      state = sequentialStep(state, counts(1e8, 1e6, 9e8, 9e6), ALPHA).state;
    }
    const healthy = sequentialStep(state, counts(1e8, 1e6, 9e8, 9e6), ALPHA);
    expect(allFinite(healthy)).toBe(true);
    expect(healthy.logE).toBeLessThan(0);
    expect(healthy.rejected).toBe(false);
    expect(JSON.parse(JSON.stringify(healthy.state))).toEqual(healthy.state);

    const regression = sequentialStep(null, counts(1e8, 1.5e6, 9e8, 9e6), ALPHA);
    expect(regression.rejected).toBe(true);
    expect(Number.isFinite(regression.logE)).toBe(true);
    expect(regression.logE).toBeGreaterThan(1e4);
  });

  it('keeps full precision when the canary share is tiny (log1p, not log)', () => {
    const prior = gridPrior({ minRatio: 2, maxRatio: 2, points: 1, decay: 0 });
    const nc = 1;
    const ns = 1e9;
    const p0 = nc / (nc + ns);
    const sums = [0];
    addIntervalInPlace(sums, prior, p0, 0, 1e6);
    // −(x+y)·log(1 + p0·(θ − 1)) with θ = 2, by the series log(1 + u) = u − u²/2 + …
    const u = p0;
    expect(sums[0]).toBeCloseTo(-1e6 * (u - (u * u) / 2), 15);
    expect(sums[0]).toBeLessThan(0);
  });

  it('stays finite and JSON-safe with zero errors, huge one-sided counts and long runs', () => {
    const cases = [
      counts(1e9, 0, 1e9, 0),
      counts(1e9, 0, 1e9, 1e9),
      counts(1e9, 1e9, 1e9, 0),
      counts(1, 1, 1e9, 0),
      counts(1e9, 0, 1, 1),
    ];
    let state: SequentialState | null = null;
    for (let i = 0; i < 2000; i += 1) {
      const step = sequentialStep(state, cases[i % cases.length] ?? null, ALPHA);
      expect(Number.isFinite(step.logE)).toBe(true);
      state = step.state;
    }
    expect(allFinite(state)).toBe(true);
    expect(JSON.parse(JSON.stringify(state))).toEqual(state);
  });
});
