/**
 * Anytime-valid, one-sided comparison of the canary's 5xx rate with stable's (after Lindon,
 * Sanden & Shirikian, KDD 2022, and Lindon & Malek, NeurIPS 2022).
 *
 * Given the x + y errors of one interval, each error lands on the canary with probability
 * p0 = n_canary / (n_canary + n_stable) when the canary is no worse than stable; with θ the ratio
 * of canary to stable error rate it lands there with probability θ·p0 / (θ·p0 + 1 − p0). The
 * interval's likelihood ratio of θ against θ = 1 is
 *
 *     LR_i(θ) = θ^x / (θ·p0 + 1 − p0)^(x+y)
 *
 * For any θ > 1 the running product over intervals is a nonnegative supermartingale under every
 * canary that is no worse than stable (θ ≤ 1), whatever p0 each interval has. So is any mixture
 * of those products over a prior on θ > 1, and by Ville's inequality the chance that the mixture
 * ever reaches 1/α is at most α, however often it is looked at. The product is taken inside the
 * mixture (one running sum of log LR_i per grid point), so intervals at different canary weights
 * are never pooled.
 *
 * Everything here is pure: no I/O, no clock, no randomness.
 */

/**
 * A mixture of e-processes: one running sum of log evidence per component, combined with fixed
 * weights. The per-error likelihood ratios below are one kind; the per-period bets of
 * bursts.ts (valid when errors come in clusters) are another.
 */
export interface Mixture {
  /** Stored next to the accumulators: sums made under another mixture are never reused. */
  readonly id: string;
  /** log of each component's weight; the weights sum to 1. */
  readonly logWeight: readonly number[];
  /** Adds one interval's log evidence to each component's sum, in place. */
  addInterval(sums: number[] | Float64Array, p0: number, canaryErrors: number, stableErrors: number): void;
}

/** A discretised prior on log θ over θ > 1: a mixture of per-error likelihood ratios. */
export interface MixturePrior extends Mixture {
  /** log θ of each grid point, increasing and positive. */
  readonly logTheta: readonly number[];
  /** θ − 1 of each grid point (precomputed for the per-interval update). */
  readonly thetaMinusOne: readonly number[];
}

/** The per-error mixture over the given ratios θ (> 1) with the given log weights (normalised here). */
export function thetaMixture(
  id: string,
  logTheta: readonly number[],
  rawLogWeight: readonly number[],
): MixturePrior {
  if (logTheta.length === 0 || logTheta.length !== rawLogWeight.length || !logTheta.every((l) => l > 0)) {
    throw new RangeError('a mixture needs one weight per ratio and every ratio above 1');
  }
  const norm = logSumExp(rawLogWeight);
  const prior: MixturePrior = {
    id,
    logTheta,
    thetaMinusOne: logTheta.map((l) => Math.expm1(l)),
    logWeight: rawLogWeight.map((r) => r - norm),
    addInterval: (sums, p0, x, y) => addIntervalInPlace(sums, prior, p0, x, y),
  };
  return prior;
}

export interface GridPriorOptions {
  /** Smallest canary/stable error-rate ratio on the grid (> 1). */
  readonly minRatio: number;
  /** Largest ratio on the grid. */
  readonly maxRatio: number;
  /** Grid points, evenly spaced in log θ. */
  readonly points: number;
  /**
   * Weight of grid point j is proportional to θ_j^(−decay), a density on log θ falling like
   * exp(−decay·log θ): 0 is log-uniform; positive values lean towards small regressions.
   */
  readonly decay: number;
  /**
   * Optional split: `mass` (0–1) of the prior on the grid points up to `ratio`, the rest on the
   * points above it; `decay` shapes the weights within each part.
   */
  readonly knee?: { readonly ratio: number; readonly mass: number };
}

