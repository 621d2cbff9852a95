/** Percentiles from latency histograms: interpolation inside a bucket, edges, empty input. */
import { describe, expect, it } from 'vitest';
import { histogramCount, percentile } from '../../../functions/core/analysis/histogram.ts';

// Buckets: (-∞,10] (10,50] (50,100] (100,500] (500,∞)
const bounds = [10, 50, 100, 500];

describe('percentile', () => {
  it('interpolates linearly inside the bucket that holds the rank', () => {
    const h = { bounds, counts: [0, 900, 90, 10, 0] };
    expect(histogramCount(h)).toBe(1000);
    expect(percentile(h, 0.5)).toBeCloseTo(10 + 40 * (500 / 900), 9);
    expect(percentile(h, 0.99)).toBe(100);
    expect(percentile(h, 0.995)).toBeCloseTo(100 + 400 * (5 / 10), 9);
    expect(percentile(h, 1)).toBe(500);
  });

  it('answers the first bound for the underflow bucket and the last bound for the overflow bucket', () => {
    expect(percentile({ bounds, counts: [10, 0, 0, 0, 0] }, 0.99)).toBe(10);
    expect(percentile({ bounds, counts: [0, 0, 0, 0, 7] }, 0.5)).toBe(500);
  });

  it('is null for an empty histogram or one without bounds', () => {
    expect(percentile({ bounds, counts: [0, 0, 0, 0, 0] }, 0.99)).toBeNull();
    expect(percentile({ bounds: [], counts: [5] }, 0.99)).toBeNull();
  });

  it('never decreases as the quantile grows', () => {
    const h = { bounds, counts: [3, 40, 17, 9, 2] };
    let last = Number.NEGATIVE_INFINITY;
    for (let q = 0.01; q <= 1; q += 0.01) {
      const p = percentile(h, q) ?? Number.NaN;
      expect(p).toBeGreaterThanOrEqual(last);
      last = p;
    }
  });
});
