/**
 * Poisson variates: inversion by sequential search for small means, and Hörmann's PTRS
 * (transformed rejection with squeeze, 1993) for means of 10 and more, so a draw costs O(1)
 * even at 10^5 requests a minute.
 */
import type { Rng } from './prng.ts';

const LOG_FACTORIAL_TABLE: Float64Array = (() => {
  const table = new Float64Array(256);
  for (let k = 1; k < table.length; k += 1) table[k] = (table[k - 1] ?? 0) + Math.log(k);
  return table;
})();

/** log(k!) exactly from a table below 256, Stirling's series (error < 1e-15 relative) above. */
export function logFactorial(k: number): number {
  if (k < 256) return LOG_FACTORIAL_TABLE[k] ?? 0;
  const x = k + 1;
  const inv = 1 / x;
  const inv2 = inv * inv;
  return (
    (x - 0.5) * Math.log(x) -
    x +
    0.5 * Math.log(2 * Math.PI) +
    inv * (1 / 12 - inv2 * (1 / 360 - inv2 * (1 / 1260 - inv2 / 1680)))
  );
}

function smallPoisson(rng: Rng, mean: number): number {
  let k = 0;
  let p = Math.exp(-mean);
  let cumulative = p;
  const u = rng.next();
  while (u > cumulative && k < 1000) {
    k += 1;
    p *= mean / k;
    cumulative += p;
  }
  return k;
}

function ptrs(rng: Rng, mean: number): number {
  const sqrtMean = Math.sqrt(mean);
  const logMean = Math.log(mean);
  const b = 0.931 + 2.53 * sqrtMean;
  const a = -0.059 + 0.02483 * b;
  const invAlpha = 1.1239 + 1.1328 / (b - 3.4);
  const vr = 0.9277 - 3.6224 / (b - 2);
  for (;;) {
    const u = rng.next() - 0.5;
    const v = rng.next();
    const us = 0.5 - Math.abs(u);
    const k = Math.floor(((2 * a) / us + b) * u + mean + 0.43);
    if (us >= 0.07 && v <= vr) return k;
    if (k < 0 || (us < 0.013 && v > us)) continue;
    if (
      Math.log(v) + Math.log(invAlpha) - Math.log(a / (us * us) + b) <=
      -mean + k * logMean - logFactorial(k)
    ) {
      return k;
    }
  }
}

/** One Poisson(mean) variate; 0 for a mean of 0 or less. */
export function poisson(rng: Rng, mean: number): number {
  if (!(mean > 0)) return 0;
  return mean < 10 ? smallPoisson(rng, mean) : ptrs(rng, mean);
}
