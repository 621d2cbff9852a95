/**
 * The lower bound: Wald's sequential probability ratio test of θ = 1 against the true θ,
 * knowing θ (which no real test does). With errors conditioned per interval as in the project's
 * test, the expected log-likelihood ratio an interval adds is
 *
 *     KL_i = E[x]·log θ − E[x + y]·log(θ·p0 + 1 − p0)
 *          = μ_i·[θ·p0·log θ − (θ·p0 + 1 − p0)·log(θ·p0 + 1 − p0)],   μ_i = stable-rate errors of all requests
 *
 * and by Wald's identity a test that only stops to reject at level α needs, on average, enough
 * intervals for Σ KL_i to reach log(1/α) (ignoring overshoot, which only adds). Wald's expected
 * time is that point (fractional intervals); expected canary errors and requests are those
 * served until then. `oracleRollbackAt` runs the same known-θ test on a simulated trace.
 */
import { FIELDS, type Scenario } from './traces.ts';

export interface WaldBound {
  /** Expected intervals to reject (fractional); beyond the scenario the last weight is held. */
  readonly intervals: number;
  readonly canaryErrors: number;
  readonly canaryRequests: number;
}

export function waldBound(s: Scenario, alpha: number, maxIntervals = 100_000): WaldBound | null {
  const theta = s.multiplier;
  if (!(theta > 1)) return null;
  const target = Math.log(1 / alpha);
  const perInterval = s.rps * s.intervalSeconds;
  const bias = s.shareBias ?? 1;
  let cumulative = 0;
  let errors = 0;
  let requests = 0;
  const last = s.weights[s.weights.length - 1] ?? 0;
  for (let i = 0; i < maxIntervals; i += 1) {
    const p0 = Math.min(1, (s.weights[i] ?? last) * bias);
    const mu = perInterval * s.baseline;
    const spread = theta * p0 + 1 - p0;
    const kl = mu * (theta * p0 * Math.log(theta) - spread * Math.log(spread));
    const canaryErrors = perInterval * p0 * s.baseline * theta;
    const canaryRequests = perInterval * p0;
    if (cumulative + kl >= target) {
      const fraction = kl > 0 ? (target - cumulative) / kl : 0;
      return {
        intervals: i + fraction,
        canaryErrors: errors + fraction * canaryErrors,
        canaryRequests: requests + fraction * canaryRequests,
      };
    }
    cumulative += kl;
    errors += canaryErrors;
    requests += canaryRequests;
  }
  return null;
}

/** 1-based interval at which the known-θ likelihood ratio test rejects on `trace`, or 0. */
export function oracleRollbackAt(
  trace: Float64Array,
  intervals: number,
  theta: number,
  alpha: number,
): number {
  const target = Math.log(1 / alpha);
  const logTheta = Math.log(theta);
  let sum = 0;
  for (let i = 0; i < intervals; i += 1) {
    const nc = trace[i * FIELDS] ?? 0;
    const x = trace[i * FIELDS + 1] ?? 0;
    const ns = trace[i * FIELDS + 2] ?? 0;
    const y = trace[i * FIELDS + 3] ?? 0;
    if (nc === 0 || ns === 0 || x + y === 0) continue;
    const p0 = nc / (nc + ns);
    sum += x * logTheta - (x + y) * Math.log1p(p0 * (theta - 1));
    if (sum >= target) return i + 1;
  }
  return 0;
}
