/**
 * The simulation the validity tests and the benchmark rest on: a reproducible generator, a
 * Poisson sampler with the right moments at every scale, traces that split traffic as asked,
 * the Flagger-style rule and Wald's bound.
 */
import { describe, expect, it } from 'vitest';
import { FLAGGER_RULE, thresholdRollbackAt } from '../../../bench/analysis/flagger.ts';
import { logFactorial, poisson } from '../../../bench/analysis/poisson.ts';
import { rngFor, Xoshiro128 } from '../../../bench/analysis/prng.ts';
import { formatTable, quantile } from '../../../bench/analysis/table.ts';
import { constantWeights, FIELDS, generateTrace, stagedWeights } from '../../../bench/analysis/traces.ts';
import { oracleRollbackAt, waldBound } from '../../../bench/analysis/wald.ts';

describe('PRNG', () => {
  it('is reproducible per seed, differs across streams, and is uniform on [0, 1)', () => {
    const a = rngFor(1, 2, 3);
    const b = rngFor(1, 2, 3);
    const c = rngFor(1, 2, 4);
    const xs = Array.from({ length: 5 }, () => a.next());
    expect(Array.from({ length: 5 }, () => b.next())).toEqual(xs);
    expect(Array.from({ length: 5 }, () => c.next())).not.toEqual(xs);
    const r = new Xoshiro128(99);
    let sum = 0;
    let sumSq = 0;
    const n = 200_000;
    for (let i = 0; i < n; i += 1) {
      const u = r.next();
      expect(u >= 0 && u < 1).toBe(true);
      sum += u;
      sumSq += u * u;
    }
    expect(sum / n).toBeCloseTo(0.5, 2);
    expect(sumSq / n - (sum / n) ** 2).toBeCloseTo(1 / 12, 2);
  });
});

describe('Poisson sampler', () => {
  it('log(k!) matches the table and Stirling at the seam', () => {
    let exact = 0;
    for (let k = 1; k <= 300; k += 1) {
      exact += Math.log(k);
      expect(logFactorial(k)).toBeCloseTo(exact, 8);
    }
  });

  it('has mean and variance λ for small, medium and large λ', () => {
    const rng = new Xoshiro128(7);
    for (const mean of [0.05, 0.7, 3, 9.99, 10, 42, 1200, 108_000]) {
      const n = mean < 100 ? 40_000 : 20_000;
      let sum = 0;
      let sumSq = 0;
      for (let i = 0; i < n; i += 1) {
        const k = poisson(rng, mean);
        expect(Number.isInteger(k) && k >= 0).toBe(true);
        sum += k;
        sumSq += k * k;
      }
      const m = sum / n;
      const v = sumSq / n - m * m;
      const se = Math.sqrt(mean / n);
      expect(Math.abs(m - mean), `mean at λ=${mean}`).toBeLessThan(4 * se + 1e-9);
      expect(Math.abs(v / mean - 1), `variance at λ=${mean}`).toBeLessThan(0.05);
    }
    expect(poisson(rng, 0)).toBe(0);
  });

  it('matches the Poisson probabilities at λ = 12 (the rejection branch)', () => {
    const rng = new Xoshiro128(11);
    const n = 100_000;
    const hits = new Map<number, number>();
    for (let i = 0; i < n; i += 1) {
      const k = poisson(rng, 12);
      hits.set(k, (hits.get(k) ?? 0) + 1);
    }
    for (const k of [4, 8, 12, 16, 20]) {
      const p = Math.exp(-12 + k * Math.log(12) - logFactorial(k));
      const observed = (hits.get(k) ?? 0) / n;
      expect(Math.abs(observed - p), `P(${k})`).toBeLessThan(4 * Math.sqrt((p * (1 - p)) / n) + 1e-4);
    }
  });
});