export function gridPrior(options: GridPriorOptions): MixturePrior {
  const { minRatio, maxRatio, points, decay, knee } = options;
  if (!(minRatio > 1) || !(maxRatio >= minRatio) || !Number.isInteger(points) || points < 1) {
    throw new RangeError('grid prior needs 1 < minRatio <= maxRatio and a positive whole number of points');
  }
  if (!Number.isFinite(decay)) throw new RangeError('grid prior decay must be a finite number');
  const lo = Math.log(minRatio);
  const hi = Math.log(maxRatio);
  const logTheta: number[] = [];
  for (let j = 0; j < points; j += 1) {
    logTheta.push(points === 1 ? lo : lo + ((hi - lo) * j) / (points - 1));
  }
  let raw = logTheta.map((l) => -decay * l);
  if (knee) {
    const cut = Math.log(knee.ratio);
    const below = raw.filter((_, j) => (logTheta[j] ?? 0) <= cut);
    const above = raw.filter((_, j) => (logTheta[j] ?? 0) > cut);
    if (!(knee.mass > 0 && knee.mass < 1) || below.length === 0 || above.length === 0) {
      throw new RangeError('grid prior knee needs 0 < mass < 1 and grid points on both sides of its ratio');
    }
    const lb = Math.log(knee.mass) - logSumExp(below);
    const la = Math.log(1 - knee.mass) - logSumExp(above);
    raw = raw.map((r, j) => r + ((logTheta[j] ?? 0) <= cut ? lb : la));
  }
  return thetaMixture(
    `grid:${minRatio}-${maxRatio}/${points}/decay${decay}${knee ? `/knee${knee.ratio}@${knee.mass}` : ''}`,
    logTheta,
    raw,
  );
}

/**
 * The prior of the per-error mixture (errors "independent"): 40 points evenly spaced in log θ
 * from 1.2× to 100× (neighbours 12% apart), 60% of the mass spread evenly (in log θ) over
 * 1.2–3× and 40% over 3–100×.
 *
 * The mixture's price is the log of 1/(prior mass near the true θ), paid in nats of evidence.
 * Small regressions need minutes of evidence, so most of the mass sits below 3×; a 5× or 20×
 * regression at low traffic is decided on a handful of errors, where every nat counts, and the
 * mass between 2× and 3× that the previous split (60% on 1.2–2×) lacked is what lets it detect
 * those as often as the reference mixture (uniform over φ = θ/(1+θ)) while staying within five
 * points of the previous split at 1.5–2×. docs/analysis.md has the benchmark.
 */
export const DEFAULT_PRIOR: MixturePrior = gridPrior({
  minRatio: 1.2,
  maxRatio: 100,
  points: 40,
  decay: 0,
  knee: { ratio: 3, mass: 0.6 },
});

/** One interval's counts; errors are the subset of requests that answered 5xx. */
export interface IntervalCounts {
  readonly canaryRequests: number;
  readonly canaryErrors: number;
  readonly stableRequests: number;
  readonly stableErrors: number;
}

export type IntervalSkip = 'noErrors' | 'noCanaryRequests' | 'noStableRequests' | 'invalidCounts';

/**
 * The canary's share of this interval's requests, or why the interval carries no evidence:
 * no errors on either side, a backend without requests, or counts that are not finite,
 * negative, or with more errors than requests.
 */
export function intervalShare(c: IntervalCounts): { readonly p0: number } | { readonly skip: IntervalSkip } {
  const { canaryRequests: nc, canaryErrors: x, stableRequests: ns, stableErrors: y } = c;
  if (
    !Number.isFinite(nc) ||
    !Number.isFinite(ns) ||
    !Number.isFinite(x) ||
    !Number.isFinite(y) ||
    nc < 0 ||
    ns < 0 ||
    x < 0 ||
    y < 0 ||
    x > nc ||
    y > ns
  ) {
    return { skip: 'invalidCounts' };
  }
  if (nc === 0) return { skip: 'noCanaryRequests' };
  if (ns === 0) return { skip: 'noStableRequests' };
  if (x + y === 0) return { skip: 'noErrors' };
  return { p0: nc / (nc + ns) };
}

/**
 * Adds log LR_i(θ_j) of one interval to `sums[j]` for every grid point, in place.
 * `p0` must come from `intervalShare` of the same counts.
 */
export function addIntervalInPlace(
  sums: number[] | Float64Array,
  prior: MixturePrior,
  p0: number,
  canaryErrors: number,
  stableErrors: number,
): void {
  const total = canaryErrors + stableErrors;
  const logTheta = prior.logTheta;
  const thetaMinusOne = prior.thetaMinusOne;
  for (let j = 0; j < logTheta.length; j += 1) {
    // log(θ·p0 + 1 − p0) = log1p(p0·(θ − 1)): exact even when p0·(θ − 1) is tiny.
    sums[j] =
      (sums[j] ?? 0) + canaryErrors * (logTheta[j] ?? 0) - total * Math.log1p(p0 * (thetaMinusOne[j] ?? 0));
  }
}

