/**
 * The comparison on seeded simulated traffic: valid under optional stopping (checked every
 * interval for hours), one-sided, immune to a real split that differs from the nominal weight
 * and to an incident shared by both backends across weight stages. Each validity claim comes
 * with a control showing the simulation would catch the naive procedure.
 */
import { describe, expect, it } from 'vitest';
import { constantWeights, type Scenario, stagedWeights } from '../../../bench/analysis/traces.ts';
import {
  addIntervalInPlace,
  DEFAULT_PRIOR,
  intervalShare,
  logMixture,
} from '../../../functions/core/analysis/sequential.ts';
import {
  ALPHA,
  countsAt,
  rollbackRate,
  rollsBackWith,
  scenario,
  tolerance,
} from '../../support/simulation.ts';

const sequentialRollsBack = rollsBackWith(DEFAULT_PRIOR);

/** Control: the same mixture but with p0 from the nominal weight instead of the actual counts. */
function nominalShareRollsBack(weights: readonly number[]) {
  return (trace: Float64Array, intervals: number): boolean => {
    const sums = new Float64Array(DEFAULT_PRIOR.logTheta.length);
    for (let i = 0; i < intervals; i += 1) {
      const c = countsAt(trace, i);
      if (c.canaryErrors + c.stableErrors === 0) continue;
      addIntervalInPlace(sums, DEFAULT_PRIOR, weights[i] ?? 0, c.canaryErrors, c.stableErrors);
      if (logMixture(sums, DEFAULT_PRIOR) >= Math.log(1 / ALPHA)) return true;
    }
    return false;
  };
}

/** Control: the same mixture on counts pooled since the start (one p0 for all stages). */
function pooledRollsBack(trace: Float64Array, intervals: number): boolean {
  const total = { canaryRequests: 0, canaryErrors: 0, stableRequests: 0, stableErrors: 0 };
  for (let i = 0; i < intervals; i += 1) {
    const c = countsAt(trace, i);
    total.canaryRequests += c.canaryRequests;
    total.canaryErrors += c.canaryErrors;
    total.stableRequests += c.stableRequests;
    total.stableErrors += c.stableErrors;
    const share = intervalShare(total);
    if (!('p0' in share)) continue;
    const sums = new Float64Array(DEFAULT_PRIOR.logTheta.length);
    addIntervalInPlace(sums, DEFAULT_PRIOR, share.p0, total.canaryErrors, total.stableErrors);
    if (logMixture(sums, DEFAULT_PRIOR) >= Math.log(1 / ALPHA)) return true;
  }
  return false;
}

/** Control: a one-sided two-proportion z-test on cumulative counts, repeated every interval. */
function repeatedZTestRollsBack(trace: Float64Array, intervals: number): boolean {
  let nc = 0;
  let x = 0;
  let ns = 0;
  let y = 0;
  for (let i = 0; i < intervals; i += 1) {
    const c = countsAt(trace, i);
    nc += c.canaryRequests;
    x += c.canaryErrors;
    ns += c.stableRequests;
    y += c.stableErrors;
    const pooled = (x + y) / (nc + ns);
    if (nc === 0 || ns === 0 || pooled === 0) continue;
    const z = (x / nc - y / ns) / Math.sqrt(pooled * (1 - pooled) * (1 / nc + 1 / ns));
    if (z >= 2.326) return true; // one-sided 1% critical value
  }
  return false;
}

