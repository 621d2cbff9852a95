/**
 * Seeded traffic traces: Poisson arrivals at a total rate, split between the backends by the
 * real canary share, each request failing (5xx) independently with its backend's error rate.
 * By Poisson thinning, a backend's errors and successes in an interval are independent Poisson
 * counts, which is what is drawn; requests = errors + successes.
 */
import { poisson } from './poisson.ts';
import type { Rng } from './prng.ts';

export interface Incident {
  /** First affected interval (0-based) and the first one after it. */
  readonly from: number;
  readonly to: number;
  /** Both backends' error rates are multiplied by this while it lasts. */
  readonly factor: number;
}

export interface Scenario {
  /** Total requests per second over both backends. */
  readonly rps: number;
  /** Stable's 5xx probability per request. */
  readonly baseline: number;
  /** Canary error rate ÷ stable error rate (1 = healthy, below 1 = better). */
  readonly multiplier: number;
  /** Nominal canary weight (0–1) of each interval; its length is the number of intervals. */
  readonly weights: readonly number[];
  readonly intervalSeconds: number;
  /** Real canary share ÷ nominal weight (1.2: a 12% split while the route says 10%). */
  readonly shareBias?: number;
  readonly incident?: Incident;
  /**
   * Mean size of an error burst (absent or 1: independent errors). Errors then come as bursts
   * whose number is Poisson and whose sizes are geometric with this mean, each burst landing
   * wholly on one backend: the same expected errors, far more spread out.
   */
  readonly burstMean?: number;
}

/** Values per interval in a trace: canary requests, canary errors, stable requests, stable errors. */
export const FIELDS = 4;

export function traceLength(s: Scenario): number {
  return s.weights.length * FIELDS;
}

/** Draws one trace into `out` (length ≥ traceLength(s)). */
export function generateTrace(rng: Rng, s: Scenario, out: Float64Array): void {
  const perInterval = s.rps * s.intervalSeconds;
  const bias = s.shareBias ?? 1;
  const canaryRate = Math.min(1, s.baseline * s.multiplier);
  for (let i = 0; i < s.weights.length; i += 1) {
    const share = Math.min(1, (s.weights[i] ?? 0) * bias);
    const factor = s.incident && i >= s.incident.from && i < s.incident.to ? s.incident.factor : 1;
    const rc = Math.min(1, canaryRate * factor);
    const rs = Math.min(1, s.baseline * factor);
    const meanCanary = perInterval * share;
    const meanStable = perInterval - meanCanary;
    const x = errors(rng, meanCanary * rc, s.burstMean ?? 1);
    const y = errors(rng, meanStable * rs, s.burstMean ?? 1);
    out[i * FIELDS] = x + poisson(rng, meanCanary * (1 - rc));
    out[i * FIELDS + 1] = x;
    out[i * FIELDS + 2] = y + poisson(rng, meanStable * (1 - rs));
    out[i * FIELDS + 3] = y;
  }
}

/** Errors of one backend in one interval: Poisson, or Poisson bursts of geometric size with mean `burstMean`. */
function errors(rng: Rng, mean: number, burstMean: number): number {
  if (burstMean <= 1) return poisson(rng, mean);
  const bursts = poisson(rng, mean / burstMean);
  const logStay = Math.log(1 - 1 / burstMean);
  let total = 0;
  for (let b = 0; b < bursts; b += 1) total += 1 + Math.floor(Math.log(1 - rng.next()) / logStay);
  return total;
}

/** Nominal weights for a schedule of stages: `stages` weights, each held `perStage` intervals. */
export function stagedWeights(stages: readonly number[], perStage: number): number[] {
  return stages.flatMap((w) => Array.from({ length: perStage }, () => w));
}

export function constantWeights(weight: number, intervals: number): number[] {
  return Array.from({ length: intervals }, () => weight);
}
