/**
 * Anytime-valid, one-sided comparison of the canary's latency with stable's, from the bucketed
 * latency histograms Monitoring returns.
 *
 * A request is "slow" when it took longer than a threshold τ: the bucket bound nearest to
 * stable's p99, fixed from the first window whose stable histogram has enough requests and
 * never judged with that window, so τ does not depend on the data it judges. If the canary is
 * no slower than stable at τ (P(canary > τ) ≤ P(stable > τ)), each slow request lands on the
 * canary with probability at most p0, the canary's share of the requests. That is the 5xx
 * comparison with slow requests for errors, and τ being a bucket bound of both histograms
 * makes the counts exact. Slowness comes in bursts (a GC pause, a cold start, a slow
 * dependency), so the per-period bets of bursts.ts are used whatever `errors` says. A faster
 * canary puts fewer slow requests on its side and loses evidence: one-sided.
 *
 * The judge averages this e-process with the 5xx one (default-judge.ts): the average of two
 * nonnegative supermartingales on the same windows is one, so rolling back when the average
 * reaches 1/α keeps the total false-rollback chance at α.
 */
import { DEFAULT_BETS } from './bursts.ts';
import { histogramCount, percentile } from './histogram.ts';
import { type SequentialStep, sequentialStep } from './sequential.ts';
import { LATENCY_KEYS, readSequentialState, writeSequentialState } from './sequential-state.ts';
import type { JudgeState, LatencyHistogram, Measurement } from './verdict.ts';

/** The quantile of stable's latency the threshold sits at. */
export const LATENCY_QUANTILE = 0.99;
/** Stable requests a histogram needs before the threshold is taken from it. */
export const MIN_THRESHOLD_REQUESTS = 500;

const THRESHOLD_KEY = 'latThresholdMs';

/** The finite bucket bound nearest to the histogram's LATENCY_QUANTILE, or null with too few requests. */
export function thresholdFrom(h: LatencyHistogram): number | null {
  if (histogramCount(h) < MIN_THRESHOLD_REQUESTS) return null;
  const q = percentile(h, LATENCY_QUANTILE);
  if (q === null) return null;
  let best: number | null = null;
  for (const bound of h.bounds) {
    if (Number.isFinite(bound) && (best === null || Math.abs(bound - q) < Math.abs(best - q))) best = bound;
  }
  return best;
}

/** Requests in the histogram, and those slower than `thresholdMs` (null when it is not one of its bounds). */
export function slowCount(h: LatencyHistogram, thresholdMs: number): { total: number; slow: number } | null {
  const at = h.bounds.indexOf(thresholdMs);
  if (at < 0) return null;
  let slow = 0;
  // counts[i] covers [bounds[i-1], bounds[i]): the requests above bounds[at] are in counts[at + 1…].
  for (let i = at + 1; i < h.counts.length; i += 1) slow += h.counts[i] ?? 0;
  return { total: histogramCount(h), slow };
}

export interface LatencyComparison {
  /** The comparison after this window (unchanged when the window could not be compared). */
  readonly step: SequentialStep;
  readonly thresholdMs: number | null;
  /** Why this window did not count, or null. */
  readonly note: string | null;
  readonly state: JudgeState;
}

export function latencyComparison(
  m: Measurement,
  previous: JudgeState | null,
  alpha: number,
): LatencyComparison {
  const stored = readSequentialState(previous, LATENCY_KEYS);
  const kept = previous?.[THRESHOLD_KEY];
  const threshold = typeof kept === 'number' ? kept : null;
  const done = (
    step: SequentialStep,
    thresholdMs: number | null,
    note: string | null,
  ): LatencyComparison => ({
    step,
    thresholdMs,
    note,
    state: { ...writeSequentialState(step.state, LATENCY_KEYS), [THRESHOLD_KEY]: thresholdMs },
  });
  const unchanged = () => sequentialStep(stored, null, alpha, DEFAULT_BETS);
  const canary = m.canary.kind === 'data' ? m.canary.latency : null;
  const stable = m.stable.kind === 'data' ? m.stable.latency : null;
  if (canary === null || stable === null) {
    return done(unchanged(), threshold, 'no latency histogram for both backends this window');
  }
  if (threshold === null) {
    const chosen = thresholdFrom(stable);
    const note =
      chosen === null
        ? `fewer than ${MIN_THRESHOLD_REQUESTS} stable requests to place the latency threshold`
        : `latency threshold set at ${chosen} ms (stable p99); compared from the next window`;
    return done(unchanged(), chosen, note);
  }
  const c = slowCount(canary, threshold);
  const s = slowCount(stable, threshold);
  if (c === null || s === null) {
    return done(unchanged(), threshold, `the histograms have no bucket bound at ${threshold} ms this window`);
  }
  const counts = {
    canaryRequests: c.total,
    canaryErrors: c.slow,
    stableRequests: s.total,
    stableErrors: s.slow,
  };
  return done(sequentialStep(stored, counts, alpha, DEFAULT_BETS), threshold, null);
}