describe('validity under optional stopping', () => {
  it('healthy canaries checked every minute for 4 hours: false rollbacks ≤ α', () => {
    const runs = 1500;
    const cases: Scenario[] = [
      scenario({ rps: 20, baseline: 0.01, weights: constantWeights(0.1, 240) }),
      scenario({ rps: 2, baseline: 0.01, weights: constantWeights(0.25, 240) }),
      scenario({ rps: 200, baseline: 0.001, weights: stagedWeights([0.05, 0.1, 0.25, 0.5], 60) }),
    ];
    cases.forEach((s, k) => {
      const rate = rollbackRate(s, runs, 100 + k, sequentialRollsBack);
      expect(rate, `case ${k}: ${rate}`).toBeLessThanOrEqual(tolerance(runs));
    });
  });

  it('control: a z-test repeated every minute on the same traces rolls back far more than α', () => {
    const runs = 1500;
    const s = scenario({ rps: 20, baseline: 0.01, weights: constantWeights(0.1, 240) });
    expect(rollbackRate(s, runs, 100, repeatedZTestRollsBack)).toBeGreaterThan(4 * ALPHA);
  });

  it('still detects: a 5× regression at 200 rps / 0.1% is rolled back within 20 minutes', () => {
    const s = scenario({ rps: 200, baseline: 0.001, multiplier: 5, weights: constantWeights(0.1, 20) });
    expect(rollbackRate(s, 500, 200, sequentialRollsBack)).toBeGreaterThan(0.95);
  });
});

describe('one-sided: a better canary is never rolled back', () => {
  it('canaries 2× and 5× better than stable, at every traffic level and schedule', () => {
    let k = 300;
    for (const multiplier of [0.5, 0.2]) {
      for (const rps of [2, 20, 200, 2000]) {
        for (const baseline of [0.001, 0.01]) {
          for (const weights of [constantWeights(0.1, 20), stagedWeights([0.05, 0.1, 0.25, 0.5], 5)]) {
            const s = scenario({ rps, baseline, multiplier, weights });
            k += 1;
            expect(
              rollbackRate(s, 200, k, sequentialRollsBack),
              `×${multiplier} ${rps} rps ${baseline}`,
            ).toBe(0);
          }
        }
      }
    }
  });

  it('…and for hours at low and high traffic', () => {
    for (const [rps, multiplier] of [
      [20, 0.5],
      [2000, 0.5],
      [200, 0.2],
    ] as const) {
      const s = scenario({ rps, multiplier, weights: constantWeights(0.1, 240) });
      expect(rollbackRate(s, 200, 400 + rps, sequentialRollsBack)).toBe(0);
    }
  });
});

describe('actual counts, not the nominal weight', () => {
  it('a real 12% split while the route says 10% does not roll back a healthy canary', () => {
    const runs = 1500;
    const weights = constantWeights(0.1, 20);
    for (const rps of [20, 200, 2000]) {
      const s = scenario({ rps, baseline: 0.01, weights, shareBias: 1.2 });
      expect(rollbackRate(s, runs, 500 + rps, sequentialRollsBack), `${rps} rps`).toBeLessThanOrEqual(
        tolerance(runs),
      );
    }
  });

  it('control: the same test with p0 from the nominal weight rolls most of them back', () => {
    const weights = constantWeights(0.1, 20);
    for (const rps of [200, 2000]) {
      const s = scenario({ rps, baseline: 0.01, weights, shareBias: 1.2 });
      expect(rollbackRate(s, 500, 500 + rps, nominalShareRollsBack(weights)), `${rps} rps`).toBeGreaterThan(
        0.3,
      );
    }
  });
});

describe('shared incident across weight stages', () => {
  // 5→10→25→50%, 5 minutes each; both backends 20× worse in minutes 12–17 (the 25% and 50% stages).
  const weights = stagedWeights([0.05, 0.1, 0.25, 0.5], 5);
  const incident = { from: 12, to: 17, factor: 20 };

  it('does not roll back a healthy canary (no pooling across stages)', () => {
    const runs = 1500;
    for (const [rps, baseline] of [
      [200, 0.001],
      [2000, 0.001],
      [20, 0.01],
    ] as const) {
      const s = scenario({ rps, baseline, weights, incident });
      expect(rollbackRate(s, runs, 600 + rps, sequentialRollsBack), `${rps} rps`).toBeLessThanOrEqual(
        tolerance(runs),
      );
    }
  });

  it('control: the same mixture on counts pooled across stages rolls most of them back', () => {
    const s = scenario({ rps: 200, baseline: 0.001, weights, incident });
    expect(rollbackRate(s, 500, 800, pooledRollsBack)).toBeGreaterThan(0.5);
  });
});