/** log of the mixture e-value Σ_j w_j · exp(sums[j]), by log-sum-exp. */
export function logMixture(
  sums: readonly number[] | Float64Array,
  prior: Pick<Mixture, 'logWeight'>,
): number {
  const logWeight = prior.logWeight;
  let max = Number.NEGATIVE_INFINITY;
  for (let j = 0; j < logWeight.length; j += 1) {
    const v = (logWeight[j] ?? 0) + (sums[j] ?? 0);
    if (v > max) max = v;
  }
  if (max === Number.NEGATIVE_INFINITY) return max;
  let total = 0;
  for (let j = 0; j < logWeight.length; j += 1) total += Math.exp((logWeight[j] ?? 0) + (sums[j] ?? 0) - max);
  return max + Math.log(total);
}

/** The rollback threshold on the log e-value: log(1/α). */
export function logThreshold(alpha: number): number {
  return -Math.log(alpha);
}

/** The accumulators of one rollout's comparison (JSON numbers only). */
export interface SequentialState {
  readonly priorId: string;
  /** Σ over contributing intervals of log LR_i(θ_j), one per grid point. */
  readonly logLik: readonly number[];
  /** Intervals that carried evidence. */
  readonly intervals: number;
  readonly canaryErrors: number;
  readonly stableErrors: number;
  /** Largest log e-value seen so far (the test rejects on the running maximum). */
  readonly peakLogE: number;
}

export function initialSequentialState(prior: Mixture = DEFAULT_PRIOR): SequentialState {
  return {
    priorId: prior.id,
    logLik: prior.logWeight.map(() => 0),
    intervals: 0,
    canaryErrors: 0,
    stableErrors: 0,
    peakLogE: 0,
  };
}

export interface SequentialStep {
  readonly state: SequentialState;
  /** log e-value after this interval. */
  readonly logE: number;
  /** log(1/α). */
  readonly logThreshold: number;
  /** True once the e-value has ever reached 1/α: the canary is worse than stable. */
  readonly rejected: boolean;
  /** This interval's canary share of requests, or null when it was skipped. */
  readonly p0: number | null;
  readonly skip: IntervalSkip | null;
  /** True when the stored accumulators were made under another prior and were started afresh. */
  readonly restarted: boolean;
}

/**
 * Folds one interval into the accumulators. `counts` null means a backend had no metrics:
 * the interval contributes nothing.
 */
export function sequentialStep(
  previous: SequentialState | null,
  counts: IntervalCounts | null,
  alpha: number,
  prior: Mixture = DEFAULT_PRIOR,
): SequentialStep {
  const restarted =
    previous !== null && (previous.priorId !== prior.id || previous.logLik.length !== prior.logWeight.length);
  const base = previous === null || restarted ? initialSequentialState(prior) : previous;
  const threshold = logThreshold(alpha);
  const result = (state: SequentialState, logE: number, p0: number | null, skip: IntervalSkip | null) => ({
    state,
    logE,
    logThreshold: threshold,
    rejected: state.peakLogE >= threshold,
    p0,
    skip,
    restarted,
  });
  const unchangedLogE = base.intervals === 0 ? 0 : logMixture(base.logLik, prior);
  if (counts === null) return result(base, unchangedLogE, null, null);
  const share = intervalShare(counts);
  if ('skip' in share) return result(base, unchangedLogE, null, share.skip);
  const sums = base.logLik.slice();
  prior.addInterval(sums, share.p0, counts.canaryErrors, counts.stableErrors);
  const logE = logMixture(sums, prior);
  const state: SequentialState = {
    priorId: prior.id,
    logLik: sums,
    intervals: base.intervals + 1,
    canaryErrors: base.canaryErrors + counts.canaryErrors,
    stableErrors: base.stableErrors + counts.stableErrors,
    peakLogE: Math.max(base.peakLogE, logE),
  };
  return result(state, logE, share.p0, null);
}

function logSumExp(values: readonly number[]): number {
  let max = Number.NEGATIVE_INFINITY;
  for (const v of values) if (v > max) max = v;
  if (max === Number.NEGATIVE_INFINITY) return max;
  let total = 0;
  for (const v of values) total += Math.exp(v - max);
  return max + Math.log(total);
}
