/** Weighted destination choice of the local mesh (pure, with a given random source). */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  chooseDestination,
  destinationShares,
  effectiveWeights,
  pickIndex,
  seededRandom,
} from '../../../local/mesh/weights.ts';

/** Draws i/n for i = 0…n−1: a perfectly even sweep over [0, 1). */
function sweep(n: number): () => number {
  let i = 0;
  return () => {
    const draw = i / n;
    i += 1;
    return draw;
  };
}

const weightLists = fc.array(fc.integer({ min: 0, max: 1000 }), { minLength: 1, maxLength: 6 });

describe('weights', () => {
  it('splits equally when no destination has a weight, and gives a lone destination everything', () => {
    expect(destinationShares([{}, {}])).toEqual([0.5, 0.5]);
    expect(destinationShares([{ weight: 0 }, { weight: 0 }, { weight: null }])).toEqual([
      1 / 3,
      1 / 3,
      1 / 3,
    ]);
    expect(destinationShares([{ weight: 7 }])).toEqual([1]);
    expect(destinationShares([{ weight: 90 }, { weight: 10 }])).toEqual([0.9, 0.1]);
    expect(destinationShares([{ weight: 3 }, { weight: 1 }])).toEqual([0.75, 0.25]);
  });

  it('gives nothing to unweighted destinations of a weighted list', () => {
    expect(effectiveWeights([{ weight: 100 }, {}, { weight: 0 }])).toEqual([100, 0, 0]);
  });

  it('returns null for no destinations and the only one without drawing', () => {
    const never = (): number => {
      throw new Error('drew');
    };
    expect(chooseDestination([], never)).toBeNull();
    expect(chooseDestination([{ weight: 0 }], never)).toEqual({ weight: 0 });
  });

  it('property: an even sweep of draws lands on each destination in proportion to its weight', () => {
    fc.assert(
      fc.property(weightLists, fc.integer({ min: 1, max: 400 }), (weights, scale) => {
        const destinations = weights.map((weight, i) => ({ serviceName: `b${i}`, weight }));
        const n = scale * 50;
        const random = sweep(n);
        const counts = new Map<string, number>();
        for (let i = 0; i < n; i += 1) {
          const d = chooseDestination(destinations, random);
          if (d === null) throw new Error('no destination');
          counts.set(d.serviceName, (counts.get(d.serviceName) ?? 0) + 1);
        }
        const shares = destinationShares(destinations);
        destinations.forEach((d, i) => {
          const got = counts.get(d.serviceName) ?? 0;
          // Each destination owns one interval of [0, 1); an even sweep hits it share·n times ± 1.
          expect(Math.abs(got - (shares[i] ?? 0) * n)).toBeLessThanOrEqual(1);
        });
      }),
    );
  });

  it('property: a zero-weight destination of a weighted list is never picked, whatever the draw', () => {
    fc.assert(
      fc.property(weightLists, fc.double({ min: 0, max: 1, noNaN: true }), (weights, draw) => {
        fc.pre(weights.some((w) => w > 0));
        const index = pickIndex(effectiveWeights(weights.map((weight) => ({ weight }))), draw);
        expect(weights[index]).toBeGreaterThan(0);
      }),
    );
  });

  it('property: shares are non-negative and sum to 1', () => {
    fc.assert(
      fc.property(weightLists, (weights) => {
        const shares = destinationShares(weights.map((weight) => ({ weight })));
        expect(shares.every((s) => s >= 0)).toBe(true);
        expect(shares.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
      }),
    );
  });

  it('seeded sources repeat and stay in [0, 1)', () => {
    const a = seededRandom(42);
    const b = seededRandom(42);
    const draws = Array.from({ length: 1000 }, () => a());
    expect(Array.from({ length: 1000 }, () => b())).toEqual(draws);
    expect(draws.every((x) => x >= 0 && x < 1)).toBe(true);
  });
});
