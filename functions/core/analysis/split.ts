/**
 * Did the step's weights reach the data plane? The route was confirmed when the API said so,
 * but mesh clients pick a change up later, each at its own moment, and Google publishes no
 * bound. The metrics show what the clients did: the canary's share of the window's requests.
 * A share outside a wide binomial interval around the step's weight (z = 3.89, two-sided
 * p ≈ 1e-4, plus one point for rounding) says the window still holds traffic of another
 * split, so it is not judged. Windows without data on both backends cannot tell and are left
 * to the judge (which calls them inconclusive).
 */
import type { Measurement } from './verdict.ts';

export type SplitCheck =
  | { readonly kind: 'seen' }
  | { readonly kind: 'unknown' }
  | {
      readonly kind: 'notSeen';
      /** Canary share of the window's requests. */
      readonly share: number;
      /** The share the step's weights give the canary. */
      readonly expected: number;
      readonly requests: number;
      readonly tolerance: number;
    };

const Z = 3.89;
const ROUNDING = 0.01;

function requestsOf(reading: Measurement['canary']): number | null {
  return reading.kind === 'data' ? reading.requests : null;
}

export function checkSplit(m: Measurement): SplitCheck {
  const canary = requestsOf(m.canary);
  const stable = requestsOf(m.stable);
  if (canary === null && stable === null) return { kind: 'unknown' };
  const requests = (canary ?? 0) + (stable ?? 0);
  const weightTotal = m.weights.canary + m.weights.stable;
  if (requests === 0 || weightTotal === 0) return { kind: 'unknown' };
  const expected = m.weights.canary / weightTotal;
  const share = (canary ?? 0) / requests;
  const tolerance = Z * Math.sqrt((expected * (1 - expected)) / requests) + ROUNDING;
  if (Math.abs(share - expected) <= tolerance) return { kind: 'seen' };
  return { kind: 'notSeen', share, expected, requests, tolerance };
}

/** One line for history: what the window showed against what the route says. */
export function describeSplit(check: Extract<SplitCheck, { kind: 'notSeen' }>): string {
  const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
  return `canary had ${pct(check.share)} of ${check.requests} requests where the route gives it ${pct(check.expected)} (tolerance ±${pct(check.tolerance)})`;
}
