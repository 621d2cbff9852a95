/**
 * Weighted destination choice as the HttpRoute API defines it (Destination.weight): a share is
 * weight / Σ weights of the list; a single destination with a weight gets everything; when no
 * destination has a weight the traffic is split equally. Pure: the random source is passed in.
 */

/** What a choice needs of a destination (an HttpRoute Destination has this shape). */
export interface Weighted {
  readonly weight?: number | null | undefined;
}

/** Uniform numbers in [0, 1), like Math.random. */
export type RandomSource = () => number;

/**
 * Effective relative weights, in list order. When any destination carries a positive weight,
 * destinations without one (or with 0, indistinguishable in proto3) get nothing — the real API
 * rejects such a partially weighted list; when none does, all are equal.
 */
export function effectiveWeights(destinations: readonly Weighted[]): number[] {
  const raw = destinations.map((d) => {
    const w = d.weight;
    return typeof w === 'number' && Number.isFinite(w) && w > 0 ? w : 0;
  });
  return raw.some((w) => w > 0) ? raw : raw.map(() => 1);
}

/** Each destination's share of traffic (sums to 1 unless the list is empty). */
export function destinationShares(destinations: readonly Weighted[]): number[] {
  const weights = effectiveWeights(destinations);
  const total = weights.reduce((a, b) => a + b, 0);
  return weights.map((w) => (total > 0 ? w / total : 0));
}

/** Index picked for one draw in [0, 1) from cumulative `weights`; -1 when nothing can be picked. */
export function pickIndex(weights: readonly number[], draw: number): number {
  let total = 0;
  for (const w of weights) total += w;
  if (!(total > 0)) return -1;
  const target = Math.min(Math.max(draw, 0), 1) * total;
  let cumulative = 0;
  let lastPositive = -1;
  for (let i = 0; i < weights.length; i += 1) {
    const w = weights[i] ?? 0;
    if (w <= 0) continue;
    cumulative += w;
    lastPositive = i;
    if (target < cumulative) return i;
  }
  // draw = 1 or rounding at the top end: the last destination that can receive traffic.
  return lastPositive;
}

/** The destination one request goes to, or null for an empty list. */
export function chooseDestination<D extends Weighted>(
  destinations: readonly D[],
  random: RandomSource,
): D | null {
  if (destinations.length === 0) return null;
  if (destinations.length === 1) return destinations[0] ?? null;
  return destinations[pickIndex(effectiveWeights(destinations), random())] ?? null;
}

/** A small seeded generator (mulberry32) for reproducible runs and tests. */
export function seededRandom(seed: number): RandomSource {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
