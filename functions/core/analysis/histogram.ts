/**
 * Percentiles from a latency histogram, interpolating linearly inside the bucket that holds
 * the rank; the result is exact to the resolution of the buckets.
 */
import type { LatencyHistogram } from './verdict.ts';

export function histogramCount(h: LatencyHistogram): number {
  return h.counts.reduce((sum, c) => sum + c, 0);
}

/** `q` in (0, 1]; null when the histogram is empty. */
export function percentile(h: LatencyHistogram, q: number): number | null {
  const total = histogramCount(h);
  if (total === 0 || h.bounds.length === 0) return null;
  const rank = q * total;
  let seen = 0;
  for (let i = 0; i < h.counts.length; i += 1) {
    const count = h.counts[i] ?? 0;
    if (count > 0 && seen + count >= rank) {
      if (i === 0) return h.bounds[0] ?? null;
      const lower = h.bounds[i - 1] ?? 0;
      const upper = h.bounds[i];
      if (upper === undefined) return lower;
      return lower + ((upper - lower) * (rank - seen)) / count;
    }
    seen += count;
  }
  return h.bounds[h.bounds.length - 1] ?? null;
}
