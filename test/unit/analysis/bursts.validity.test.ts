/**
 * The per-period bets (bursts.ts): each period's bet is fair when errors come in clusters of any
 * size, so the mixture stays valid under optional stopping with independent errors and with
 * bursts (mean sizes 3 and 10) on either backend, where the per-error mixture is not; one-sided;
 * and it still detects real regressions.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { constantWeights, type Scenario, stagedWeights } from '../../../bench/analysis/traces.ts';
import { betGrid, DEFAULT_BETS } from '../../../functions/core/analysis/bursts.ts';
import { DEFAULT_PRIOR } from '../../../functions/core/analysis/sequential.ts';
import { ALPHA, rollbackRate, rollsBackWith, scenario, tolerance } from '../../support/simulation.ts';

const betsRollBack = rollsBackWith(DEFAULT_BETS);
const perErrorRollsBack = rollsBackWith(DEFAULT_PRIOR);

/** Each component's factor for one period: exp of what addInterval adds to a zero sum. */
function factors(p0: number, canaryErrors: number, stableErrors: number): number[] {
  const sums = DEFAULT_BETS.logWeight.map(() => 0);
  DEFAULT_BETS.addInterval(sums, p0, canaryErrors, stableErrors);
  return sums.map(Math.exp);
}

describe('one period: a fair bet whatever the cluster sizes', () => {
  it('one cluster of any size, on the canary with probability p0: expected factor exactly 1', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0.01, max: 0.99, noNaN: true }),
        fc.integer({ min: 1, max: 100_000 }),
        (p0, n) => {
          const onCanary = factors(p0, n, 0);
          const onStable = factors(p0, 0, n);
          onCanary.forEach((f, j) => {
            expect(p0 * f + (1 - p0) * (onStable[j] ?? 0)).toBeCloseTo(1, 9);
            expect(f).toBeLessThanOrEqual(1 / p0 + 1e-9);
          });
        },
      ),
      { seed: 11, numRuns: 300 },
    );
  });

  it('clusters of several sizes landing independently: expected factor exactly 1 (enumerated)', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0.02, max: 0.98, noNaN: true }),
        fc.array(fc.integer({ min: 1, max: 50 }), { minLength: 1, maxLength: 6 }),
        (p0, sizes) => {
          const expected = DEFAULT_BETS.logWeight.map(() => 0);
          for (let mask = 0; mask < 1 << sizes.length; mask += 1) {
            let x = 0;
            let y = 0;
            let probability = 1;
            sizes.forEach((s, k) => {
              const canary = (mask >> k) & 1;
              x += canary ? s : 0;
              y += canary ? 0 : s;
              probability *= canary ? p0 : 1 - p0;
            });
            factors(p0, x, y).forEach((f, j) => {
              expected[j] = (expected[j] ?? 0) + probability * f;
            });
          }
          for (const e of expected) expect(e).toBeCloseTo(1, 9);
        },
      ),
      { seed: 12, numRuns: 200 },
    );
  });

  it('keeps every sum finite, even when a huge period lands wholly on stable', () => {
    for (const f of factors(0.5, 0, 10_000_000)) {
      expect(Number.isFinite(Math.log(f))).toBe(true);
    }
  });

  it('refuses stakes outside (0, 1) and growth outside [0, 1]', () => {
    expect(() => betGrid({ stakes: [1], growth: 0 })).toThrow(RangeError);
    expect(() => betGrid({ stakes: [0.5], growth: 2 })).toThrow(RangeError);
  });
});

const bursty = (burstMean: number, over: Partial<Scenario> & Pick<Scenario, 'weights'>): Scenario =>
  scenario({ ...over, burstMean });

describe('validity under optional stopping, with independent and clustered errors', () => {
  const runs = 1500;
  const cases: readonly (readonly [string, Scenario])[] = [
    [
      'independent, 20 rps, 1%, 4 h',
      scenario({ rps: 20, baseline: 0.01, weights: constantWeights(0.1, 240) }),
    ],
    [
      'bursts of 3, 200 rps, 1%, 1 h',
      bursty(3, { rps: 200, baseline: 0.01, weights: constantWeights(0.1, 60) }),
    ],
    [
      'bursts of 10, 200 rps, 0.1%, staged, 1 h',
      bursty(10, { rps: 200, baseline: 0.001, weights: stagedWeights([0.05, 0.1, 0.25, 0.5], 15) }),
    ],
    [
      'bursts of 10, 2000 rps, 1%, 1 h',
      bursty(10, { rps: 2000, baseline: 0.01, weights: constantWeights(0.1, 60) }),
    ],
  ];

  cases.forEach(([name, s], k) => {
    it(`healthy canaries checked every minute (${name}): false rollbacks ≤ α`, () => {
      expect(rollbackRate(s, runs, 700 + k, betsRollBack)).toBeLessThanOrEqual(tolerance(runs));
    });
  });

  it('control: the per-error mixture rolls back far more than α on the same bursty traces', () => {
    const s = cases[1]?.[1] as Scenario;
    expect(rollbackRate(s, 500, 701, perErrorRollsBack)).toBeGreaterThan(5 * ALPHA);
  });
});

describe('one-sided: a better canary is not rolled back', () => {
  it('canaries 2× and 5× better, independent and bursty errors, every traffic level', () => {
    let k = 800;
    for (const multiplier of [0.5, 0.2]) {
      for (const rps of [2, 20, 200, 2000]) {
        for (const burstMean of [1, 10]) {
          k += 1;
          const s = bursty(burstMean, { rps, baseline: 0.01, multiplier, weights: constantWeights(0.1, 60) });
          expect(rollbackRate(s, 200, k, betsRollBack), `×${multiplier} ${rps} rps bursts ${burstMean}`).toBe(
            0,
          );
        }
      }
    }
  });
});

describe('power', () => {
  it('a 20× regression at 200 rps / 0.1% is rolled back within 5 minutes; 5× within 20', () => {
    const fast = scenario({ rps: 200, baseline: 0.001, multiplier: 20, weights: constantWeights(0.1, 5) });
    expect(rollbackRate(fast, 500, 900, betsRollBack)).toBeGreaterThan(0.99);
    const slow = scenario({ rps: 200, baseline: 0.001, multiplier: 5, weights: constantWeights(0.1, 20) });
    expect(rollbackRate(slow, 500, 901, betsRollBack)).toBeGreaterThan(0.95);
  });

  it('a canary-only retry storm (20× its errors, in bursts of 10) is rolled back', () => {
    const s = bursty(10, { rps: 200, baseline: 0.01, multiplier: 20, weights: constantWeights(0.1, 10) });
    expect(rollbackRate(s, 500, 902, betsRollBack)).toBeGreaterThan(0.95);
  });
});
