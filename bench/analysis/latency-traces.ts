/**
 * Seeded latency histograms: request latencies log-normal around a median, counted into
 * exponential buckets like Cloud Run's request_latencies (bounds 1 ms × 1.4^k). A backend's
 * count in each bucket is Poisson (thinning of Poisson arrivals), so a window's histogram is
 * drawn bucket by bucket. A canary "p99 k×" has every latency multiplied by k.
 */
import type { LatencyHistogram } from '../../functions/core/analysis/verdict.ts';
import { poisson } from './poisson.ts';
import type { Rng } from './prng.ts';

/** Finite bucket bounds in ms: 1 × 1.4^k for k = 0…44 (up to about 2.7 million ms). */
export const LATENCY_BOUNDS: readonly number[] = Array.from({ length: 45 }, (_, k) =>
  Number((1.4 ** k).toPrecision(12)),
);

export interface LatencyModel {
  readonly medianMs: number;
  /** Standard deviation of log latency. */
  readonly sigma: number;
}

/** Stable's latency in the benchmark: median 100 ms, σ 0.6 (p99 ≈ 400 ms). */
export const STABLE_LATENCY: LatencyModel = { medianMs: 100, sigma: 0.6 };

/** Standard normal CDF (Abramowitz & Stegun 7.1.26 for erf, |error| < 1.5e-7). */
function normalCdf(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const poly =
    t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  const erf = 1 - poly * Math.exp(-x * x);
  return z >= 0 ? (1 + erf) / 2 : (1 - erf) / 2;
}

/** Probability of each bucket (bounds.length + 1 of them) for latencies of `model` multiplied by `factor`. */
export function bucketProbabilities(model: LatencyModel, factor = 1): number[] {
  const mu = Math.log(model.medianMs * factor);
  const cdf = LATENCY_BOUNDS.map((b) => normalCdf((Math.log(b) - mu) / model.sigma));
  return [...cdf, 1].map((c, i) => c - (i === 0 ? 0 : (cdf[i - 1] ?? 0)));
}

/** One window's histogram for `requests` expected requests with bucket probabilities `p`. */
export function drawHistogram(rng: Rng, requests: number, p: readonly number[]): LatencyHistogram {
  const counts = p.map((q) => (q * requests > 1e-9 ? poisson(rng, q * requests) : 0));
  return { bounds: LATENCY_BOUNDS, counts };
}
