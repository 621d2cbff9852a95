/**
 * The absolute 5xx limit (`maxErrorRatio`) as evidence rather than a count of bad windows, for
 * errors that may come in bursts (errors "clustered").
 *
 * One burst on a canary with a hundred requests a minute puts that minute well above a 5% limit,
 * though the canary's rate is no higher than stable's; three such minutes in a rollout rolled
 * back 3–13% of healthy canaries at 20 rps in the benchmark. Here each judged window (or pool of
 * windows) is one bet that the canary's 5xx ratio r is above the limit L:
 *
 *     factor(c) = 1 − c + c · r / L
 *
 * If the canary's 5xx rate is at most L, E[r] ≤ L, whether its errors are independent or come
 * in bursts of any size (with n = other requests + x, r = x / n is concave in x, so E[r] is at
 * most the rate), and E[factor] ≤ 1. The mixture over stakes (LIMIT_BETS) is then a nonnegative
 * supermartingale, and it reaches 1/α with probability at most α however often it is looked at:
 * the check fails when it does. A window above the limit without that evidence yet is
 * inconclusive (it cannot complete a step); it is not a failed check.
 *
 * A canary answering every request with a 5xx (r = 1, factor up to 1/L = 20 at 5%) is decided
 * after two windows (the default count of three failed windows took three).
 */
import { LIMIT_BETS } from './bursts.ts';
import { logMixture, logThreshold } from './sequential.ts';
import type { JudgeState } from './verdict.ts';

const KEY = { sums: 'limitLogWealth', peak: 'limitPeakLogE', id: 'limitBets' } as const;

export interface LimitStep {
  readonly logE: number;
  readonly peakLogE: number;
  readonly logThreshold: number;
  /** The canary's 5xx ratio is above the limit, with evidence 1/α. */
  readonly rejected: boolean;
  readonly state: JudgeState;
}

function readSums(prior: JudgeState | null): number[] {
  const sums = prior?.[KEY.sums];
  const fresh = LIMIT_BETS.logWeight.map(() => 0);
  if (prior?.[KEY.id] !== LIMIT_BETS.id || !Array.isArray(sums) || sums.length !== fresh.length) return fresh;
  const values: readonly unknown[] = sums;
  return values.every((v): v is number => typeof v === 'number' && Number.isFinite(v)) ? [...values] : fresh;
}

/** Folds one judged window (or pool of windows) with `requests` and `errors` into the limit's bets. */
export function errorLimitStep(
  prior: JudgeState | null,
  counts: { readonly requests: number; readonly errors: number },
  limit: number,
  alpha: number,
): LimitStep {
  const sums = readSums(prior);
  const stored = prior?.[KEY.id] === LIMIT_BETS.id ? prior?.[KEY.peak] : 0;
  const previousPeak = typeof stored === 'number' ? stored : 0;
  const threshold = logThreshold(alpha);
  if (limit === 0) {
    // A limit of 0 allows no 5xx at all: any error is evidence enough; there is nothing to bet on.
    const peakLogE = counts.errors > 0 ? Math.max(previousPeak, threshold) : previousPeak;
    const state = { [KEY.id]: LIMIT_BETS.id, [KEY.sums]: sums, [KEY.peak]: peakLogE };
    return { logE: peakLogE, peakLogE, logThreshold: threshold, rejected: peakLogE >= threshold, state };
  }
  LIMIT_BETS.addInterval(sums, limit, counts.errors, counts.requests - counts.errors);
  const logE = logMixture(sums, LIMIT_BETS);
  const peakLogE = Math.max(previousPeak, logE);
  return {
    logE,
    peakLogE,
    logThreshold: threshold,
    rejected: peakLogE >= threshold,
    state: { [KEY.id]: LIMIT_BETS.id, [KEY.sums]: sums, [KEY.peak]: peakLogE },
  };
}
