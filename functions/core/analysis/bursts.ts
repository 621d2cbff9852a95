/**
 * The comparison that stays valid when errors come in bursts: one bounded bet per period.
 *
 * A retry storm, one bad client or one poisoned cache key turns a single cause into many 5xx on
 * the backend its requests went to. Such a cluster lands on the canary with probability at most
 * p0 (its share of requests) when the canary is no worse than stable, but all of its errors land
 * together, so counting them as independent coin flips (sequential.ts) overstates the evidence.
 *
 * Here each period (an analysis window, one minute by default) contributes one bet on the share
 * of its errors that landed on the canary, f = x / (x + y):
 *
 *     factor(c) = 1 − c + c · f / p0          (0 ≤ c < 1: the fraction of wealth staked)
 *
 * If every cluster lands on the canary with probability at most p0, whatever its size and
 * however clusters depend on each other, then given the period's cluster sizes
 * E[f] = Σ s_k·P(cluster k on canary) / Σ s_k ≤ p0, so E[factor] ≤ 1. Independent errors are
 * clusters of size one. The stake may depend on anything known before the period and on the
 * period's total error count x + y (a function of the cluster sizes), so the product of factors
 * over periods is a nonnegative supermartingale under every such canary; so is any mixture of
 * products, and by Ville's inequality the mixture reaches 1/α with probability at most α,
 * however often it is looked at. A better canary (f below p0 on average) loses wealth: the
 * comparison is one-sided.
 *
 * The price: one period can multiply the wealth by at most 1/p0 (all errors on the canary), so
 * a regression needs at least log(1/α) / log(1/p0) periods with errors (two at a 10% canary
 * share and α = 0.01), where the per-error test may decide within one. docs/analysis.md has
 * the argument and the measured cost.
 */
import type { Mixture } from './sequential.ts';

export interface BetGridOptions {
  /** Base stakes, each in (0, 1). */
  readonly stakes: readonly number[];
  /**
   * How the stake grows with the period's error count n: c(n) = 1 − (1 − c)^(n^growth).
   * 0 keeps it fixed; positive values stake more on periods with many errors, where a real
   * regression shows as f well above p0 and independent errors keep f close to p0.
   */
  readonly growth: number;
}

/** Smallest share of wealth a bet keeps back (any stake below 1 is valid; this one keeps sums finite). */
const MIN_KEEP = 1e-6;

export function betGrid(options: BetGridOptions): Mixture {
  const { stakes, growth } = options;
  if (stakes.length === 0 || !stakes.every((c) => c > 0 && c < 1)) {
    throw new RangeError('bet stakes must be numbers between 0 and 1 (exclusive)');
  }
  if (!(growth >= 0 && growth <= 1)) throw new RangeError('bet growth must be between 0 and 1');
  const logKeep = stakes.map((c) => Math.log1p(-c));
  const logWeight = stakes.map(() => -Math.log(stakes.length));
  return {
    id: `bets:${stakes.join(',')}/growth${growth}`,
    logWeight,
    addInterval(sums, p0, canaryErrors, stableErrors) {
      const n = canaryErrors + stableErrors;
      const ratio = canaryErrors / n / p0;
      const exponent = growth === 0 ? 1 : n ** growth;
      for (let j = 0; j < logKeep.length; j += 1) {
        // 1 − c(n) = (1 − c)^(n^growth); factor = (1 − c(n)) + c(n) · f / p0.
        // Staking at most 1 − MIN_KEEP keeps every sum finite (a stored JSON number).
        const keep = Math.max(MIN_KEEP, Math.exp((logKeep[j] ?? 0) * exponent));
        sums[j] = (sums[j] ?? 0) + Math.log(keep + (1 - keep) * ratio);
      }
    },
  };
}

/** The default bets: stakes from 5% to 95%, each growing with the square root of the period's error count. */
export const DEFAULT_BETS: Mixture = betGrid({
  stakes: [0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95],
  growth: 0.5,
});

/**
 * The same bets without growth, for the absolute 5xx limit (error-limit.ts): there the count is
 * of requests, which bursts of retries inflate together with the errors, so the stake does not
 * depend on it.
 */
export const LIMIT_BETS: Mixture = betGrid({
  stakes: [0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95],
  growth: 0,
});