describe('traces', () => {
  it('splits requests by the real share and fails them at each backend’s rate', () => {
    const s = {
      rps: 1000,
      baseline: 0.01,
      multiplier: 3,
      weights: constantWeights(0.1, 50),
      intervalSeconds: 60,
      shareBias: 1.2,
    };
    const trace = new Float64Array(50 * FIELDS);
    generateTrace(rngFor(1, 1, 1), s, trace);
    let nc = 0;
    let x = 0;
    let ns = 0;
    let y = 0;
    for (let i = 0; i < 50; i += 1) {
      nc += trace[i * FIELDS] ?? 0;
      x += trace[i * FIELDS + 1] ?? 0;
      ns += trace[i * FIELDS + 2] ?? 0;
      y += trace[i * FIELDS + 3] ?? 0;
    }
    expect(nc / (nc + ns)).toBeCloseTo(0.12, 2);
    expect((nc + ns) / (50 * 60)).toBeCloseTo(1000, -1);
    expect(x / nc).toBeCloseTo(0.03, 2);
    expect(y / ns).toBeCloseTo(0.01, 2);
  });

  it('applies an incident to both backends only while it lasts', () => {
    const s = {
      rps: 1000,
      baseline: 0.001,
      multiplier: 1,
      weights: stagedWeights([0.1, 0.5], 5),
      intervalSeconds: 60,
      incident: { from: 3, to: 6, factor: 50 },
    };
    const trace = new Float64Array(10 * FIELDS);
    generateTrace(rngFor(1, 1, 2), s, trace);
    const ratio = (i: number, offset: number) =>
      (trace[i * FIELDS + offset + 1] ?? 0) / (trace[i * FIELDS + offset] ?? 1);
    expect(ratio(4, 0)).toBeGreaterThan(0.02);
    expect(ratio(4, 2)).toBeGreaterThan(0.02);
    expect(ratio(8, 2)).toBeLessThan(0.01);
  });
});

describe('Flagger-style rule', () => {
  it('rolls back at the fifth failed check and skips checks with too few requests', () => {
    const trace = new Float64Array(8 * FIELDS);
    const set = (i: number, requests: number, errors: number) => {
      trace[i * FIELDS] = requests;
      trace[i * FIELDS + 1] = errors;
    };
    set(0, 1000, 20); // fail 1
    set(1, 50, 50); // skipped: < 100 requests
    set(2, 1000, 10); // exactly 99%: not below, passes
    set(3, 1000, 11); // fail 2
    set(4, 1000, 30); // fail 3
    set(5, 1000, 30); // fail 4
    set(6, 1000, 30); // fail 5 → roll back after interval 7
    set(7, 1000, 30);
    expect(FLAGGER_RULE).toEqual({ minSuccessRate: 0.99, failureLimit: 5, minRequests: 100 });
    expect(thresholdRollbackAt(trace, 8, FLAGGER_RULE)).toBe(7);
    expect(thresholdRollbackAt(trace, 6, FLAGGER_RULE)).toBe(0);
  });
});

describe('Wald bound', () => {
  it('is log(1/α) over the expected log-likelihood ratio per interval', () => {
    const s = {
      rps: 20,
      baseline: 0.001,
      multiplier: 5,
      weights: constantWeights(0.1, 20),
      intervalSeconds: 60,
    };
    const mu = 20 * 60 * 0.001;
    const kl = mu * (0.5 * Math.log(5) - 1.4 * Math.log(1.4));
    const w = waldBound(s, 0.01);
    expect(w?.intervals).toBeCloseTo(Math.log(100) / kl, 6);
    expect(w?.canaryErrors).toBeCloseTo((Math.log(100) / kl) * 20 * 60 * 0.1 * 0.005, 6);
    expect(waldBound({ ...s, multiplier: 1 }, 0.01)).toBeNull();
  });

  it('the known-θ test rejects when its log-likelihood ratio reaches log(1/α)', () => {
    const trace = new Float64Array(3 * FIELDS);
    trace.set([1000, 5, 9000, 45, 1000, 40, 9000, 40, 1000, 40, 9000, 40]);
    expect(oracleRollbackAt(trace, 1, 5, 0.01)).toBe(0);
    expect(oracleRollbackAt(trace, 3, 5, 0.01)).toBe(2);
  });
});

describe('table helpers', () => {
  it('nearest-rank quantiles and aligned columns', () => {
    expect(quantile([1, 2, 3, 4], 0.5)).toBe(2);
    expect(quantile([1, 2, 3, 4], 0.9)).toBe(4);
    expect(quantile([1, 2, Number.POSITIVE_INFINITY], 0.5)).toBe(2);
    expect(formatTable(['a', 'bb'], [['xyz', '1']]).split('\n')).toEqual(['a    bb', '---  --', 'xyz   1']);
  });
});
